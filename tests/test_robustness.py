"""Nothing is lost and nothing 500s: jobs always end, odd input gets a plain answer."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from enhancer.engine.models import Artwork, EngineKey
from enhancer.models import Job, ShareLink, Team
from enhancer.results import make_thumbnail
from enhancer.sweep import sweep
from enhancer.tasks import poll_job, submit_job
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def test_a_queued_cloud_job_whose_key_was_removed_fails_with_a_reason(team, admin_user_):
    job = make_job(team, admin_user_, provider="cloud", status="submitting")  # team on the engine
    submit_job.call(str(job.id))
    job.refresh_from_db()
    assert job.status == "failed"
    assert "no API key" in job.error_message


def test_polling_a_job_whose_api_address_is_unusable_fails_it(team, admin_user_):
    Team.objects.filter(pk=team.pk).update(api_base_url="ftp://api.example.com")
    team.refresh_from_db()
    team.set_api_key("tk_live_0123456789")
    team.save()
    job = make_job(
        team,
        admin_user_,
        provider="cloud",
        status="processing",
        upstream_id="abc",
        submitted_at=timezone.now(),
    )
    poll_job.call(str(job.id), 1)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "cannot be used" in job.error_message


def test_the_sweep_fails_jobs_and_artworks_left_behind(team, admin_user_, settings):
    old = timezone.now() - timedelta(minutes=settings.DETAILER_JOB_MAX_AGE_MINUTES + 20)
    stuck = make_job(team, admin_user_, status="submitting")
    Job.objects.filter(pk=stuck.pk).update(created_at=old)
    recent = make_job(team, admin_user_, status="queued")
    key, _ = EngineKey.generate("k")
    artwork = Artwork.objects.create(
        key=key, parameters={}, status="processing", public_base_url="http://x/"
    )
    Artwork.objects.filter(pk=artwork.pk).update(created_at=timezone.now() - timedelta(hours=2))

    assert sweep() == (1, 1)

    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert stuck.status == "failed" and "Run again" in stuck.error_message
    assert recent.status == "queued"
    assert Artwork.objects.get(pk=artwork.pk).status == "failed"


@pytest.mark.parametrize("mode", ["P", "1", "I;16"])
def test_thumbnails_of_any_png_mode(mode):
    image = Image.new(mode, (1000, 980))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    with Image.open(io.BytesIO(buffer.getvalue())) as opened:
        thumbnail = Image.open(io.BytesIO(make_thumbnail(opened)))
    assert thumbnail.format == "WEBP" and max(thumbnail.size) <= 480


def test_an_impossible_since_is_ignored_not_a_500(owner_client):
    response = owner_client.get(reverse("job_updates"), {"since": "2024-13-45T00:00:00+00:00"})
    assert response.status_code in (200, 286)


def test_a_huge_team_id_is_a_404(owner_client):
    assert owner_client.post(f"/teams/{10**30}/switch/").status_code == 404


def test_a_share_link_with_an_unknown_expiry_expires_soon(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="succeeded")
    owner_client.post(reverse("share_job", args=[job.id]), {"expires_in_days": "5"})
    link = ShareLink.objects.get()
    assert link.expires_at is not None
    assert link.expires_at - timezone.now() < timedelta(days=2)
