"""No visible seams: the built-in engine tiled agrees with itself whole, at every level.

A photo small enough to be enhanced whole is also cut into tiles at a small area limit, each
tile enhanced with the engine's `tile` extension (its place and the whole image as context)
and joined by `stitch`. Without the extension, Change Balanced and Strong (CLAHE, grain) fail
both bounds: PSNR 27 to 32 dB, seam scores up to 1.06 (docs/tiling.md).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import requests
from PIL import Image
from skimage import data

from enhancer.api import ApiClient
from enhancer.engine.pipeline import EnhanceSettings, TilePlace, enhance_image
from enhancer.tiling.grid import plan_tiles
from enhancer.tiling.seams import context_of, enhance_in_tiles, measure, psnr
from enhancer.tiling.stitch import MARGIN, blend_band, tile_borders
from tests.cloud_standin import CloudStandIn, enhance
from tests.scripted_server import ScriptedServer

AREA = 40_000  # chelsea (451 x 300) becomes 6 tiles
# Smaller than grid.OVERLAP so a small photo makes several tiles (and the test stays quick):
# the engine's tiles agree exactly from 32 input pixels on.
TEST_OVERLAP = 32
# Measured: with the extension the joins are exact or within 1e-4 (scores 1.00, PSNR >= 85 dB).
MIN_PSNR = 40.0
MAX_SEAM = 1.02


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.fromarray(data.chelsea())


def tiled_and_whole(photo, details, modification, tmp_path, *, extension=True):
    settings = EnhanceSettings(scale=2, details=details, modification=modification, seed=99)
    context = context_of(photo)

    def per_tile(crop, tile):
        if not extension:
            return enhance_image(crop, settings)
        place = TilePlace(tile.left, tile.top, photo.width, photo.height)
        return enhance_image(
            crop,
            EnhanceSettings(**{**settings.__dict__, "tile": place}),
            context=context,
        )

    tiles = plan_tiles(photo.width, photo.height, area_limit=AREA, overlap=TEST_OVERLAP)
    assert len(tiles) > 4
    tiled = enhance_in_tiles(photo, tiles, 2, per_tile, tmp_path)
    whole = np.asarray(enhance_image(photo, settings))
    columns, rows = tile_borders(tiles, scale=2)
    _, band = blend_band(TEST_OVERLAP * 2, MARGIN * 2)
    return measure(tiled, columns, rows, max(1, band // 2), whole)


@pytest.mark.parametrize("modification", [1, 2, 3])
@pytest.mark.parametrize("details", [1, 2, 3])
def test_tiled_matches_whole_at_every_level(photo, details, modification, tmp_path):
    figures = tiled_and_whole(photo, details, modification, tmp_path)
    assert figures.psnr >= MIN_PSNR
    assert figures.worst <= MAX_SEAM


def test_without_the_tile_extension_change_strong_shows(photo, tmp_path):
    # The check above has teeth: tiles with their own CLAHE and grain fail it.
    figures = tiled_and_whole(photo, 1, 3, tmp_path, extension=False)
    assert figures.psnr < MIN_PSNR
    assert figures.worst > MAX_SEAM


def test_the_cloud_stand_in_has_no_seams_though_its_tiles_disagree(photo, tmp_path):
    def per_tile(crop, tile):
        buffer = io.BytesIO()
        crop.save(buffer, "PNG")
        return enhance(buffer.getvalue(), scale=2, details=2, modification=3, seed=5)

    tiles = plan_tiles(photo.width, photo.height, area_limit=AREA, overlap=TEST_OVERLAP)
    tiled = enhance_in_tiles(photo, tiles, 2, per_tile, tmp_path)
    whole = np.asarray(per_tile(photo, None))
    columns, rows = tile_borders(tiles, scale=2)
    figures = measure(tiled, columns, rows, 16, whole)
    assert figures.worst <= MAX_SEAM
    assert psnr(tiled, whole) < 60  # the tiles really were shifted differently


def test_the_cloud_stand_in_answers_over_http(photo):
    with ScriptedServer() as images, ScriptedServer() as cloud:
        buffer = io.BytesIO()
        photo.crop((0, 0, 40, 30)).save(buffer, "PNG")
        images.script("GET", "/a.png", (200, buffer.getvalue(), {"Content-Type": "image/png"}))
        CloudStandIn(cloud)
        client = ApiClient(cloud.url, "any-key")

        artwork = client.create(f"{images.url}/a.png", scale_factor=2, seed=3)
        done = client.get(artwork.id)

        assert artwork.status == "starting" and done.status == "succeeded"
        result = requests.get(done.results[0], timeout=10)
        assert Image.open(io.BytesIO(result.content)).size == (80, 60)
        assert cloud.requests[0].json["seed"] == 3
