"""The webhook view: forged, duplicate, malformed and out-of-order calls change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from enhancer.links import hash_token
from enhancer.models import Job, Team, WebhookEvent
from tests.factories import make_job

pytestmark = pytest.mark.django_db

TOKEN = "the-per-job-secret-token"
UPSTREAM = str(uuid.uuid4())


@pytest.fixture
def job(team, admin_user_) -> Job:
    return make_job(
        team,
        admin_user_,
        status="processing",
        upstream_id=UPSTREAM,
        webhook_token_hash=hash_token(TOKEN),
    )


def artwork(status="succeeded", artwork_id=UPSTREAM) -> bytes:
    return json.dumps(
        {
            "id": artwork_id,
            "artworkType": "detailer_upscaler",
            "parameters": {},
            "duration": 1.5,
            "results": ["http://127.0.0.1/r.webp"] if status == "succeeded" else [],
            "status": status,
            "createdAt": "2026-11-24T10:00:00.000Z",
        }
    ).encode()


def signed(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def call(client, job, body, *, token=TOKEN, signature=None, secret=None):
    headers = {}
    if signature or secret:
        headers["X-Signature"] = signature or signed(body, secret)
    return client.post(
        reverse("job_webhook", args=[job.id, token]),
        data=body,
        content_type="application/json",
        headers=headers,
    )


def checks_enqueued() -> int:
    return DBTaskResult.objects.filter(task_path="enhancer.tasks.check_job").count()


def test_a_valid_call_records_the_event_once_and_enqueues_a_check(client, job, settings):
    body = artwork()
    first = call(client, job, body, secret=settings.DETAILER_ENGINE_WEBHOOK_SECRET)
    second = call(client, job, body, secret=settings.DETAILER_ENGINE_WEBHOOK_SECRET)

    assert first.status_code == 200 and first.json() == {"ok": True, "duplicate": False}
    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert WebhookEvent.objects.filter(job=job).count() == 1
    assert checks_enqueued() == 1
    job.refresh_from_db()
    assert job.status == "processing"  # a webhook alone never finishes a job


def test_a_wrong_token_is_404_and_changes_nothing(client, job, settings):
    response = call(
        client, job, artwork(), token="guessed", secret=settings.DETAILER_ENGINE_WEBHOOK_SECRET
    )
    assert response.status_code == 404
    assert not WebhookEvent.objects.exists() and checks_enqueued() == 0


def test_an_unknown_job_is_404(client, job):
    response = client.post(
        reverse("job_webhook", args=[uuid.uuid4(), TOKEN]),
        data=artwork(),
        content_type="application/json",
    )
    assert response.status_code == 404


def test_a_bad_or_missing_signature_is_403(client, job):
    assert call(client, job, artwork(), signature="sha256=" + "0" * 64).status_code == 403
    assert call(client, job, artwork()).status_code == 403
    assert call(client, job, artwork(), secret="another secret").status_code == 403
    assert not WebhookEvent.objects.exists()


def test_the_signature_may_come_without_prefix(client, job, settings):
    body = artwork()
    bare = signed(body, settings.DETAILER_ENGINE_WEBHOOK_SECRET).removeprefix("sha256=")
    assert call(client, job, body, signature=bare).status_code == 200


def test_a_cloud_team_without_a_secret_relies_on_the_token(client, job, team):
    Team.objects.filter(pk=team.pk).update(provider="cloud")
    Job.objects.filter(pk=job.pk).update(provider="cloud")
    assert call(client, job, artwork()).status_code == 200


def test_a_cloud_team_with_a_secret_checks_it(client, job, team):
    team.provider = "cloud"
    team.webhook_secret = "cloud-org-secret"
    team.save()
    Job.objects.filter(pk=job.pk).update(provider="cloud")
    assert call(client, job, artwork()).status_code == 403
    assert call(client, job, artwork(), secret="cloud-org-secret").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"id": "x"}',
        json.dumps({"id": UPSTREAM, "status": "exploded"}).encode(),
    ],
)
def test_malformed_bodies_are_400_never_500(client, job, settings, body):
    response = call(client, job, body, secret=settings.DETAILER_ENGINE_WEBHOOK_SECRET)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_another_artworks_body_is_400(client, job, settings):
    body = artwork(artwork_id=str(uuid.uuid4()))
    response = call(client, job, body, secret=settings.DETAILER_ENGINE_WEBHOOK_SECRET)
    assert response.status_code == 400


def test_an_oversized_body_is_413(client, job, settings):
    body = b'{"pad": "' + b"x" * 70_000 + b'"}'
    response = call(client, job, body, secret=settings.DETAILER_ENGINE_WEBHOOK_SECRET)
    assert response.status_code == 413


def test_get_is_not_allowed(client, job):
    assert client.get(reverse("job_webhook", args=[job.id, TOKEN])).status_code == 405


def test_a_late_webhook_for_a_finished_job_changes_nothing(client, job, settings):
    Job.objects.filter(pk=job.pk).update(status="succeeded")
    body = artwork(status="processing")
    response = call(client, job, body, secret=settings.DETAILER_ENGINE_WEBHOOK_SECRET)
    assert response.status_code == 200
    assert checks_enqueued() == 0
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_status_only_moves_forward(job):
    assert job.advance("succeeded", allowed_from=Job.PENDING_STATUSES)
    # A late "processing" or a duplicate "succeeded" cannot move it again.
    assert not job.advance("processing", allowed_from=("submitting", "starting"))
    assert not job.advance("failed", allowed_from=Job.PENDING_STATUSES)
    job.refresh_from_db()
    assert job.status == "succeeded"
