"""Workers keep a heartbeat; the tasks of a dead worker are taken back and run again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enhancer.dispatch import dispatch
from enhancer.engine.models import Artwork as EngineArtwork
from enhancer.engine.tasks import deliver_webhook
from enhancer.models import WorkerHeartbeat
from enhancer.workers import HeartbeatWorker, reap_dead_tasks
from tests.conftest import run_tasks
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def running(task_result, worker_id: str, seconds_ago: float) -> DBTaskResult:
    DBTaskResult.objects.filter(pk=task_result.id).update(
        status="RUNNING",
        started_at=timezone.now() - timedelta(seconds=seconds_ago),
        worker_ids=[worker_id],
    )
    return DBTaskResult.objects.get(pk=task_result.id)


def heartbeat(worker_id: str, seconds_ago: float) -> None:
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        queues=",default,",
        last_seen=timezone.now() - timedelta(seconds=seconds_ago),
    )


def test_a_dead_workers_task_is_taken_back_and_enqueued_again():
    heartbeat("dead", 45)
    stuck = running(deliver_webhook.enqueue("a1", 3), "dead", 50)

    assert reap_dead_tasks() == 1

    stuck.refresh_from_db()
    assert stuck.status == "FAILED"
    assert stuck.exception_class_path == "enhancer.workers.WorkerDied"
    again = DBTaskResult.objects.get(status="READY")
    assert again.task_path == stuck.task_path
    assert again.args_kwargs == {"args": ["a1", 3], "kwargs": {}}
    assert reap_dead_tasks() == 0  # taken back once only


def test_live_and_unknown_workers_keep_their_tasks():
    heartbeat("alive", 2)
    running(deliver_webhook.enqueue("a1", 1), "alive", 600)
    # A plain db_worker keeps no heartbeat: its task is left alone for ten minutes.
    running(deliver_webhook.enqueue("a2", 1), "plain-db-worker", 120)
    # A task just claimed by a worker that has not beaten yet.
    running(deliver_webhook.enqueue("a3", 1), "starting", 5)

    assert reap_dead_tasks() == 0
    assert DBTaskResult.objects.filter(status="RUNNING").count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_worker_beats_while_it_runs():
    worker = HeartbeatWorker(
        queue_names=["default", "engine"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="beating",
        excluded_queue_names=[],
    )
    worker.run()
    beat = WorkerHeartbeat.objects.get(worker_id="beating")
    assert beat.queue_names == ["default", "engine"]
    assert timezone.now() - beat.last_seen < timedelta(seconds=10)


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_engine_worker_died_mid_job_is_done_once(site, team, admin_user_):
    """kill -9 of the engine worker while it processes: the job is carried on, delivered once."""
    job = make_job(team, admin_user_)
    dispatch()
    run_tasks(queues=["default"], include_deferred=False, rounds=1)  # sent to the engine
    artwork = EngineArtwork.objects.get()
    process = DBTaskResult.objects.get(task_path="enhancer.engine.tasks.process_artwork")
    # The engine worker claimed the task and began, then died: its heartbeat stopped.
    heartbeat("engine-worker", 40)
    running(process, "engine-worker", 40)
    EngineArtwork.objects.filter(pk=artwork.pk).update(status="processing")

    assert reap_dead_tasks() == 1
    run_tasks(rounds=20)

    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    # The same artwork, processed again; never sent twice (the engine forgets it once collected).
    assert job.upstream_id == str(artwork.pk) and job.attempts == 1
    assert not EngineArtwork.objects.exclude(pk=artwork.pk).exists()
