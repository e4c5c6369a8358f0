"""The gallery's selection: several jobs as one ZIP or deleted together; versions grouped."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from enhancer.models import AuditEvent, Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def test_selected_jobs_download_as_one_zip(owner_client, team, admin_user_):
    one = make_job(team, admin_user_, status="succeeded", name="one.png")
    two = make_job(team, admin_user_, status="succeeded", name="two.png")
    make_job(team, admin_user_, status="succeeded", name="left-out.png")
    response = owner_client.post(reverse("gallery_download"), {"selected": [one.id, two.id]})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["one-2x.png", "two-2x.png"]


def test_another_teams_jobs_are_never_selected(outsider_client, team, admin_user_):
    job = make_job(team, admin_user_, status="succeeded")
    from enhancer.models import Membership, Team

    outsider = outsider_client.get(reverse("dashboard")).wsgi_request.user
    other = Team.objects.create(name="Other")
    Membership.objects.create(team=other, user=outsider, role="admin")
    response = outsider_client.post(reverse("gallery_download"), {"selected": [job.id]})
    assert response.status_code == 302
    outsider_client.post(reverse("gallery_delete"), {"selected": [job.id], "confirm": "yes"})
    assert Job.objects.filter(pk=job.pk).exists()


def test_selected_jobs_are_deleted_after_a_confirmation(owner_client, team, admin_user_):
    jobs = [make_job(team, admin_user_, status="succeeded", name=f"{n}.png") for n in "ab"]
    ids = [job.id for job in jobs]
    page = owner_client.post(reverse("gallery_delete"), {"selected": ids})
    assert page.status_code == 200 and "Delete 2 enhancements?" in page.content.decode()
    assert Job.objects.count() == 2
    owner_client.post(reverse("gallery_delete"), {"selected": ids, "confirm": "yes"})
    assert Job.objects.count() == 0
    assert AuditEvent.objects.filter(action="job_deleted").count() == 2


def test_versions_are_grouped_in_the_unfiltered_gallery(owner_client, team, admin_user_):
    first = make_job(team, admin_user_, status="succeeded", name="boat.png")
    owner_client.post(
        reverse("enhance_new"),
        {"scale": 4, "details": 1, "modification": 1, "output_format": "png", "again": first.id},
    )
    html = owner_client.get(reverse("gallery")).content.decode()
    assert html.count('class="job-title"') == 1 and "2 versions of this image" in html
    filtered = owner_client.get(reverse("gallery") + "?q=boat").content.decode()
    assert filtered.count('class="job-title"') == 2
