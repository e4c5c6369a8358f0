"""Run again: a new version of the same stored original, linked to the earlier job."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from enhancer.models import Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db

SETTINGS = {"scale": "4", "details": "1", "modification": "1", "output_format": "png"}


def test_run_again_reuses_the_stored_original(owner_client, team, admin_user_):
    earlier = make_job(team, admin_user_, status="failed", name="harbour.png")
    page = owner_client.get(reverse("enhance_new") + f"?from={earlier.id}").content.decode()
    assert "Using the same image again" in page and "harbour.png" in page
    assert f'value="{earlier.id}"' in page

    response = owner_client.post(reverse("enhance_new"), {**SETTINGS, "again": earlier.id})
    new = Job.objects.exclude(pk=earlier.pk).get()
    assert response.status_code == 302 and response.url == reverse("job_detail", args=[new.id])
    assert new.original.name == earlier.original.name  # shared, not copied
    assert new.run_again_of == earlier
    assert (new.scale, new.details, new.original_name) == (4, 1, "harbour.png")

    page = owner_client.get(reverse("job_detail", args=[new.id])).content.decode()
    assert "Versions of this image" in page
    assert reverse("job_detail", args=[earlier.id]) in page


def test_deleting_a_version_keeps_the_original_while_another_uses_it(
    owner_client, team, admin_user_
):
    earlier = make_job(team, admin_user_, status="succeeded")
    owner_client.post(reverse("enhance_new"), {**SETTINGS, "again": earlier.id})
    new = Job.objects.exclude(pk=earlier.pk).get()
    name = earlier.original.name

    owner_client.post(reverse("job_delete", args=[earlier.id]))
    assert default_storage.exists(name)
    assert not Job.objects.filter(pk=earlier.pk).exists()

    owner_client.post(reverse("job_delete", args=[new.id]))
    assert not default_storage.exists(name)


def test_a_chosen_file_wins_over_the_earlier_image(owner_client, team, admin_user_):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import image_bytes

    earlier = make_job(team, admin_user_, status="succeeded")
    upload = SimpleUploadedFile("other.png", image_bytes(40, 30), content_type="image/png")
    owner_client.post(reverse("enhance_new"), {**SETTINGS, "again": earlier.id, "images": upload})
    new = Job.objects.exclude(pk=earlier.pk).get()
    assert new.original.name != earlier.original.name
    assert new.original_name == "other.png" and new.run_again_of is None


def test_run_again_of_another_teams_job_is_404(outsider_client, team, admin_user_):
    earlier = make_job(team, admin_user_, status="succeeded")
    response = outsider_client.post(reverse("enhance_new"), {**SETTINGS, "again": earlier.id})
    assert response.status_code == 404
