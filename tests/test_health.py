from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enhancer.engine.tasks import deliver_webhook

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["queue"] == {"ok": True, "waiting": 0, "oldest_waiting_seconds": None}


def test_healthz_is_503_when_nobody_works_the_queue(client):
    deliver_webhook.enqueue("00000000-0000-0000-0000-000000000000", 1)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=10))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["queue"]["ok"] is False
