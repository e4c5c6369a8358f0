"""A batch's time left, from the pace of the jobs already finished."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from enhancer.models import Batch, Job
from enhancer.views.pages import batch_progress
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def test_time_left_follows_the_pace_of_the_finished_jobs(owner_client, team, admin_user_):
    batch = Batch.objects.create(team=team, created_by=admin_user_)
    start = timezone.now() - timedelta(minutes=4)
    jobs = [make_job(team, admin_user_, batch=batch) for _ in range(4)]
    Job.objects.filter(batch=batch).update(created_at=start)
    assert batch_progress(batch.jobs.all())["time_left"] == ""  # nothing finished: no guess

    # Two done in 4 minutes: two left take about 4 more.
    for job in jobs[:2]:
        Job.objects.filter(pk=job.pk).update(
            status="succeeded", finished_at=start + timedelta(minutes=4)
        )
    assert batch_progress(batch.jobs.all())["time_left"] == "about 4 minutes left"
    page = owner_client.get(reverse("batch_detail", args=[batch.id])).content.decode()
    assert "2 of 4</strong> done · <span data-time-left>about 4 minutes left" in page

    Job.objects.filter(pk=jobs[2].pk).update(
        status="failed", finished_at=start + timedelta(seconds=90)
    )
    assert batch_progress(batch.jobs.all())["time_left"] == "about 1 minute left"
    Job.objects.filter(pk=jobs[3].pk).update(status="succeeded", finished_at=timezone.now())
    assert batch_progress(batch.jobs.all())["time_left"] == ""  # all finished
