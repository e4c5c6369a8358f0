"""Photos over the API's area limit: sent in tiles to the real built-in engine over HTTP, each
tile a job of its own (and a ledger row), joined at full resolution; "Made for" sizes and JPEG.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from enhancer.images import AREA_LIMIT
from enhancer.models import ApiJob, Job
from enhancer.tiling.grid import plan_tiles
from tests.conftest import run_tasks
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)

# Just over the area limit: 2 tiles, small enough for a quick test.
BIG = (1400, 1100)


def photo(width: int, height: int) -> bytes:
    return image_bytes(width, height, fmt="JPEG")


def submit(client, data: bytes, name: str = "big.jpg", **fields) -> Job:
    payload = {
        "scale": 1,
        "details": 1,
        "modification": 1,
        "output_format": "png",
        "made_for": "",
        "images": [SimpleUploadedFile(name, data)],
    }
    payload.update(fields)
    response = client.post(reverse("enhance_new"), payload)
    assert response.status_code in (200, 302), response.content[:500]
    return Job.objects.latest("created_at")


def result_image(client, job: Job) -> Image.Image:
    download = client.get(reverse("job_result", args=[job.id]))
    assert download.status_code == 200
    return Image.open(io.BytesIO(b"".join(download.streaming_content)))


def test_an_image_over_the_limit_is_sent_in_tiles_and_joined_at_full_size(site, owner_client):
    assert BIG[0] * BIG[1] > AREA_LIMIT
    job = submit(owner_client, photo(*BIG), scale=2)
    expected = len(plan_tiles(*BIG))
    assert job.tile_count == expected > 1  # planned from the header, for the monthly limit

    run_tasks()
    job.refresh_from_db()

    assert job.status == "succeeded", job.error_message
    assert (job.result_width, job.result_height) == (BIG[0] * 2, BIG[1] * 2)
    tiles = Job.all_objects.filter(parent=job).order_by("tile_index")
    assert [t.status for t in tiles] == ["succeeded"] * expected
    # One artwork per tile, in the ledger: that is what a tiled image costs.
    assert ApiJob.objects.filter(team=job.team).count() == expected
    assert set(ApiJob.objects.values_list("upstream_id", flat=True)) == {
        t.upstream_id for t in tiles
    }
    # The tiles are never shown as jobs of their own.
    assert Job.objects.filter(team=job.team).count() == 1
    dashboard = owner_client.get(reverse("dashboard")).content.decode()
    assert "tile 1 of" not in dashboard
    assert result_image(owner_client, job).size == (BIG[0] * 2, BIG[1] * 2)
    # Joined parts are not kept once the result is stored.
    assert all(not t.result for t in tiles)


def test_shrink_to_fit_instead_sends_one_api_job(site, owner_client):
    job = submit(owner_client, photo(*BIG), scale=2, auto_fit="on")
    assert job.tile_count == 0
    run_tasks()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    assert job.result_width * job.result_height <= AREA_LIMIT * 4
    assert ApiJob.objects.filter(team=job.team).count() == 1


def test_made_for_a4_picks_the_enlarge_and_trims_to_the_print_size(site, owner_client):
    job = submit(owner_client, photo(800, 600), made_for="a4", output_format="png", scale=2)
    run_tasks()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    assert job.scale == 8  # the smallest Enlarge whose result covers 3508 x 2480
    image = result_image(owner_client, job)
    assert image.size == (3508, 2631)
    assert round(image.info["dpi"][0]) == 300


def test_jpeg_output(site, owner_client):
    job = submit(owner_client, photo(400, 300), output_format="jpeg", scale=2)
    run_tasks()
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    image = result_image(owner_client, job)
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (800, 600)
    assert job.result_download_name().endswith("-2x.jpg")


def test_a_failed_tile_fails_the_image_and_run_again_sends_only_the_missing_tiles(
    site, owner_client, team, admin_user_
):
    job = submit(owner_client, photo(*BIG), scale=2)
    run_tasks(queues=["default"], include_deferred=False, rounds=1)  # prepared and split
    job.refresh_from_db()
    tiles = list(Job.all_objects.filter(parent=job).order_by("tile_index"))
    assert len(tiles) == job.tile_count > 1
    # The last tile fails for good (as after its retries); the others go on and succeed.
    from enhancer.tasks import fail

    fail(tiles[-1], "The API refused it.")
    run_tasks()
    job.refresh_from_db()
    assert job.status == "failed"
    assert f"Tile {job.tile_count} of {job.tile_count} failed" in job.error_message
    sent_before = ApiJob.objects.count()
    finished = Job.all_objects.filter(parent=job, status="succeeded").count()
    assert finished == job.tile_count - 1

    from enhancer.models import Membership
    from enhancer.submissions import run_again

    again = run_again(
        Membership.objects.get(team=team, user=admin_user_),
        job,
        options={
            "scale": 2,
            "details": 1,
            "modification": 1,
            "output_format": "png",
            "seed": job.seed,
        },
    )
    run_tasks()
    again.refresh_from_db()
    assert again.status == "succeeded", again.error_message
    # Only the missing tile was sent again.
    assert ApiJob.objects.count() == sent_before + 1
    assert (again.result_width, again.result_height) == (BIG[0] * 2, BIG[1] * 2)


def test_canceling_a_tiled_job_cancels_its_tiles(site, owner_client):
    job = submit(owner_client, photo(*BIG), scale=2)
    run_tasks(queues=["default"], include_deferred=False, rounds=1)
    owner_client.post(reverse("job_cancel", args=[job.id]))
    job.refresh_from_db()
    assert job.status == "canceled"
    assert not Job.all_objects.filter(parent=job, status__in=Job.PENDING_STATUSES).exists()


def test_deleting_a_tiled_job_deletes_its_tiles_and_keeps_the_ledger(site, owner_client):
    job = submit(owner_client, photo(*BIG), scale=2)
    run_tasks()
    sent = ApiJob.objects.count()
    owner_client.post(reverse("job_delete", args=[job.id]))
    assert not Job.all_objects.filter(parent_id=job.id).exists()
    assert ApiJob.objects.count() == sent


def test_a_canceled_images_tiles_are_never_sent(site, owner_client):
    job = submit(owner_client, photo(*BIG), scale=2)
    from enhancer.intake import prepare_job

    with override_settings(DETAILER_ENGINE_CONCURRENCY=1):
        prepare_job.call(str(job.id))  # split: one tile leaves the queue, the rest wait
        owner_client.post(reverse("job_cancel", args=[job.id]))
        run_tasks()
    assert ApiJob.objects.count() == 0  # no tile reached the API
    assert set(Job.all_objects.filter(parent=job).values_list("status", flat=True)) == {"canceled"}


def test_the_dispatcher_never_sends_a_tile_of_an_image_that_ended(site, owner_client):
    from enhancer.dispatch import dispatch

    job = submit(owner_client, photo(*BIG), scale=2)
    # Split, but nothing sent: the engine has no room (its capacity is taken by others).
    from enhancer.intake import prepare_job

    with override_settings(DETAILER_ENGINE_CONCURRENCY=1):
        Job.all_objects.filter(pk=job.pk).update(status="preparing")
        prepare_job.call(str(job.id))
        Job.objects.filter(pk=job.pk).update(status="failed")  # ended, its tiles still queued
        Job.all_objects.filter(parent=job).update(status="queued")
        assert dispatch() == []


def test_tiles_found_only_by_the_worker_are_checked_against_the_monthly_limit(
    site, owner_client, team
):
    """An image URL is counted as one job when sent; if it needs tiles, the worker checks the
    rest against the limit before sending any."""
    from enhancer.intake import prepare_job

    job = submit(owner_client, photo(*BIG), scale=2)
    team.monthly_job_limit = 1
    team.save()
    Job.objects.filter(pk=job.pk).update(tile_count=0)  # as for an address not yet fetched
    prepare_job.call(str(job.id))
    job.refresh_from_db()
    assert job.status == "failed"
    assert f"needs {len(plan_tiles(*BIG))} API jobs" in job.error_message
    assert not Job.all_objects.filter(parent=job).exists()
