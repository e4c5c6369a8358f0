"""Joining the tiles' results into one image, with blended overlaps, lazily in libvips.

Each pair of neighbouring tiles shares an overlap (at least `grid.OVERLAP` input pixels). A
tile's outermost `margin` pixels inside an overlap are where its own edge effects live (the
engine's filters and the cloud's model replicate or pad there), so they are not used; across
the rest of the overlap a raised-cosine ramp hands over from one tile to the next. The two
weights sum to one at every pixel (a partition of unity), so where the tiles agree the join
reproduces them exactly. Rows of tiles are joined first, then the rows, so every output pixel
is read from at most four tiles.

Nothing is computed here: `stitch` returns an uncomputed pyvips image, and the caller's
`write_to_file` streams it top to bottom, decoding each tile's rows as they are needed
(sequential access). Peak memory then depends on the width of the output, not its area.

Measured (`scripts/stitch_benchmark.py`, 2 cores, libvips 8.18, a 24000 x 16000 RGB output
from 18 PNG tiles of 4108 x 5420, fresh process each, peak RSS): this join writes PNG
(compression 1) in 25.4 s at 284 MB and JPEG (q92) in 22.3 s at 283 MB; vips_merge (mblend)
took 20.8 s / 288 MB and 8.1 s / 324 MB. Ours is chosen: exact where tiles agree, our own
margin, and no "black is transparent" rule (vips_merge finds each image's edge in the overlap
by its first non-black pixel, which a photo's black areas upset). docs/tiling.md has more.
The figures were taken with `pyvips.cache_set_max(0)`, as a worker that joins should run: the
operation cache would otherwise keep finished joins (and their open tiles) alive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import pyvips

from enhancer.tiling.grid import TileRect

# Input pixels at a tile's own edge that the blend leaves out (see docs/tiling.md for the
# measurement behind it). Scaled by the Enlarge for output pixels.
MARGIN = 8

# Loaders by the file's first bytes: only the formats we accept, never libvips' generic
# new_from_file, which would open anything libvips can (SVG, PDF, FITS, ...).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "pngload"),
    (b"\xff\xd8\xff", "jpegload"),
)


def load_tile(path: str | Path) -> pyvips.Image:
    """A PNG, JPEG or WebP result as an sRGB uchar image, opened for sequential reading."""
    with open(path, "rb") as handle:
        head = handle.read(12)
    loader = next((name for magic, name in _SIGNATURES if head.startswith(magic)), None)
    if loader is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        loader = "webpload"
    if loader is None:
        raise ValueError(f"{Path(path).name} is not a PNG, JPEG or WebP file")
    image = getattr(pyvips.Image, loader)(str(path), access="sequential")
    if image.format != "uchar":
        image = image.cast("uchar", shift=True)  # 16-bit PNG: keep the high byte
    if image.bands in (1, 2):
        image = image.colourspace("srgb")  # grey (+ alpha) to RGB (+ alpha)
    return image


def _fit(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """`image` at exactly width x height: a cloud result may be a pixel or two off."""
    if (image.width, image.height) == (width, height):
        return image
    image = image.resize(width / image.width, vscale=height / image.height, kernel="lanczos3")
    # Rounding inside resize can still leave a pixel: copy the edge or crop to be exact.
    if (image.width, image.height) != (width, height):
        image = image.embed(0, 0, max(width, image.width), max(height, image.height), extend="copy")
        image = image.crop(0, 0, width, height)
    return image


def ramp(length: int) -> list[float]:
    """Raised-cosine weights of the incoming tile over a band of `length` pixels: rising from
    near 0 to near 1, symmetric, so ramp[i] + ramp[length - 1 - i] == 1."""
    return [0.5 - 0.5 * math.cos(math.pi * (i + 0.5) / length) for i in range(length)]


def blend_band(overlap: int, margin: int) -> tuple[int, int]:
    """(start, length) of the ramp inside an overlap of `overlap` pixels: the overlap less a
    margin at each side, the margin at most a quarter of the overlap so the ramp keeps half."""
    margin = max(0, min(margin, overlap // 4))
    return margin, overlap - 2 * margin


def weights(length: int, before: int | None, after: int | None, margin: int) -> list[float]:
    """A tile's weight along one axis, at each of its `length` pixels.

    `before` is the overlap (in pixels) with the previous tile, `after` with the next one
    (None at the image's border). Within each overlap the weight follows `ramp` over the
    blend band and is 0 (or 1) in the margins, so neighbours' weights sum to one.
    """
    values = [1.0] * length
    if before:
        start, band = blend_band(before, margin)
        rising = ramp(band)
        for i in range(start + band):
            values[i] = rising[i - start] if i >= start else 0.0
    if after:
        start, band = blend_band(after, margin)
        rising = ramp(band)
        first = length - after  # where the overlap with the next tile begins
        for i in range(first + start, length):
            k = i - first - start
            values[i] *= 1.0 - rising[k] if k < band else 0.0
    return values


def _weighted(image: pyvips.Image, profile: list[float], *, across: bool) -> pyvips.Image:
    """`image` times a weight that varies along one axis only, as a lazy lookup.

    Built from pixel coordinates (xyz + maplut) rather than by replicating a stored row, and
    each tile is read by exactly one consumer: crops of one sequential loader read at two
    places and mixed by arithmetic made libvips' PNG loader fail with "out of order read".
    """
    position = pyvips.Image.xyz(image.width, image.height)[0 if across else 1].cast("ushort")
    weight = position.maplut(pyvips.Image.new_from_array([profile]))
    return image * weight


def _sum_placed(
    images: list[tuple[int, pyvips.Image]], width: int, height: int, *, across: bool
) -> pyvips.Image:
    """The images added up, each placed at its offset along the axis on a width x height
    canvas (black elsewhere).

    Only neighbours overlap, so the even-numbered images are inserted side by side on one
    canvas and the odd-numbered on another, and the two added: one addition per pixel
    however many tiles (adding every tile on its own full canvas took twice as long).
    """
    canvases = []
    for group in (images[0::2], images[1::2]):
        if not group:
            continue
        canvas = pyvips.Image.black(width, height, bands=group[0][1].bands).cast("double")
        for offset, image in group:
            canvas = canvas.insert(image, offset, 0) if across else canvas.insert(image, 0, offset)
        canvases.append(canvas)
    return canvases[0] if len(canvases) == 1 else canvases[0] + canvases[1]


def stitch(
    parts: Sequence[tuple[TileRect, str | Path]],
    *,
    width: int,
    height: int,
    scale: int,
    margin: int = MARGIN,
) -> pyvips.Image:
    """The tiles' results joined into one (width*scale) x (height*scale) uchar image.

    `parts` are the tiles of one `plan_tiles` grid (any order) with their result files, each
    (tile.width*scale) x (tile.height*scale) give or take a pixel; `width` and `height` are the
    whole input's. RGB and RGBA results may be mixed: the join then has alpha (opaque where a
    tile had none). `margin` is in input pixels.
    """
    if not parts:
        raise ValueError("no tiles to join")
    images = {}
    for tile, path in parts:
        images[tile] = _fit(load_tile(path), tile.width * scale, tile.height * scale)
    if any(image.bands == 4 for image in images.values()):
        images = {t: i if i.bands == 4 else i.bandjoin_const([255]) for t, i in images.items()}
    lefts = sorted({tile.left for tile in images})
    tops = sorted({tile.top for tile in images})
    grid = {(tile.top, tile.left): image for tile, image in images.items()}
    if len(grid) != len(lefts) * len(tops):
        raise ValueError("the tiles do not form a full grid")
    last = max(images, key=lambda tile: (tile.bottom, tile.right))
    if (last.right, last.bottom) != (width, height) or (lefts[0], tops[0]) != (0, 0):
        raise ValueError("the tiles do not cover the image")
    if len(images) == 1:
        return next(iter(images.values()))
    # Rows of tiles first (horizontal weights), then the rows (vertical weights). Every image
    # is exactly its tile's size now, so a tile's place is its input position times the scale.
    widths = {tile.left: tile.width * scale for tile in images}
    heights = {tile.top: tile.height * scale for tile in images}
    columns = _profiles(lefts, widths, scale, margin)
    rows = []
    for top in tops:
        weighted = [
            (left * scale, _weighted(grid[(top, left)], columns[left], across=True))
            for left in lefts
        ]
        rows.append(_sum_placed(weighted, width * scale, heights[top], across=True))
    bands = _profiles(tops, heights, scale, margin)
    weighted = [
        (top * scale, _weighted(row, bands[top], across=False))
        for top, row in zip(tops, rows, strict=True)
    ]
    image = _sum_placed(weighted, width * scale, height * scale, across=False)
    # Rounded: a cast alone would truncate and darken by half a level.
    image = (image + 0.5).cast("uchar")
    if (image.width, image.height) != (width * scale, height * scale):
        raise ValueError(
            f"joined {image.width} x {image.height}, expected {width * scale} x {height * scale}"
        )
    return image


def _profiles(
    starts: list[int], sizes: dict[int, int], scale: int, margin: int
) -> dict[int, list[float]]:
    """Each tile column's (or row's) weights, keyed by its start in input pixels."""
    profiles = {}
    for i, start in enumerate(starts):
        before = (starts[i - 1] + sizes[starts[i - 1]] // scale - start) * scale if i else None
        after = (
            (start + sizes[start] // scale - starts[i + 1]) * scale if i + 1 < len(starts) else None
        )
        profiles[start] = weights(sizes[start], before, after, margin * scale)
    return profiles


def tile_borders(tiles: Sequence[TileRect], *, scale: int = 1) -> tuple[list[int], list[int]]:
    """(columns, rows) where neighbouring tiles hand over, in output pixels: the middle of
    each overlap. A seam, if any, shows there."""
    lefts = sorted({t.left for t in tiles})
    tops = sorted({t.top for t in tiles})
    widths = {t.left: t.width for t in tiles}
    heights = {t.top: t.height for t in tiles}
    columns = [(nxt + prev + widths[prev]) * scale // 2 for prev, nxt in pairwise(lefts)]
    rows = [(nxt + prev + heights[prev]) * scale // 2 for prev, nxt in pairwise(tops)]
    return columns, rows
