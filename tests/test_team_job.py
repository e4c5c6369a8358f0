"""The job views' one statement for a job of the team (`team_job`): the very instance the
queryset `Job.objects.select_related("created_by", "batch").get(team=…, pk=…)` gives."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enhancer.models import Batch, Job, ShareLink
from enhancer.views.jobs import Related, team_job
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def values(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def assert_same_as_the_queryset(job: Job) -> None:
    expected = Job.objects.select_related("created_by", "batch").get(team=job.team, pk=job.pk)
    with CaptureQueriesContext(connection) as queries:
        got, related = team_job(job.team_id, job.pk)
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
    assert related == Related(versions=False, links=False)  # not asked for


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


def related(job: Job) -> Related:
    return team_job(job.team_id, job.pk, related=True)[1]


def test_whether_it_has_versions_and_share_links(team, admin_user_, outsider):
    alone = make_job(team, admin_user_, status="succeeded", original_sha256="")
    assert related(alone) == Related(versions=False, links=False)
    # Run again: the same stored original.
    first = make_job(team, admin_user_, status="succeeded", original_sha256="")
    again = make_job(team, admin_user_, status="succeeded", original_sha256="")
    Job.objects.filter(pk=again.pk).update(original=first.original.name)
    assert related(first) == Related(versions=True, links=False)
    # The same file sent again: the same hash, another stored original.
    sent = make_job(team, admin_user_, status="succeeded", original_sha256="ab" * 32)
    resent = make_job(team, admin_user_, status="succeeded", original_sha256="ab" * 32)
    assert related(resent).versions
    # Neither another team's copy, nor a tile of its own, nor an empty hash is a version.
    make_job(outsider.teams.get(), outsider, original_sha256="cd" * 32)
    mine = make_job(team, admin_user_, status="succeeded", original_sha256="cd" * 32)
    make_job(team, admin_user_, status="processing", parent=mine, original_sha256="cd" * 32)
    assert related(mine) == Related(versions=False, links=False)
    ShareLink.create(job=sent, created_by=admin_user_)
    assert related(sent) == Related(versions=True, links=True)
