"""Deleted means gone: a deleted job's files and URLs, the engine's copies, expiring result URLs.

Everything runs for real: the product and the built-in engine on a live server, tasks worked by
the database worker, result URLs fetched over HTTP.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enhancer.api import ApiClient
from enhancer.engine.models import Artwork as EngineArtwork
from enhancer.engine.result_links import signed_query
from enhancer.links import source_url
from enhancer.models import Job, ShareLink
from enhancer.providers import client_for
from tests.conftest import run_tasks
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def submit(client) -> Job:
    client.post(
        reverse("enhance_new"),
        {
            "scale": 2,
            "details": 2,
            "modification": 2,
            "output_format": "png",
            "images": [SimpleUploadedFile("photo.png", image_bytes(40, 30))],
        },
    )
    return Job.objects.latest("created_at")


def processed_but_not_collected(client) -> tuple[Job, str]:
    """A job the engine has finished, with the engine's result URL, before we collect it."""
    job = submit(client)
    run_tasks(queues=["default"], include_deferred=False, rounds=1)  # sent to the engine
    run_tasks(queues=["engine"])  # the engine has processed it
    job.refresh_from_db()
    [engine_url] = client_for(job.team, job.provider).get(job.upstream_id).results
    assert requests.get(engine_url, timeout=10).status_code == 200
    return job, engine_url


def engine_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "engine"
    return [path for path in root.rglob("*") if path.is_file()]


def our_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file() and "engine" not in path.parts]


def test_deleting_a_job_makes_every_url_404_and_removes_every_copy(site, owner_client, admin_user_):
    job, engine_url = processed_but_not_collected(owner_client)
    run_tasks()  # collected: our copy of the result and its thumbnail
    job.refresh_from_db()
    assert job.status == "succeeded" and job.result and job.thumbnail
    link = ShareLink.create(created_by=admin_user_, job=job)
    urls = [
        *(
            reverse(name, args=[job.id])
            for name in ("job_detail", "job_original", "job_result", "job_thumbnail")
        ),
        reverse("share_page", args=[link.token]),
        *(
            reverse("share_file", args=[link.token, job.id, kind])
            for kind in ("original", "result")
        ),
    ]
    assert all(owner_client.get(url).status_code == 200 for url in urls)
    assert len(our_files()) == 3  # original, result, thumbnail

    owner_client.post(reverse("job_delete", args=[job.id]))
    run_tasks()

    assert [owner_client.get(url).status_code for url in urls] == [404] * len(urls)
    assert requests.get(engine_url, timeout=10).status_code == 404
    assert our_files() == []
    assert engine_files() == []
    assert not EngineArtwork.objects.exists()


def test_the_engine_forgets_its_copies_once_we_have_collected(site, owner_client):
    job, engine_url = processed_but_not_collected(owner_client)
    assert len(engine_files()) == 2  # its input and its result

    run_tasks()

    job.refresh_from_db()
    assert job.status == "succeeded"
    assert owner_client.get(reverse("job_result", args=[job.id])).status_code == 200
    assert engine_files() == []
    assert requests.get(engine_url, timeout=10).status_code == 404


def test_deleting_a_job_the_engine_has_not_collected_yet_removes_the_engines_copies(
    site, owner_client
):
    job, engine_url = processed_but_not_collected(owner_client)

    owner_client.post(reverse("job_delete", args=[job.id]))
    run_tasks()  # the forget task, and the engine's webhook to a job that is gone

    assert not Job.objects.exists()
    assert requests.get(engine_url, timeout=10).status_code == 404
    assert engine_files() == []
    assert our_files() == []


def test_a_job_deleted_before_the_engine_ran_leaves_nothing_behind(site, owner_client):
    job = submit(owner_client)
    run_tasks(queues=["default"], include_deferred=False, rounds=1)  # the engine has its input
    assert len(engine_files()) == 1

    owner_client.post(reverse("job_delete", args=[job.id]))
    run_tasks()

    assert engine_files() == []
    assert not EngineArtwork.objects.exists()


def test_canceling_a_job_removes_the_engines_copies(site, owner_client):
    job, engine_url = processed_but_not_collected(owner_client)

    owner_client.post(reverse("job_cancel", args=[job.id]))
    run_tasks()

    job.refresh_from_db()
    assert job.status == "canceled" and not job.result
    assert requests.get(engine_url, timeout=10).status_code == 404
    assert engine_files() == []


# --- The engine's result URLs expire ----------------------------------------------------------


@pytest.fixture
def finished_artwork(site, engine_key) -> EngineArtwork:
    name = default_storage.save(f"staged/{uuid.uuid4()}.png", ContentFile(image_bytes(20, 20)))
    artwork = ApiClient(f"{site.url}/engine", engine_key).create(source_url(name))
    run_tasks()
    return EngineArtwork.objects.get(pk=artwork.id)


def result_base(artwork: EngineArtwork) -> str:
    return f"{artwork.public_base_url}v2/results/{artwork.id}/{artwork.result_files[0]}"


def test_an_engine_result_url_expires_after_its_lifetime(finished_artwork, settings):
    base = result_base(finished_artwork)
    lifetime = settings.DETAILER_ENGINE_RESULT_URL_MINUTES * 60
    fresh = base + signed_query(str(finished_artwork.id), finished_artwork.result_files[0])
    # Signed one second more than its lifetime ago: its expiry has just passed.
    expired = base + signed_query(
        str(finished_artwork.id), finished_artwork.result_files[0], now=time.time() - lifetime - 1
    )

    assert requests.get(fresh, timeout=10).status_code == 200
    assert requests.get(expired, timeout=10).status_code == 404


def test_an_engine_result_url_cannot_be_extended_or_forged(finished_artwork):
    base = result_base(finished_artwork)
    query = signed_query(str(finished_artwork.id), finished_artwork.result_files[0])
    expires = int(query.split("expires=")[1].split("&")[0])
    signature = query.split("signature=")[1]

    later = f"{base}?expires={expires + 86400}&signature={signature}"
    forged = f"{base}?expires={expires}&signature={'0' * len(signature)}"
    for url in (later, forged, base):
        assert requests.get(url, timeout=10).status_code == 404


def test_the_api_hands_out_signed_result_urls_that_work(finished_artwork, site, engine_key):
    [url] = ApiClient(f"{site.url}/engine", engine_key).get(str(finished_artwork.id)).results
    assert "expires=" in url and "signature=" in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
