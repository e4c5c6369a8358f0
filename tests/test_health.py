from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enhancer.engine.tasks import deliver_webhook
from enhancer.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def beat(worker_id: str, queues: list[str], seconds_ago: float) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "queues": WorkerHeartbeat.queues_field(queues),
            "last_seen": timezone.now() - timedelta(seconds=seconds_ago),
        },
    )


def test_healthz_reports_database_and_each_queue(client):
    beat("w1", ["default"], 2)
    beat("w2", ["engine"], 3)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    queues = body["checks"]["queues"]
    assert set(queues) == {"default", "cloud", "engine"}
    assert queues["default"] == {
        "ok": True,
        "live_workers": 1,
        "last_worker_seen_seconds": 2,
        "waiting": 0,
        "oldest_waiting_seconds": None,
    }
    # Never had a worker and nothing waiting: fine (a site whose teams never use the cloud).
    assert queues["cloud"]["ok"] is True and queues["cloud"]["live_workers"] == 0


def test_healthz_is_503_naming_a_queue_whose_workers_died_a_minute_ago(client):
    beat("w1", ["default"], 2)
    beat("w2", ["engine"], 61)  # killed: its heartbeat stopped

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["error"] == "No live worker for the queue(s): engine"
    assert response.json()["checks"]["queues"]["engine"]["live_workers"] == 0


def test_a_dead_worker_is_not_reported_before_a_minute(client):
    beat("w1", ["default", "engine"], 40)  # past its lease, but not a minute yet
    assert client.get("/healthz").status_code == 200


def test_healthz_is_503_when_a_task_waits_a_minute_on_a_queue_nobody_ever_worked(client):
    deliver_webhook.enqueue("00000000-0000-0000-0000-000000000000", 1)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=2))

    response = client.get("/healthz")

    assert response.status_code == 503
    queue = response.json()["checks"]["queues"]["default"]
    assert queue["ok"] is False and queue["waiting"] == 1
    assert queue["oldest_waiting_seconds"] >= 120
