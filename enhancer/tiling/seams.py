"""Measuring seams: how much a tiled result's joins stand out from the rest of the image.

The seam score compares the luma differences across each tile border with the same statistic
over every column (or row) of the image: 1.0 means a border is like any other place. Two
reaches are measured, because tiles go wrong in two ways: a step (reach 1: the gradient across
the border) and a tone or texture that differs from one tile to the next, which a blend turns
into a slope as wide as its band (reach = half the band: the difference between both sides).
Where the image could also be enhanced whole, `relative` divides by the whole result's score
at the same places, which takes the picture's own content at the borders out of the figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from enhancer.images import AREA_LIMIT
from enhancer.tiling.grid import TileRect
from enhancer.tiling.stitch import MARGIN, stitch

LUMA = np.array([0.299, 0.587, 0.114])


def luma(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        return pixels.astype(np.float64)
    return pixels[..., :3].astype(np.float64) @ LUMA


def _profile(y: np.ndarray, reach: int) -> np.ndarray:
    """For each column x: the mean over blocks of `reach` rows of |mean of the block's `reach`
    columns right of x - mean of the `reach` columns left of x| (NaN near the edges).

    At reach 1 this is the mean gradient across x. Wider, it compares local means: content
    differences have either sign and partly cancel within a block, while a tile whose tone
    differs from its neighbour's shifts every block along the border the same way.
    """
    h, w = y.shape
    blocks = h // reach
    # Row blocks averaged first, then a running mean over `reach` columns.
    rows = y[: blocks * reach].reshape(blocks, reach, w).mean(axis=1)
    sums = np.concatenate([np.zeros((blocks, 1)), np.cumsum(rows, axis=1)], axis=1)
    means = (sums[:, reach:] - sums[:, :-reach]) / reach  # columns [x, x + reach)
    out = np.full(w, np.nan)
    # Left block [x - reach, x), right block [x, x + reach).
    out[reach : w - reach + 1] = np.abs(means[:, reach:] - means[:, :-reach]).mean(axis=0)
    return out


def _at(profile: np.ndarray, places: Sequence[int], spread: int = 2) -> list[float]:
    """The profile around each place (a few columns either side, so one column's content
    weighs less)."""
    return [float(np.nanmean(profile[max(0, p - spread) : p + spread + 1])) for p in places]


def seam_score(
    pixels: np.ndarray, columns: Sequence[int], rows: Sequence[int], reach: int = 1
) -> float:
    """Mean over all borders of (border statistic / whole-image statistic); 1.0 = invisible."""
    y = luma(pixels)
    ratios = []
    for plane, places in ((y, columns), (y.T, rows)):
        if not places:
            continue
        profile = _profile(plane, reach)
        overall = float(np.nanmean(profile))
        ratios += [value / overall for value in _at(profile, places)]
    return float(np.mean(ratios)) if ratios else 1.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else float(10 * np.log10(255**2 / error))


@dataclass(frozen=True)
class SeamFigures:
    step: float  # seam score at reach 1
    wide: float  # seam score at the blend's half width
    step_relative: float | None = None  # step / the whole result's step at the same places
    wide_relative: float | None = None
    psnr: float | None = None  # tiled against whole, dB

    @property
    def worst(self) -> float:
        """The larger departure from 1.0 of the relative scores (or the plain ones)."""
        pair = (self.step_relative, self.wide_relative)
        values = pair if None not in pair else (self.step, self.wide)
        return max(abs(v - 1.0) for v in values) + 1.0


def measure(
    tiled: np.ndarray,
    columns: Sequence[int],
    rows: Sequence[int],
    reach: int,
    whole: np.ndarray | None = None,
) -> SeamFigures:
    step, wide = seam_score(tiled, columns, rows, 1), seam_score(tiled, columns, rows, reach)
    if whole is None:
        return SeamFigures(step, wide)
    return SeamFigures(
        step,
        wide,
        step / seam_score(whole, columns, rows, 1),
        wide / seam_score(whole, columns, rows, reach),
        psnr(tiled, whole),
    )


def enhance_in_tiles(
    image: Image.Image,
    tiles: Sequence[TileRect],
    scale: int,
    enhance: Callable[[Image.Image, TileRect], Image.Image],
    folder: Path,
    *,
    margin: int = MARGIN,
) -> np.ndarray:
    """`image` enhanced tile by tile with `enhance(crop, tile)` and joined by `stitch`, as
    the product does (through PNG files in `folder`), as an H x W x bands uint8 array."""
    parts = []
    for tile in tiles:
        crop = image.crop((tile.left, tile.top, tile.right, tile.bottom))
        path = folder / f"tile-{tile.index}.png"
        enhance(crop, tile).save(path, "PNG", compress_level=1)
        parts.append((tile, path))
    joined = stitch(parts, width=image.width, height=image.height, scale=scale, margin=margin)
    return np.ndarray(
        buffer=joined.write_to_memory(),
        dtype=np.uint8,
        shape=(joined.height, joined.width, joined.bands),
    )


def context_of(image: Image.Image, area_limit: int = AREA_LIMIT) -> Image.Image:
    """The whole image reduced to fit the API's area limit: what a tile's contextUrl serves."""
    if image.width * image.height <= area_limit:
        return image
    factor = (area_limit / (image.width * image.height)) ** 0.5
    size = (max(1, int(image.width * factor)), max(1, int(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)
