"""Task workers that prove they are alive, and take back the tasks of those that died.

django-tasks-db's `db_worker` claims a task by marking it RUNNING and has no heartbeat or lease:
a worker killed mid-task (OOM killer, `kill -9`, a lost machine) leaves its task RUNNING for ever
and the job behind it "Working" for hours. `manage.py worker` runs `HeartbeatWorker`, the same
worker plus a thread that

- refreshes the worker's `WorkerHeartbeat` row every `HEARTBEAT_EVERY` seconds;
- takes back every RUNNING task whose worker has not been seen for `LEASE` (`reap_dead_tasks`):
  the task is marked failed ("worker died") and enqueued again. Every task of this project may
  run twice safely (jobs and artworks only move forward through conditional UPDATEs), so a
  re-run carries the job on from where it stands and never delivers it twice;
- hands queued jobs to the APIs (`enhancer.dispatch`), as a safety net under the calls made
  whenever a job is created or finishes.

Every worker does the reaping, so nothing depends on `serve` or on any one host.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from enhancer.models.workers import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_EVERY = 5.0
# A worker not seen for this long is dead: several missed heartbeats, so a busy database or a
# long garbage collection is not mistaken for a death.
LEASE = timedelta(seconds=30)
# A queue with no live worker for this long makes /healthz answer 503.
UNWORKED_AFTER = timedelta(minutes=1)
# RUNNING tasks of workers that never kept a heartbeat (a plain `db_worker`) are left alone
# this long, since such a worker may simply be busy.
UNKNOWN_WORKER_GRACE = timedelta(minutes=10)
FORGET_AFTER = timedelta(days=1)


def queue_names() -> list[str]:
    return list(settings.TASKS["default"]["QUEUES"])


class WorkerDied(Exception):
    """Recorded as the exception of a task whose worker stopped while running it."""


class HeartbeatWorker(Worker):
    def run(self) -> None:
        self.beat()
        stop = threading.Event()
        thread = threading.Thread(
            target=self.keep_beating, args=(stop,), name="heartbeat", daemon=True
        )
        thread.start()
        try:
            super().run()
        finally:
            stop.set()
            thread.join(timeout=HEARTBEAT_EVERY * 2)

    def beat(self) -> None:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "queues": WorkerHeartbeat.queues_field(self.queue_names),
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "last_seen": timezone.now(),
            },
        )

    def keep_beating(self, stop: threading.Event) -> None:
        from enhancer.dispatch import dispatch

        while not stop.wait(HEARTBEAT_EVERY):
            try:
                self.beat()
                reap_dead_tasks()
                dispatch()
            except Exception:  # a busy or restarting database: try again next beat
                logger.exception("Worker %s: heartbeat round failed", self.worker_id)
            finally:
                # This thread has its own connection; never leave it open between beats.
                connection.close()


def live_worker_ids(now=None) -> set[str]:
    now = now or timezone.now()
    return set(
        WorkerHeartbeat.objects.filter(last_seen__gte=now - LEASE).values_list(
            "worker_id", flat=True
        )
    )


def reap_dead_tasks() -> int:
    """Take back the RUNNING tasks whose worker is dead, and enqueue each again. Returns how many.

    Safe from several workers at once: a task is taken back by one conditional UPDATE, and only
    the caller whose UPDATE changed it enqueues the new run.
    """
    now = timezone.now()
    running = list(
        DBTaskResult.objects.filter(status="RUNNING", started_at__lt=now - LEASE).only(
            "id", "worker_ids", "started_at", "queue_name", "priority", "args_kwargs", "task_path"
        )
    )
    if not running:
        return 0
    alive = live_worker_ids(now)
    known = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
    reaped = 0
    for result in running:
        worker = result.worker_ids[-1] if result.worker_ids else ""
        if worker in alive:
            continue
        if worker not in known and result.started_at > now - UNKNOWN_WORKER_GRACE:
            continue
        with transaction.atomic():
            taken = DBTaskResult.objects.filter(pk=result.pk, status="RUNNING").update(
                status="FAILED",
                finished_at=now,
                exception_class_path=f"{WorkerDied.__module__}.{WorkerDied.__qualname__}",
                traceback=f"Worker {worker or '?'} stopped while running this task; "
                "it was enqueued again.",
            )
            if taken:
                rerun(result)
                reaped += 1
    if reaped:
        logger.warning("Took back %d task(s) from dead workers and enqueued them again", reaped)
    return reaped


def rerun(result: DBTaskResult) -> None:
    # `.task` keeps the queue and priority the task was enqueued with.
    result.task.enqueue(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])


def forget_old_workers() -> int:
    return WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - FORGET_AFTER).delete()[0]


def queue_health(now=None) -> dict[str, dict]:
    """Per queue: live workers, when one was last seen, what waits and since when."""
    now = now or timezone.now()
    ready = DBTaskResult.objects.ready()
    waiting = {
        row["queue_name"]: row
        for row in ready.values("queue_name").annotate(oldest=Min("enqueued_at"), count=Count("id"))
    }
    report: dict[str, dict] = {}
    for name in queue_names():
        beats = WorkerHeartbeat.objects.filter(queues__contains=f",{name},")
        live = beats.filter(last_seen__gte=now - LEASE).count()
        last_seen = beats.aggregate(last=Max("last_seen"))["last"]
        queued = waiting.get(name, {})
        oldest = queued.get("oldest")
        waited = (now - oldest) if oldest else None
        if live:
            ok = True
        elif last_seen is not None:
            ok = now - last_seen < UNWORKED_AFTER
        else:  # never had a worker: fine until something has waited for a minute
            ok = waited is None or waited < UNWORKED_AFTER
        report[name] = {
            "ok": ok,
            "live_workers": live,
            "last_worker_seen_seconds": (
                round((now - last_seen).total_seconds()) if last_seen else None
            ),
            "waiting": queued.get("count", 0),
            "oldest_waiting_seconds": round(waited.total_seconds()) if waited else None,
        }
    return report
