"""The engine's own `tile` extension over real HTTP: echoed, validated, used, and cleaned up."""

from __future__ import annotations

import io

import pytest
import requests
from django.core.files.storage import default_storage
from PIL import Image

from enhancer.api import ApiClient
from enhancer.engine.files import input_name
from enhancer.engine.models import Artwork as EngineArtwork
from enhancer.engine.pipeline import EnhanceSettings, TilePlace, enhance_image
from tests.conftest import run_tasks
from tests.factories import image_bytes
from tests.test_engine_contract import staged

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(site, engine_key) -> ApiClient:
    return ApiClient(f"{site.url}/engine", engine_key)


def tile_of(whole: bytes, box: tuple[int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(whole)).crop(box).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_tile_is_enhanced_with_the_whole_images_context(client):
    whole = image_bytes(80, 60, seed=4)
    tile = {"left": 30, "top": 20, "imageWidth": 80, "imageHeight": 60}
    tile["contextUrl"] = staged(whole)
    artwork = client.create(
        staged(tile_of(whole, (30, 20, 80, 60))),
        details=3,
        modification=3,
        seed=11,
        output_format="png",
        extensions={"tile": tile},
    )
    assert artwork.parameters["tile"] == tile
    stored = EngineArtwork.objects.get()
    assert default_storage.exists(input_name(f"{stored.id}.context.png"))

    run_tasks()
    done = client.get(artwork.id)

    assert done.status == "succeeded"
    result = Image.open(io.BytesIO(requests.get(done.results[0], timeout=10).content))
    expected = enhance_image(
        Image.open(io.BytesIO(tile_of(whole, (30, 20, 80, 60)))),
        EnhanceSettings(
            scale=2, details=3, modification=3, seed=11, tile=TilePlace(30, 20, 80, 60)
        ),
        context=Image.open(io.BytesIO(whole)),
    )
    assert result.convert("RGB").tobytes() == expected.convert("RGB").tobytes()

    client.delete(artwork.id)
    assert not default_storage.exists(input_name(f"{stored.id}.context.png"))


def test_without_the_extension_nothing_changes(client):
    artwork = client.create(staged(image_bytes(20, 20)))
    assert "tile" not in artwork.parameters


GOOD = {"left": 0, "top": 0, "imageWidth": 40, "imageHeight": 40}


@pytest.mark.parametrize(
    ("tile", "message"),
    [
        ([1, 2], "tile must be an object"),
        ({**GOOD, "right": 3}, "tile has unknown fields: right"),
        ({**GOOD, "left": -1}, "tile.left must be a whole number from 0"),
        ({**GOOD, "top": 1.5}, "tile.top must be a whole number"),
        ({**GOOD, "imageWidth": 0}, "tile.imageWidth must be a whole number from 1"),
        ({**GOOD, "imageHeight": True}, "tile.imageHeight must be a whole number"),
        ({**GOOD, "imageHeight": "40"}, "tile.imageHeight must be a whole number"),
        ({**GOOD, "left": 40}, "tile.left and tile.top must be inside the image"),
        (GOOD, "tile.contextUrl is required"),
        ({**GOOD, "contextUrl": "file:///etc/passwd"}, "tile.contextUrl must be an http"),
        ({**GOOD, "contextUrl": 7}, "tile.contextUrl must be a URL"),
        ({**GOOD, "imageWidth": 30, "contextUrl": "CONTEXT"}, "does not fit inside 30 x 40"),
        ({**GOOD, "contextUrl": "http://images.example.invalid/a.png"}, "(tile.contextUrl)"),
        ({**GOOD, "contextUrl": "NOT_AN_IMAGE"}, "(tile.contextUrl)"),
    ],
)
def test_each_invalid_tile_is_a_specific_400(site, engine_key, tile, message):
    if isinstance(tile, dict) and tile.get("contextUrl") == "CONTEXT":
        tile = {**tile, "contextUrl": staged(image_bytes(40, 40))}
    if isinstance(tile, dict) and tile.get("contextUrl") == "NOT_AN_IMAGE":
        tile = {**tile, "contextUrl": staged(b"not a picture")}
    response = requests.post(
        f"{site.url}/engine/v2/artworks/detailer-upscaler",
        json={"imageUrl": staged(image_bytes(32, 32)), "tile": tile},
        headers={"Authorization": f"Bearer {engine_key}"},
        timeout=10,
    )
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert EngineArtwork.objects.count() == 0


def test_extensions_cannot_replace_contract_fields(client):
    with pytest.raises(ValueError, match="may not replace seed"):
        client.create("https://example.com/a.png", extensions={"seed": 3})
