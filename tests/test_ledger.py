"""The ledger of API jobs: written when a job is sent, kept when jobs go; limits read it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from enhancer.models import ApiJob, AuditEvent, Job
from enhancer.quotas import team_use
from tests.conftest import run_tasks
from tests.factories import image_bytes, make_job
from tests.test_submit import post, upload


def limit(team, *, team_limit=None, member_limit=None):
    team.monthly_job_limit, team.member_monthly_job_limit = team_limit, member_limit
    team.save()


@pytest.mark.django_db
def test_a_ledger_row_outlives_its_job(team, admin_user_):
    job = make_job(team, admin_user_, status="succeeded", upstream_id="art-1")
    ApiJob.record(job, "art-1")
    ApiJob.record(job, "art-1")  # a task run twice writes one row
    assert ApiJob.objects.count() == 1
    job.delete()
    row = ApiJob.objects.get()
    assert row.job is None and row.team == team and row.created_by == admin_user_
    assert team_use(team).used == 1


@pytest.mark.django_db
def test_deleting_jobs_does_not_give_the_allowance_back(owner_client, team, admin_user_):
    limit(team, team_limit=1)
    job = make_job(team, admin_user_, status="succeeded", upstream_id="art-2")
    ApiJob.record(job, "art-2")
    owner_client.post(reverse("job_delete", args=[job.id]))
    assert not Job.objects.exists()

    response = post(owner_client, files=upload("p.png", image_bytes(40, 30)))
    assert response.status_code == 200
    assert "Your team has used 1 of its 1 jobs this month" in response.content.decode()


@pytest.mark.django_db
def test_a_lowered_limit_is_said_plainly(owner_client, team, admin_user_):
    for number in range(3):
        job = make_job(team, admin_user_, status="succeeded")
        ApiJob.record(job, f"art-{number}")
    limit(team, member_limit=2)
    html = post(owner_client, files=upload("p.png", image_bytes(40, 30))).content.decode()
    assert "You have sent 3 jobs this month, more than your limit of 2" in html
    assert "3 of your 2" not in html
    usage = owner_client.get(reverse("usage")).content.decode()
    assert "more than your limit of <strong>2</strong>" in usage and "3 of 2" not in usage


@pytest.mark.django_db
def test_cancel_and_delete_are_in_the_activity_log(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing", name="boat.png")
    owner_client.post(reverse("job_cancel", args=[job.id]))
    owner_client.post(reverse("job_delete", args=[job.id]))
    actions = list(AuditEvent.objects.filter(team=team).values_list("action", "detail"))
    assert [action for action, _ in actions] == ["job_deleted", "job_canceled"]
    assert all("“boat.png”" in detail for _, detail in actions)
    page = owner_client.get(reverse("team_activity")).content.decode()
    assert "Enhancement deleted" in page and "Enhancement canceled" in page


@pytest.mark.django_db(transaction=True)
def test_submitting_writes_the_ledger_row(site, owner_client):
    """Through the real client and the built-in engine: sending the job writes one row,
    and deleting the finished job keeps it."""
    post(owner_client, files=upload("p.png", image_bytes(48, 32)))
    run_tasks()
    job = Job.objects.get()
    assert job.status == "succeeded", job.error_message
    row = ApiJob.objects.get()
    assert (row.job, row.upstream_id, row.provider) == (job, job.upstream_id, "builtin")
    assert (row.scale, row.width, row.height) == (job.scale, 48, 32)
    owner_client.post(reverse("job_delete", args=[job.id]))
    assert ApiJob.objects.get().job is None
