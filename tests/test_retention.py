"""Optional retention: old results and originals are deleted, the job records stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from enhancer.models import Job
from enhancer.retention import expire_files, storage_used
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def aged(job: Job, days: int) -> Job:
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=days))
    job.refresh_from_db()
    return job


def test_retention_is_off_by_default(team, admin_user_, capsys):
    job = aged(make_job(team, admin_user_, status="succeeded"), 4000)
    assert expire_files().results == 0
    call_command("expire_files")
    assert "Retention is off" in capsys.readouterr().out
    job.refresh_from_db()
    assert job.result and default_storage.exists(job.result.name)


def test_old_results_are_deleted_and_the_job_stays(settings, team, admin_user_, owner_client):
    settings.DETAILER_DELETE_RESULTS_AFTER_DAYS = 30
    old = aged(make_job(team, admin_user_, status="succeeded", name="old.png"), 31)
    recent = aged(make_job(team, admin_user_, status="succeeded", name="new.png"), 29)
    running = make_job(team, admin_user_, status="processing")
    old_result = old.result.name

    assert expire_files().results == 1
    assert expire_files().results == 0  # a second pass finds nothing more

    old.refresh_from_db()
    assert old.status == "succeeded" and not old.result and old.files_deleted_at
    assert old.original and default_storage.exists(old.original.name)  # originals: not set
    assert not default_storage.exists(old_result)
    recent.refresh_from_db()
    assert recent.result and default_storage.exists(recent.result.name)
    running.refresh_from_db()
    assert running.original

    page = owner_client.get(reverse("job_detail", args=[old.id])).content.decode()
    assert "The result was deleted on" in page
    assert reverse("job_result", args=[old.id]) not in page
    assert "Share outside the team" not in page  # nothing left to share
    assert owner_client.get(reverse("job_result", args=[old.id])).status_code == 404
    assert owner_client.get(reverse("job_thumbnail", args=[old.id])).status_code == 200
    assert owner_client.get(reverse("dashboard")).status_code == 200


def test_old_originals_are_deleted_too_when_asked(settings, team, admin_user_, owner_client):
    settings.DETAILER_DELETE_RESULTS_AFTER_DAYS = 7
    settings.DETAILER_DELETE_ORIGINALS_AFTER_DAYS = 7
    job = aged(make_job(team, admin_user_, status="failed"), 8)
    done = aged(make_job(team, admin_user_, status="succeeded"), 8)
    call_command("expire_files")
    job.refresh_from_db()
    done.refresh_from_db()
    assert not job.original and not done.original and not done.result
    page = owner_client.get(reverse("job_detail", args=[done.id])).content.decode()
    assert "The result and the original were deleted on" in page
    dashboard = owner_client.get(reverse("dashboard")).content.decode()
    assert reverse("job_thumbnail", args=[done.id]) not in dashboard


def test_the_usage_page_shows_the_storage_used(settings, team, admin_user_, owner_client):
    first = make_job(team, admin_user_, status="succeeded")
    Job.objects.filter(pk=first.pk).update(original_bytes=1_000_000, result_bytes=3_000_000)
    second = make_job(team, admin_user_, status="succeeded")
    Job.objects.filter(pk=second.pk).update(
        original_bytes=500_000, result_bytes=2_000_000, result=""
    )
    use = storage_used(team)
    assert (use.originals, use.results, use.total) == (1_500_000, 3_000_000, 4_500_000)
    # The page loads the section after itself (a sum over every job); ?storage=1 without
    # JavaScript.
    page = owner_client.get(reverse("usage")).content.decode()
    assert "images take <strong>" not in page and reverse("usage_storage") in page
    part = owner_client.get(reverse("usage_storage"), headers={"HX-Request": "true"})
    assert "The team's images take <strong>4.3\xa0MB</strong>" in part.content.decode()
    assert "<html" not in part.content.decode()
    page = owner_client.get(reverse("usage"), {"storage": "1"}).content.decode()
    assert "The team's images take <strong>4.3\xa0MB</strong>" in page
    assert "Images are kept until someone deletes their job." in page
    settings.DETAILER_DELETE_RESULTS_AFTER_DAYS = 90
    part = owner_client.get(reverse("usage_storage"), headers={"HX-Request": "true"})
    assert "results 90 days" in part.content.decode()
    assert owner_client.get(reverse("usage_storage")).url.endswith("?storage=1#storage-heading")


def test_the_storage_section_checks_team(team, admin_user_, outsider_client, client):
    job = make_job(team, admin_user_, status="succeeded")
    Job.objects.filter(pk=job.pk).update(original_bytes=7_000_000)
    htmx = {"HX-Request": "true"}
    html = outsider_client.get(reverse("usage_storage"), headers=htmx).content.decode()
    assert "6.7" not in html
    assert client.get(reverse("usage_storage"), headers=htmx).status_code == 302  # log in


def test_storage_used_counts_only_the_own_team(team, admin_user_, outsider):
    job = make_job(team, admin_user_, status="succeeded")
    Job.objects.filter(pk=job.pk).update(original_bytes=10, result_bytes=20)
    assert storage_used(outsider.memberships.get().team).total == 0
    assert storage_used(team).total == 30


def test_a_checked_upload_records_its_size(owner_client, team):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from enhancer.intake import prepare_job
    from tests.factories import image_bytes

    data = image_bytes(40, 30)
    owner_client.post(
        reverse("enhance_new"),
        {
            "scale": 2,
            "details": 2,
            "modification": 2,
            "output_format": "png",
            "images": [SimpleUploadedFile("a.png", data)],
        },
    )
    prepare_job.call(str(Job.objects.get().pk))  # the worker stores the checked original
    job = Job.objects.get()
    assert job.original_bytes == job.original.size
