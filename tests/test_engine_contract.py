"""The real client against the built-in engine over real HTTP: the contract, end to end."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from enhancer.api import ApiClient, Artwork
from enhancer.api.errors import BadRequest, KeyRefused, NotFound, RateLimited
from enhancer.engine.files import input_name
from enhancer.engine.models import Artwork as EngineArtwork
from enhancer.engine.models import EngineKey
from enhancer.links import source_url
from tests.conftest import run_tasks
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db(transaction=True)

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def staged(data: bytes, extension: str = "png") -> str:
    """A URL on this site serving `data`, as the product hands images to the API."""
    name = default_storage.save(f"staged/{uuid.uuid4()}.{extension}", ContentFile(data))
    return source_url(name)


@pytest.fixture
def client(site, engine_key) -> ApiClient:
    return ApiClient(f"{site.url}/engine", engine_key)


@pytest.fixture
def receiver(scripted_server, settings):
    """A webhook receiver on loopback, which the engine is told to accept."""
    settings.DETAILER_ENGINE_WEBHOOK_HOSTS = [
        *settings.DETAILER_ENGINE_WEBHOOK_HOSTS,
        urlsplit(scripted_server.url).netloc,
    ]
    return scripted_server


def test_create_answers_202_with_the_artwork(client):
    url = staged(image_bytes(40, 30))

    artwork = client.create(url)

    assert artwork.status == "starting"
    assert artwork.artwork_type == "detailer_upscaler"
    assert artwork.parameters == {
        "imageUrl": url,
        "scaleFactor": 2,
        "details": 2,
        "modification": 2,
        "outputFormat": "auto",
    }
    assert artwork.results == []
    assert artwork.duration == 0
    assert ISO_Z.match(artwork.raw["createdAt"])
    assert set(artwork.raw) == {
        "id",
        "artworkType",
        "parameters",
        "duration",
        "results",
        "status",
        "createdAt",
    }


@pytest.mark.parametrize(("scale", "fmt"), [(1, "png"), (2, "webp"), (4, "auto"), (8, "png")])
def test_results_are_the_input_times_the_scale(client, scale, fmt):
    width, height = (24, 18) if scale == 8 else (40, 30)
    artwork = client.create(
        staged(image_bytes(width, height)), scale_factor=scale, output_format=fmt, seed=7
    )

    run_tasks()
    done = client.get(artwork.id)

    assert done.status == "succeeded"
    assert done.duration is not None and done.duration > 0
    assert len(done.results) == 1
    response = requests.get(done.results[0], timeout=10)
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (width * scale, height * scale)
    assert image.format == ("PNG" if fmt == "png" else "WEBP")


def test_processing_is_real_not_a_resize(client):
    data = image_bytes(48, 36, seed=3)
    low = client.create(
        staged(data), scale_factor=2, details=1, modification=1, output_format="png"
    )
    high = client.create(
        staged(data), scale_factor=2, details=3, modification=3, output_format="png"
    )
    run_tasks()

    def pixels(artwork_id):
        url = client.get(artwork_id).results[0]
        return Image.open(io.BytesIO(requests.get(url, timeout=10).content)).convert("RGB")

    plain = Image.open(io.BytesIO(data)).convert("RGB").resize((96, 72), Image.Resampling.LANCZOS)
    low_img, high_img = pixels(low.id), pixels(high.id)
    assert low_img.tobytes() != plain.tobytes()
    assert low_img.tobytes() != high_img.tobytes()


def test_list_returns_the_keys_artworks_newest_first(client, site):
    first = client.create(staged(image_bytes(20, 20)))
    second = client.create(staged(image_bytes(20, 20)))
    EngineArtwork.objects.filter(pk=first.id).update(status="failed")  # keep in-flight low

    listed = client.list(offset=0, limit=10)
    assert [a.id for a in listed] == [second.id, first.id]
    assert [a.id for a in client.list(offset=1, limit=1)] == [first.id]

    other_key = EngineKey.generate("other")[1]
    assert ApiClient(f"{site.url}/engine", other_key).list() == []


def test_list_limit_is_checked_by_the_server(site, engine_key):
    for query in ("limit=0", "limit=501", "offset=-1", "limit=abc"):
        response = requests.get(
            f"{site.url}/engine/v2/artworks?{query}",
            headers={"Authorization": f"Bearer {engine_key}"},
            timeout=10,
        )
        assert response.status_code == 400
        assert response.json()["statusCode"] == 400


def test_a_missing_or_wrong_key_is_401(site):
    missing = requests.get(f"{site.url}/engine/v2/artworks", timeout=10)
    assert missing.status_code == 401
    assert missing.json() == {
        "message": "Missing API key: send Authorization: Bearer <key>.",
        "statusCode": 401,
        "error": "Unauthorized",
    }
    with pytest.raises(KeyRefused):
        ApiClient(f"{site.url}/engine", "dtl_wrong").list()


def test_a_deactivated_key_is_refused(client, engine_key):
    EngineKey.objects.update(is_active=False)
    with pytest.raises(KeyRefused):
        client.list()


def test_unknown_and_foreign_artworks_are_404(client, site):
    with pytest.raises(NotFound):
        client.get(str(uuid.uuid4()))
    with pytest.raises(NotFound):
        client.get("not-a-uuid")
    mine = client.create(staged(image_bytes(20, 20)))
    other = ApiClient(f"{site.url}/engine", EngineKey.generate("other")[1])
    with pytest.raises(NotFound):
        other.get(mine.id)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"imageUrl": None}, "imageUrl"),
        ({"imageUrl": "ftp://example.com/a.png"}, "http or https"),
        ({"scaleFactor": 3}, "scaleFactor must be one of 1, 2, 4 or 8"),
        ({"scaleFactor": "2"}, "scaleFactor"),
        ({"scaleFactor": True}, "scaleFactor"),
        ({"details": 0}, "details must be 1, 2 or 3"),
        ({"details": 4}, "details must be 1, 2 or 3"),
        ({"modification": 2.5}, "modification must be 1, 2 or 3"),
        ({"seed": 0}, "seed must be a whole number"),
        ({"seed": 2_147_483_648}, "seed must be a whole number"),
        ({"outputFormat": "jpg"}, "outputFormat must be one of auto, png or webp"),
        ({"webhook": "javascript:alert(1)"}, "webhook must be an http or https URL"),
    ],
)
def test_each_invalid_field_is_a_specific_400(site, engine_key, change, message):
    body = {"imageUrl": staged(image_bytes(20, 20)), **change}
    if change.get("imageUrl", "") is None:
        del body["imageUrl"]
    response = requests.post(
        f"{site.url}/engine/v2/artworks/detailer-upscaler",
        json=body,
        headers={"Authorization": f"Bearer {engine_key}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert EngineArtwork.objects.count() == 0


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"null"])
def test_a_body_that_is_not_a_json_object_is_400(site, engine_key, raw):
    response = requests.post(
        f"{site.url}/engine/v2/artworks/detailer-upscaler",
        data=raw,
        headers={"Authorization": f"Bearer {engine_key}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), "red").save(buffer, "GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make_url", "message"),
    [
        (lambda site: "http://images.example.invalid/a.png", "images.example.invalid"),
        (lambda site: f"{site.url}/source/not-a-token", "could not be fetched"),
        (lambda site: staged(b"just some text, not a picture", "png"), "not an image"),
        (lambda site: staged(gif_bytes(), "png"), "GIF"),
        (lambda site: staged(image_bytes(1300, 1200, fmt="JPEG"), "jpg"), "1,478,656"),
    ],
)
def test_bad_images_are_refused_with_a_specific_400(client, site, make_url, message):
    with pytest.raises(BadRequest) as caught:
        client.create(make_url(site))
    assert message in caught.value.message
    assert EngineArtwork.objects.count() == 0


def test_a_jpeg_named_png_is_accepted_by_its_content(client):
    artwork = client.create(staged(image_bytes(30, 20, fmt="JPEG"), "png"), scale_factor=1)
    run_tasks()
    assert client.get(artwork.id).status == "succeeded"


def test_too_many_jobs_in_flight_is_429_with_retry_after(client):
    EngineKey.objects.update(max_in_flight=1)
    client.create(staged(image_bytes(20, 20)))

    with pytest.raises(RateLimited) as caught:
        client.create(staged(image_bytes(20, 20)))

    assert caught.value.retry_after == 5


def test_webhook_is_signed_and_carries_the_final_artwork(client, receiver, settings):
    receiver.script("POST", "/hook", (200, {"ok": True}))
    artwork = client.create(staged(image_bytes(20, 20)), webhook=f"{receiver.url}/hook")

    run_tasks()

    [delivery] = receiver.requests
    expected = hmac.new(
        settings.DETAILER_ENGINE_WEBHOOK_SECRET.encode(), delivery.body, hashlib.sha256
    ).hexdigest()
    assert delivery.headers["X-Signature"] == f"sha256={expected}"
    delivered = Artwork.from_json(json.loads(delivery.body))
    assert delivered.id == artwork.id
    assert delivered.status == "succeeded"
    # The same files; each read signs its URLs afresh, so only the expiry may differ.
    assert [url.split("?")[0] for url in delivered.results] == [
        url.split("?")[0] for url in client.get(artwork.id).results
    ]


def test_webhook_is_retried_until_the_receiver_accepts(client, receiver):
    receiver.script("POST", "/hook", (500, {"down": True}), (503, None), (204, None))
    artwork = client.create(staged(image_bytes(20, 20)), webhook=f"{receiver.url}/hook")

    run_tasks()

    assert len(receiver.requests) == 3
    stored = EngineArtwork.objects.get(pk=artwork.id)
    assert stored.webhook_attempts == 3
    assert stored.webhook_delivered_at is not None


def test_a_processing_failure_ends_failed_with_a_message(client, receiver):
    receiver.script("POST", "/hook", (200, None))
    artwork = client.create(staged(image_bytes(20, 20)), webhook=f"{receiver.url}/hook")
    stored = EngineArtwork.objects.get(pk=artwork.id)
    name = input_name(stored.input_file)
    default_storage.delete(name)
    default_storage.save(name, ContentFile(b"damaged in storage"))

    run_tasks()

    failed = client.get(artwork.id)
    assert failed.status == "failed"
    assert failed.results == []
    assert failed.message == "The image could not be processed."
    assert json.loads(receiver.requests[0].body)["status"] == "failed"


@pytest.mark.parametrize(
    "webhook",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.5/hook", "http://[::1]:22/"],
)
def test_webhooks_to_private_addresses_are_refused(client, webhook):
    with pytest.raises(BadRequest) as caught:
        client.create(staged(image_bytes(20, 20)), webhook=webhook)
    assert "webhook is not acceptable" in caught.value.message


def test_result_files_are_not_served_for_unknown_names(client, site):
    artwork = client.create(staged(image_bytes(20, 20)))
    run_tasks()
    url = client.get(artwork.id).results[0]
    assert requests.get(url, timeout=10).status_code == 200
    assert requests.get(url.rsplit("/", 1)[0] + "/other.png", timeout=10).status_code == 404
    assert requests.get(url.rsplit("/", 1)[0] + "/..%2Fsecret", timeout=10).status_code == 404


def test_engine_key_command_prints_a_working_key(site, capsys):
    call_command("engine_key", "batch script")
    raw_key = capsys.readouterr().out.strip()
    assert raw_key.startswith("dtl_")
    assert ApiClient(f"{site.url}/engine", raw_key).list() == []
    stored = EngineKey.objects.get(label="batch script")
    assert raw_key not in (stored.key_hash, stored.hint, str(stored))
