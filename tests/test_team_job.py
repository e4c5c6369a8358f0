"""The job views' one statement for a job of the team (`team_job`): the very instance the
queryset `Job.objects.select_related("created_by", "batch").get(team=…, pk=…)` gives."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enhancer.models import Batch, Job
from enhancer.views.jobs import team_job
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def values(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def assert_same_as_the_queryset(job: Job) -> None:
    expected = Job.objects.select_related("created_by", "batch").get(team=job.team, pk=job.pk)
    with CaptureQueriesContext(connection) as queries:
        got = team_job(job.team_id, job.pk)
        assert values(got) == values(expected)
        # The sender and the batch come with it: no further query.
        sender, batch = got.created_by, got.batch
    assert len(queries) == 1
    assert (values(sender) if sender else None) == (
        values(expected.created_by) if expected.created_by else None
    )
    assert (values(batch) if batch else None) == (
        values(expected.batch) if expected.batch else None
    )
    assert got._state.adding is False and got._state.db == "default"


def test_a_job_with_its_sender_and_batch(team, admin_user_):
    batch = Batch.objects.create(team=team, created_by=admin_user_)
    job = make_job(team, admin_user_, status="succeeded", batch=batch, title="Harbour", seed=7)
    Job.objects.filter(pk=job.pk).update(check_warnings=["Colours moved."], tile_count=6)
    assert_same_as_the_queryset(job)


def test_a_job_whose_sender_is_gone_and_without_a_batch(team, admin_user_, teammate):
    job = make_job(team, teammate, status="failed", error_message="No.")
    teammate.delete()  # the job stays, its sender set to none
    job.refresh_from_db()
    assert job.created_by_id is None
    assert_same_as_the_queryset(job)


def test_no_job_of_another_team_no_tile_no_such_id(team, admin_user_, outsider):
    theirs = make_job(outsider.teams.get(), outsider)
    parent = make_job(team, admin_user_, status="processing")
    tile = make_job(team, admin_user_, status="processing", parent=parent)
    assert team_job(team.pk, theirs.pk) is None
    assert team_job(team.pk, tile.pk) is None
    assert team_job(team.pk, uuid.uuid4()) is None
    assert team_job(team.pk, parent.pk) is not None
