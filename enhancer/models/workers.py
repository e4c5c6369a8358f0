"""Which task workers are alive, so a task whose worker died is carried on, and `/healthz`
can say which queue nobody works.

django-tasks-db claims a task by marking it RUNNING with the worker's id, and has neither a
heartbeat nor a lease: a worker killed mid-task leaves the task RUNNING for ever. Every worker
started with `manage.py worker` keeps one row here fresh (see `enhancer/workers.py`); a RUNNING
task whose worker's row has gone stale is taken back and enqueued again.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(max_length=64, unique=True)
    # ",default,cloud," so that one queue is found with a plain `contains`.
    queues = models.CharField(max_length=255)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.queues.strip(',')}) on {self.hostname}:{self.pid}"

    @staticmethod
    def queues_field(queue_names: list[str]) -> str:
        return "," + ",".join(queue_names) + ","

    @property
    def queue_names(self) -> list[str]:
        return [name for name in self.queues.split(",") if name]
