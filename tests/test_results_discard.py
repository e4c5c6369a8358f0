"""A collection that lost the race deletes its own copy, never the winner's file."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from enhancer.models import Job
from enhancer.results import StoredResult
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def test_a_name_the_job_took_is_kept_and_a_stray_copy_goes(team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    shared = default_storage.save(f"results/{job.id}-2x.png", ContentFile(b"winner"))
    thumb = default_storage.save(f"thumbnails/{job.id}.webp", ContentFile(b"t"))
    Job.objects.filter(pk=job.pk).update(status="succeeded", result=shared, thumbnail=thumb)
    # The other collection was given the same free name (and wrote over it), then lost.
    StoredResult(shared, thumb, 60, 40, 6).discard()
    assert default_storage.exists(shared) and default_storage.exists(thumb)

    stray = default_storage.save(f"results/{job.id}-2x.png", ContentFile(b"loser"))
    assert stray != shared
    StoredResult(stray, "", 60, 40, 5).discard()
    assert not default_storage.exists(stray)
