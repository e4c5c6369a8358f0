"""A job's whole life against the built-in engine over real HTTP: submit, webhook, collect."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from enhancer.engine.models import Artwork as EngineArtwork
from enhancer.links import hash_token
from enhancer.models import Job, WebhookEvent
from tests.conftest import run_tasks
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def submit(client, name="photo.png", data=None, **fields) -> Job:
    payload = {
        "scale": 2,
        "details": 3,
        "modification": 2,
        "output_format": "webp",
        "auto_fit": "on",
        "images": [SimpleUploadedFile(name, data or image_bytes(48, 32))],
    }
    payload.update(fields)
    client.post(reverse("enhance_new"), payload)
    return Job.objects.latest("created_at")


def test_full_life_submit_webhook_collect_download(site, owner_client):
    job = submit(owner_client)
    assert job.status == "preparing"  # stored as it came; a worker checks it, then sends it
    assert job.upstream_id == ""

    run_tasks()
    job.refresh_from_db()

    assert job.status == "succeeded", job.error_message
    assert job.upstream_id
    # The engine called our webhook, and the event was recorded once.
    assert WebhookEvent.objects.filter(job=job, status="succeeded").count() == 1
    assert (job.result_width, job.result_height) == (96, 64)
    assert job.result.name.endswith(".webp") and job.thumbnail
    assert job.duration is not None and job.duration > 0

    download = owner_client.get(reverse("job_result", args=[job.id]))
    assert download.status_code == 200
    assert 'filename="photo-2x.webp"' in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    assert Image.open(io.BytesIO(body)).size == (96, 64)

    thumb = owner_client.get(reverse("job_thumbnail", args=[job.id]))
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).format == "WEBP"
    original = owner_client.get(reverse("job_original", args=[job.id]))
    assert 'filename="photo.png"' in original["Content-Disposition"]

    page = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "Done" in page and "data-compare" in page and "96 x 64" in page


def test_results_survive_the_upstream_files_being_deleted(site, owner_client):
    job = submit(owner_client)
    run_tasks()
    job.refresh_from_db()
    # The cloud deletes its files after 8 days; the engine's copy goes the same way here.
    EngineArtwork.objects.all().delete()

    download = owner_client.get(reverse("job_result", args=[job.id]))
    assert download.status_code == 200


def test_polling_finishes_a_job_whose_webhook_never_comes(site, owner_client):
    job = submit(owner_client)
    run_tasks(queues=["default"], include_deferred=False, rounds=1)  # submitted, not processed
    job.refresh_from_db()
    assert job.status == "starting"
    # From here on the webhook cannot get through: its token no longer matches.
    Job.objects.filter(pk=job.pk).update(webhook_token_hash=hash_token("something else"))

    run_tasks(rounds=12)

    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.polls >= 1
    assert not WebhookEvent.objects.exists()
    # The engine's webhook never got through, and the engine forgot the job once collected.
    assert not EngineArtwork.objects.exists()


def test_a_canceled_job_stays_canceled_when_the_engine_finishes(site, owner_client):
    job = submit(owner_client)
    run_tasks(queues=["default"], include_deferred=False, rounds=1)
    owner_client.post(reverse("job_cancel", args=[job.id]))

    run_tasks()

    job.refresh_from_db()
    assert job.status == "canceled"
    assert not job.result
    assert "Canceled by alice" in job.error_message


def test_a_batch_downloads_as_one_zip(site, owner_client):
    files = [SimpleUploadedFile(f"img{i}.png", image_bytes(30, 20, seed=i)) for i in range(3)]
    files.append(SimpleUploadedFile("img0.png", image_bytes(30, 20, seed=9)))  # a repeated name
    owner_client.post(
        reverse("enhance_new"),
        {"scale": 2, "details": 2, "modification": 2, "output_format": "png", "images": files},
    )
    run_tasks()
    batch = Job.objects.first().batch
    assert batch.jobs.filter(status="succeeded").count() == 4

    response = owner_client.get(reverse("batch_download", args=[batch.id]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))

    assert sorted(archive.namelist()) == [
        "img0-2x (2).png",
        "img0-2x.png",
        "img1-2x.png",
        "img2-2x.png",
    ]
    for name in archive.namelist():
        assert Image.open(archive.open(name)).size == (60, 40)
    page = owner_client.get(reverse("batch_detail", args=[batch.id])).content.decode()
    assert "4 of 4" in page
