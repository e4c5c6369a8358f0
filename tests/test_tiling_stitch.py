"""Joining tile results: exact where tiles agree, weights that sum to one, alpha, odd sizes."""

from __future__ import annotations

import numpy as np
import pytest
import pyvips
from PIL import Image

from enhancer.tiling.grid import TileRect, plan_tiles
from enhancer.tiling.stitch import blend_band, load_tile, ramp, stitch, tile_borders


def as_array(image: pyvips.Image) -> np.ndarray:
    return np.ndarray(
        buffer=image.write_to_memory(),
        dtype=np.uint8,
        shape=(image.height, image.width, image.bands),
    )


def enlarge(pixels: np.ndarray, scale: int) -> np.ndarray:
    """A deterministic per-pixel enlargement: each pixel becomes a scale x scale block."""
    return np.repeat(np.repeat(pixels, scale, 0), scale, 1)


def write_tiles(tmp_path, pixels, tiles, scale, *, fmt="PNG", size=None):
    parts = []
    for tile in tiles:
        crop = enlarge(pixels[tile.top : tile.bottom, tile.left : tile.right], scale)
        image = Image.fromarray(crop)
        if size is not None:
            image = image.resize(size(tile, image.size), Image.Resampling.LANCZOS)
        path = tmp_path / f"{tile.index}.{fmt.lower()}"
        image.save(path, fmt)
        parts.append((tile, path))
    return parts


@pytest.fixture
def pixels() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (210, 330, 3), dtype=np.uint8)


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_tiles_that_agree_join_into_the_whole_exactly(tmp_path, pixels, scale):
    tiles = plan_tiles(330, 210, area_limit=20_000, overlap=24)
    assert len(tiles) > 4
    parts = write_tiles(tmp_path, pixels, tiles, scale)

    joined = stitch(parts[::-1], width=330, height=210, scale=scale)

    assert (joined.width, joined.height, joined.bands) == (330 * scale, 210 * scale, 3)
    assert joined.format == "uchar"
    assert np.array_equal(as_array(joined), enlarge(pixels, scale))


def test_the_weights_are_a_partition_of_unity():
    for length in (1, 2, 7, 32, 129):
        weights = ramp(length)
        assert all(0 < w < 1 for w in weights)
        assert weights == sorted(weights)
        for i in range(length):
            assert weights[i] + weights[length - 1 - i] == pytest.approx(1.0)
    # Blending a constant 100 tile with a constant 200 one: the join goes from one to the
    # other through the ramp, never leaving [100, 200], and equals each outside the band.
    assert blend_band(64, 16) == (16, 32)
    assert blend_band(8, 16) == (2, 4)  # narrow overlaps keep half for the ramp


def test_the_blend_hands_over_inside_the_overlap_only(tmp_path):
    tiles = [TileRect(0, 0, 0, 60, 40), TileRect(1, 40, 0, 60, 40)]
    for tile, value in zip(tiles, (100, 200), strict=True):
        Image.new("RGB", (tile.width * 2, tile.height * 2), (value,) * 3).save(
            tmp_path / f"{tile.index}.png"
        )
    parts = [(tile, tmp_path / f"{tile.index}.png") for tile in tiles]

    row = as_array(stitch(parts, width=100, height=40, scale=2, margin=5))[0, :, 0].astype(int)

    # Overlap = input columns 40..60, output 80..120; margin 5 input = 10 output pixels.
    assert (row[:90] == 100).all() and (row[110:] == 200).all()
    assert (np.diff(row[90:110]) >= 0).all()
    assert row[99] + row[100] == pytest.approx(300, abs=1)


def test_rgba_tiles_keep_their_alpha_and_rgb_ones_join_opaque(tmp_path, pixels):
    rgba = np.dstack([pixels, np.random.default_rng(6).integers(0, 256, (210, 330, 1))])
    rgba = rgba.astype(np.uint8)
    tiles = plan_tiles(330, 210, area_limit=40_000, overlap=20)
    parts = write_tiles(tmp_path, rgba, tiles, 2)

    joined = as_array(stitch(parts, width=330, height=210, scale=2))
    assert np.array_equal(joined, enlarge(rgba, 2))

    # One tile without alpha: the join still has it, opaque where that tile alone is.
    tile, _ = parts[0]
    Image.fromarray(enlarge(pixels[: tile.bottom, : tile.right], 2)).save(tmp_path / "rgb.png")
    mixed = as_array(
        stitch([(tile, tmp_path / "rgb.png"), *parts[1:]], width=330, height=210, scale=2)
    )
    assert mixed.shape[2] == 4
    assert (mixed[:10, :10, 3] == 255).all()


@pytest.mark.parametrize("delta", [-2, -1, 1, 2])
def test_results_a_pixel_or_two_off_are_resized_to_fit(tmp_path, delta):
    smooth = np.dstack(np.meshgrid(np.arange(330) % 256, np.arange(210) % 256)[::-1] * 2)[..., :3]
    smooth = smooth.astype(np.uint8)
    tiles = plan_tiles(330, 210, area_limit=20_000, overlap=24)
    parts = write_tiles(
        tmp_path, smooth, tiles, 2, size=lambda tile, size: (size[0] + delta, size[1] - delta)
    )

    joined = as_array(stitch(parts, width=330, height=210, scale=2))

    assert joined.shape == (420, 660, 3)
    difference = np.abs(joined.astype(int) - enlarge(smooth, 2).astype(int))
    assert np.median(difference) <= 2


def test_a_single_tile_is_returned_as_it_is(tmp_path, pixels):
    tiles = plan_tiles(330, 210)
    assert len(tiles) == 1
    parts = write_tiles(tmp_path, pixels, tiles, 2, fmt="WEBP")
    joined = stitch(parts, width=330, height=210, scale=2)
    assert (joined.width, joined.height) == (660, 420)


def test_only_png_jpeg_and_webp_are_opened(tmp_path):
    (tmp_path / "a.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    Image.new("RGB", (8, 8)).save(tmp_path / "b.gif")
    for name in ("a.svg", "b.gif"):
        with pytest.raises(ValueError, match="not a PNG, JPEG or WebP"):
            load_tile(tmp_path / name)
    Image.new("RGB", (8, 8)).save(tmp_path / "c.png", "JPEG")  # by content, not by name
    assert load_tile(tmp_path / "c.png").bands == 3


def test_borders_are_the_middles_of_the_overlaps():
    tiles = [TileRect(0, 0, 0, 60, 40), TileRect(1, 40, 0, 60, 40)]
    assert tile_borders(tiles, scale=2) == ([100], [])
