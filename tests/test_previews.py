"""Try settings: a crop rendered at all nine Detail x Change levels, free on the built-in engine,
nine real API jobs on the cloud."""

from __future__ import annotations

import io
import uuid
from urllib.parse import urlsplit

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from PIL import Image

from enhancer.models import Job, SettingsPreview, Team
from enhancer.previews import PREVIEW_PRIORITY, crop_side, most_detailed_square
from tests.conftest import run_tasks
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def try_settings(client, data: bytes | None = None, **fields):
    payload = {"scale": 2, **fields}
    if data is not None:
        payload["images"] = [SimpleUploadedFile("photo.png", data)]
    return client.post(reverse("try_settings"), payload, HTTP_HX_REQUEST="true")


def test_nine_tiles_come_back_free_and_ahead_of_queued_work(owner_client, team):
    team.monthly_job_limit = 1
    team.save()
    response = try_settings(owner_client, image_bytes(300, 200))
    assert response.status_code == 200
    preview = SettingsPreview.objects.get()
    html = response.content.decode()
    assert "Rendering the nine versions" in html and "every 1s" in html
    task = DBTaskResult.objects.get(task_path="enhancer.previews.render_preview")
    assert task.priority == PREVIEW_PRIORITY

    run_tasks()
    preview.refresh_from_db()

    assert preview.status == "done", preview.error_message
    assert sorted(preview.tiles) == [f"{d}-{c}" for d in (1, 2, 3) for c in (1, 2, 3)]
    side = crop_side(300, 200, 2)
    tile = owner_client.get(reverse("preview_file", args=[preview.id, "3-2"]))
    with Image.open(io.BytesIO(b"".join(tile.streaming_content))) as image:
        assert image.size == (side * 2, side * 2)
    # Free: no job was made and nothing counts against the limit of 1.
    assert Job.objects.count() == 0
    grid = owner_client.get(
        reverse("preview_detail", args=[preview.id]) + "?poll=1", HTTP_HX_REQUEST="true"
    )
    assert grid.status_code == 286  # the grid stops polling once done
    page = grid.content.decode()
    assert "Detail Low · Change Subtle" in page and "Detail High · Change Strong" in page
    assert page.count('data-try-details="') == 9


def test_the_most_detailed_part_is_chosen():
    rng = np.random.default_rng(1)
    pixels = np.full((200, 400, 3), 128, np.uint8)
    pixels[:, 300:] = rng.integers(0, 255, (200, 100, 3), dtype=np.uint8)  # detail on the right
    left, top = most_detailed_square(Image.fromarray(pixels), 96)
    assert left >= 280 and 0 <= top <= 104


def test_another_part_can_be_picked(owner_client):
    try_settings(owner_client, image_bytes(400, 300))
    first = SettingsPreview.objects.get()
    response = owner_client.post(
        reverse("preview_recrop", args=[first.id]), {"x": "0", "y": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    again = SettingsPreview.objects.exclude(pk=first.pk).get()
    assert (again.crop_left, again.crop_top) == (0, 300 - again.crop_side)
    assert again.crop_chosen and again.seed == first.seed
    assert "The part you chose" in response.content.decode()


def test_without_an_image_it_says_what_to_do(owner_client):
    response = try_settings(owner_client)
    assert "Choose an image file first" in response.content.decode()
    response = try_settings(owner_client, b"not an image at all")
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()
    assert not SettingsPreview.objects.exists()


def test_previews_check_team(owner_client, outsider_client):
    try_settings(owner_client, image_bytes(120, 90))
    run_tasks()
    preview = SettingsPreview.objects.get()
    for url in (
        reverse("preview_detail", args=[preview.id]),
        reverse("preview_file", args=[preview.id, "1-1"]),
        reverse("preview_file", args=[preview.id, "source"]),
    ):
        assert outsider_client.get(url).status_code == 404
        assert owner_client.get(url).status_code == 200
    recrop = reverse("preview_recrop", args=[preview.id])
    assert outsider_client.post(recrop, {"x": "0.5", "y": "0.5"}).status_code == 404


def test_the_button_says_nine_api_jobs_on_the_cloud(owner_client, team):
    assert (
        "Try settings (9 API jobs)" not in owner_client.get(reverse("enhance_new")).content.decode()
    )
    team.provider = Team.Provider.CLOUD
    team.set_api_key("tk_live_x")
    team.save()
    page = owner_client.get(reverse("enhance_new")).content.decode()
    assert "Try settings (9 API jobs)" in page and "nine small API jobs, billed by Tengr.ai" in page


def test_on_the_cloud_it_sends_nine_api_jobs(owner_client, team, scripted_server, settings):
    team.provider = Team.Provider.CLOUD
    team.api_base_url = scripted_server.url
    team.set_api_key("tk_live_0123456789abcdef")
    team.save()
    settings.DETAILER_SSRF_ALLOW_HOSTS = [urlsplit(scripted_server.url).netloc]
    tile = image_bytes(80, 80, fmt="WEBP")

    def create(request):
        return (202, {"id": str(uuid.uuid4()), "status": "starting", "results": []})

    def read(request):
        artwork_id = request.match["id"]
        result = f"{scripted_server.url}/files/{artwork_id}.webp"
        return (200, {"id": artwork_id, "status": "succeeded", "results": [result]})

    scripted_server.script("POST", "/v2/artworks/detailer-upscaler", create)
    scripted_server.script("GET", r"/v2/artworks/(?P<id>[^/]+)", read)
    scripted_server.script("GET", r"/files/[^/]+", (200, tile, {"Content-Type": "image/webp"}))

    try_settings(owner_client, image_bytes(200, 150))
    run_tasks()

    preview = SettingsPreview.objects.get()
    assert preview.status == "done", preview.error_message
    assert len(preview.upstream_ids) == 9 and len(preview.tiles) == 9
    sent = [r.json for r in scripted_server.requests if r.method == "POST"]
    assert sorted((s["details"], s["modification"]) for s in sent) == [
        (d, c) for d in (1, 2, 3) for c in (1, 2, 3)
    ]
    assert {s["seed"] for s in sent} == {preview.seed}
    assert Job.objects.count() == 0
    # Nine billed API jobs, in the ledger that monthly limits count.
    from enhancer.models import ApiJob
    from enhancer.quotas import team_use

    assert set(ApiJob.objects.values_list("upstream_id", flat=True)) == set(
        preview.upstream_ids.values()
    )
    assert team_use(team).used == 9


def test_the_sweep_deletes_day_old_grids_and_their_files(owner_client):
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone

    from enhancer.sweep import sweep

    try_settings(owner_client, image_bytes(120, 90))
    run_tasks()
    preview = SettingsPreview.objects.get()
    names = [preview.source.name, *preview.tiles.values()]
    assert all(default_storage.exists(name) for name in names)
    sweep()
    assert SettingsPreview.objects.exists()  # a fresh one stays
    SettingsPreview.objects.update(created_at=timezone.now() - timedelta(days=2))
    sweep()
    assert not SettingsPreview.objects.exists()
    assert not any(default_storage.exists(name) for name in names)


def test_without_javascript_the_whole_page_comes_back_with_the_grid(owner_client):
    response = owner_client.post(
        reverse("try_settings"),
        {"scale": 2, "images": [SimpleUploadedFile("photo.png", image_bytes(120, 90))]},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and 'id="enhance-form"' in html and 'id="try-grid"' in html
