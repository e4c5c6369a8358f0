"""A team on the cloud, against a scripted Tengr.ai server on loopback."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest

from enhancer.models import Job, Team
from enhancer.tasks import submit_job
from tests.conftest import run_tasks
from tests.factories import image_bytes, make_job

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "tk_live_0123456789abcdef"
ARTWORK_ID = str(uuid.uuid4())


def artwork(status: str, results: list[str] | None = None) -> dict:
    return {
        "id": ARTWORK_ID,
        "artworkType": "detailer_upscaler",
        "parameters": {"imageUrl": "x", "scaleFactor": 2, "details": 2, "modification": 2},
        "duration": 3.2 if status == "succeeded" else 0,
        "results": results or [],
        "status": status,
        "createdAt": "2026-11-24T10:00:00.000Z",
    }


@pytest.fixture
def cloud(team, scripted_server, settings) -> Team:
    team.provider = Team.Provider.CLOUD
    team.api_base_url = scripted_server.url
    team.set_api_key(KEY)
    team.save()
    # Results come from the scripted server on loopback: let the SSRF guard through for it.
    settings.DETAILER_SSRF_ALLOW_HOSTS = [urlsplit(scripted_server.url).netloc]
    return team


@pytest.fixture
def job(cloud, admin_user_) -> Job:
    job = make_job(cloud, admin_user_, provider="cloud")
    submit_job.enqueue(str(job.id))
    return job


def serve_result(server) -> str:
    server.script(
        "GET",
        "/files/out.webp",
        (200, image_bytes(60, 40, fmt="WEBP"), {"Content-Type": "image/webp"}),
    )
    return f"{server.url}/files/out.webp"


def test_polling_carries_a_cloud_job_to_done_without_webhooks(job, scripted_server):
    result = serve_result(scripted_server)
    scripted_server.script("POST", "/v2/artworks/detailer-upscaler", (202, artwork("starting")))
    scripted_server.script(
        "GET",
        f"/v2/artworks/{ARTWORK_ID}",
        (200, artwork("processing")),
        (200, artwork("succeeded", [result])),
    )

    run_tasks()

    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    assert (job.result_width, job.result_height) == (60, 40)
    create = scripted_server.requests[0]
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    # http://testserver is not public https, so no webhook is offered to the cloud.
    assert "webhook" not in create.json
    assert create.json["imageUrl"].startswith("http://")
    assert job.polls >= 2


def test_a_refused_key_fails_the_job_and_marks_the_key_invalid(job, cloud, scripted_server):
    scripted_server.script(
        "POST",
        "/v2/artworks/detailer-upscaler",
        (401, {"message": "Invalid API key", "statusCode": 401}),
    )
    run_tasks()

    job.refresh_from_db()
    cloud.refresh_from_db()
    assert job.status == "failed"
    assert job.error_message == (
        "The team's API key was refused. Ask a team admin to update it in Team settings."
    )
    assert cloud.api_key_invalid_at is not None


def test_rate_limits_are_retried_after_the_time_asked(job, scripted_server):
    result = serve_result(scripted_server)
    scripted_server.script(
        "POST",
        "/v2/artworks/detailer-upscaler",
        (429, {"message": "Too many requests", "statusCode": 429}, {"Retry-After": "30"}),
        (202, artwork("starting")),
    )
    scripted_server.script(
        "GET", f"/v2/artworks/{ARTWORK_ID}", (200, artwork("succeeded", [result]))
    )

    run_tasks(include_deferred=False, rounds=1)
    job.refresh_from_db()
    assert job.status == "submitting"
    assert "retrying automatically in 30 s" in job.retry_note
    from django_tasks_db.models import DBTaskResult

    retry = DBTaskResult.objects.filter(status="READY").get()
    assert 28 <= (retry.run_after - job.updated_at).total_seconds() <= 32

    run_tasks()
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.retry_note == ""


def test_server_errors_are_retried_with_growing_delays_until_the_job_is_too_old(
    job, scripted_server, settings
):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    scripted_server.script(
        "POST", "/v2/artworks/detailer-upscaler", (503, {"message": "down", "statusCode": 503})
    )
    delays = []
    for _ in range(5):
        run_tasks(include_deferred=False, rounds=2)
        job.refresh_from_db()
        assert job.status == "submitting"
        assert "retrying automatically" in job.retry_note
        retry = DBTaskResult.objects.filter(status="READY").get()
        delays.append((retry.run_after - job.updated_at).total_seconds())
        DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    # Exponential backoff with equal jitter: [1, 2], [2, 4], [4, 8], [8, 16], [16, 32] s.
    for attempt, delay in enumerate(delays):
        assert 2**attempt - 0.5 <= delay <= 2 ** (attempt + 1) + 0.5, delays

    # Retries are bounded by the job's age counted from when it left our queue, not by a count.
    Job.objects.filter(pk=job.pk).update(
        dispatched_at=timezone.now() - timedelta(minutes=settings.DETAILER_JOB_MAX_AGE_MINUTES)
    )
    run_tasks()
    job.refresh_from_db()
    assert job.status == "failed"
    assert "We kept trying for 120 minutes" in job.error_message
    assert len([r for r in scripted_server.requests if r.method == "POST"]) == job.attempts == 6


def test_a_server_error_then_success_ends_done(job, scripted_server):
    result = serve_result(scripted_server)
    scripted_server.script(
        "POST",
        "/v2/artworks/detailer-upscaler",
        (500, b"<html>oops</html>", {"Content-Type": "text/html"}),
        (202, artwork("starting")),
    )
    scripted_server.script(
        "GET", f"/v2/artworks/{ARTWORK_ID}", (200, artwork("succeeded", [result]))
    )
    run_tasks()
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_a_failed_artwork_says_what_the_api_said(job, scripted_server):
    failed = {**artwork("failed"), "message": "NSFW content detected"}
    scripted_server.script("POST", "/v2/artworks/detailer-upscaler", (202, artwork("starting")))
    scripted_server.script("GET", f"/v2/artworks/{ARTWORK_ID}", (200, failed))
    run_tasks()
    job.refresh_from_db()
    assert job.status == "failed"
    assert "NSFW content detected" in job.error_message


def test_out_of_order_statuses_never_move_a_job_back(job, scripted_server):
    result = serve_result(scripted_server)
    scripted_server.script("POST", "/v2/artworks/detailer-upscaler", (202, artwork("processing")))
    scripted_server.script(
        "GET",
        f"/v2/artworks/{ARTWORK_ID}",
        (200, artwork("succeeded", [result])),
        (200, artwork("processing")),
    )
    run_tasks()
    job.refresh_from_db()
    assert job.status == "succeeded"

    from enhancer.tasks import check_job

    check_job.call(str(job.id))  # a late read that says "processing" again
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_a_job_the_api_forgot_fails_with_a_reason(job, scripted_server):
    scripted_server.script("POST", "/v2/artworks/detailer-upscaler", (202, artwork("starting")))
    scripted_server.script(
        "GET", f"/v2/artworks/{ARTWORK_ID}", (404, {"message": "Not found", "statusCode": 404})
    )
    run_tasks()
    job.refresh_from_db()
    assert job.status == "failed"
    assert "8 days" in job.error_message


def test_a_job_past_its_maximum_age_stops_polling(job, scripted_server, settings):
    settings.DETAILER_JOB_MAX_AGE_MINUTES = 0
    scripted_server.script("POST", "/v2/artworks/detailer-upscaler", (202, artwork("starting")))
    scripted_server.script("GET", f"/v2/artworks/{ARTWORK_ID}", (200, artwork("processing")))
    run_tasks()
    job.refresh_from_db()
    assert job.status == "failed"
    assert "stopped waiting" in job.error_message


def test_a_cloud_team_without_a_key_is_told_so(job, cloud):
    Team.objects.filter(pk=cloud.pk).update(api_key="")
    run_tasks()
    job.refresh_from_db()
    assert job.status == "failed"
    assert "no API key" in job.error_message


def test_webhook_is_offered_when_the_site_is_public_https(job, scripted_server, settings):
    settings.SITE_URL = "https://detailer.example.com"
    scripted_server.script("POST", "/v2/artworks/detailer-upscaler", (202, artwork("starting")))
    scripted_server.script("GET", f"/v2/artworks/{ARTWORK_ID}", (200, artwork("processing")))
    run_tasks(include_deferred=False, rounds=1)
    webhook = scripted_server.requests[0].json["webhook"]
    assert webhook.startswith(f"https://detailer.example.com/hooks/jobs/{job.id}/")
    job.refresh_from_db()
    assert job.webhook_token_hash and job.webhook_token_hash not in webhook
