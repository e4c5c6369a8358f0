"""Our own capacity makes work wait, never fail; teams share the engine fairly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enhancer.dispatch import dispatch, engine_capacity
from enhancer.engine.models import EngineKey
from enhancer.models import Job, Team, WorkerHeartbeat
from enhancer.teams import create_team
from tests.conftest import make_user, run_tasks
from tests.factories import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_team(db) -> Team:
    return create_team(make_user("carol"), "Studio Carol")


def queued(team, user, count: int, *, minutes_ago: int = 0, **fields) -> list[Job]:
    jobs = [make_job(team, user, **fields) for _ in range(count)]
    Job.objects.filter(pk__in=[j.pk for j in jobs]).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return jobs


def statuses(jobs: list[Job]) -> list[str]:
    return [Job.objects.get(pk=job.pk).status for job in jobs]


def test_jobs_wait_in_our_queue_until_the_engine_has_room(
    team, admin_user_, settings, django_capture_on_commit_callbacks
):
    settings.DETAILER_ENGINE_CONCURRENCY = 2
    jobs = queued(team, admin_user_, 5)

    with django_capture_on_commit_callbacks(execute=True):
        sent = dispatch()

    assert len(sent) == 2
    assert sorted(statuses(jobs)) == ["queued"] * 3 + ["submitting"] * 2
    assert all(job.dispatched_at for job in sent)
    assert DBTaskResult.objects.filter(task_path="enhancer.tasks.submit_job").count() == 2
    assert dispatch() == []  # still full: nothing more leaves, nothing fails


def test_a_finished_job_hands_its_place_to_the_next(
    team, admin_user_, settings, django_capture_on_commit_callbacks
):
    from enhancer.tasks import fail

    settings.DETAILER_ENGINE_CONCURRENCY = 1
    first, second = queued(team, admin_user_, 2)
    dispatch()
    first.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        fail(first, "Broken on purpose.")
    assert statuses([first, second]) == ["failed", "submitting"]


def test_a_single_photo_of_another_team_goes_before_a_big_batch(
    team, admin_user_, other_team, settings
):
    settings.DETAILER_ENGINE_CONCURRENCY = 2
    queued(team, admin_user_, 50, minutes_ago=5)
    dispatch()  # two of the batch are out, 48 wait
    single = make_job(other_team, other_team.memberships.get().user)

    Job.objects.filter(team=team, status="submitting").update(status="succeeded")
    sent = dispatch()

    # One place each: the team with nothing in flight first, although its job is the newest.
    assert [job.team_id for job in sent].count(other_team.pk) == 1
    assert Job.objects.get(pk=single.pk).status == "submitting"
    assert Job.objects.filter(team=team, status="submitting").count() == 1


def test_the_batch_keeps_its_order(team, admin_user_, settings):
    settings.DETAILER_ENGINE_CONCURRENCY = 3
    jobs = [make_job(team, admin_user_) for _ in range(6)]
    for minutes, job in enumerate(reversed(jobs)):
        Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    sent = dispatch()
    assert {job.pk for job in sent} == {job.pk for job in jobs[:3]}  # the oldest three


def test_each_cloud_team_has_its_own_places(
    team, admin_user_, other_team, settings, django_capture_on_commit_callbacks
):
    settings.DETAILER_CLOUD_CONCURRENCY = 2
    settings.DETAILER_ENGINE_CONCURRENCY = 1
    mine = queued(team, admin_user_, 3, provider="cloud")
    theirs = queued(other_team, admin_user_, 3, provider="cloud")
    engine = queued(team, admin_user_, 2)

    with django_capture_on_commit_callbacks(execute=True):
        dispatch()

    assert statuses(mine).count("submitting") == 2
    assert statuses(theirs).count("submitting") == 2
    assert statuses(engine).count("submitting") == 1
    # Cloud calls go to their own queue, so a hanging cloud never holds up engine work.
    queues = dict(
        DBTaskResult.objects.filter(task_path="enhancer.tasks.submit_job")
        .values_list("args_kwargs__args__0", "queue_name")
        .distinct()
    )
    assert {queues[str(job.pk)] for job in mine if str(job.pk) in queues} == {"cloud"}
    assert {queues[str(job.pk)] for job in engine if str(job.pk) in queues} == {"default"}


def test_the_engine_capacity_follows_its_live_workers(settings):
    settings.DETAILER_ENGINE_CONCURRENCY = 0
    settings.DETAILER_ENGINE_MAX_IN_FLIGHT = 8
    assert engine_capacity() == 2  # no worker seen yet: still moves
    for n in range(3):
        WorkerHeartbeat.objects.create(worker_id=f"e{n}", queues=",engine,")
    WorkerHeartbeat.objects.create(
        worker_id="dead", queues=",engine,", last_seen=timezone.now() - timedelta(minutes=5)
    )
    assert engine_capacity() == 6
    settings.DETAILER_ENGINE_MAX_IN_FLIGHT = 4
    assert engine_capacity() == 4  # never more than the engine's own cap


def test_a_long_queued_batch_never_ages_out(team, admin_user_, settings):
    from enhancer.sweep import sweep

    settings.DETAILER_ENGINE_CONCURRENCY = 1
    waiting = queued(team, admin_user_, 2, minutes_ago=600)
    assert sweep() == (0, 0)
    assert statuses(waiting) == ["queued", "queued"]


@pytest.mark.django_db(transaction=True)
def test_our_engines_busy_answer_is_waited_out_not_failed(site, team, admin_user_, settings):
    """The product sends more than the engine's key allows: 429s are retried, all succeed."""
    from enhancer.engine.auth import default_key

    default_key()
    EngineKey.objects.update(max_in_flight=1)
    settings.DETAILER_ENGINE_CONCURRENCY = 4
    jobs = queued(team, admin_user_, 4)

    dispatch()  # as a worker's heartbeat would; each finished job then dispatches the next
    run_tasks(rounds=60)

    assert statuses(jobs) == ["succeeded"] * 4
    refused = [job for job in Job.objects.filter(pk__in=[j.pk for j in jobs]) if job.attempts > 1]
    assert refused, "the engine's cap of 1 should have answered 429 at least once"
