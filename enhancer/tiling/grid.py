"""Where the tiles of an image go.

The API takes at most `AREA_LIMIT` pixels (1216 x 1216). A larger image is cut into a grid of
tiles that overlap by at least `OVERLAP` input pixels, so the joins can be blended; every tile of
a grid has the same size, and the grid is the one with the fewest tiles (then the squarest
tiles), because each tile is one API job. Tiles are kept no more than twice as long as wide (or as
elongated as the image itself): the API's models see photos, not slivers.
"""

from __future__ import annotations

from dataclasses import dataclass

from enhancer.images import AREA_LIMIT

# Input pixels shared by neighbouring tiles (see enhancer/tiling/stitch.py for the blend and
# docs/tiling.md for the measurement). The built-in engine's tiles agree exactly from 32 on;
# a generative cloud's tiles differ in tone, and only the ramp's width hides that: 128 kept the
# stand-in's seam scores within 1.04 where 64 let a step of 1.13 through, for at most one tile
# in ten more (4000 x 3000: 10 tiles instead of 9; 3000 x 2000: 6 either way).
OVERLAP = 128
# A tile's long side is at most this many times its short side (unless the image is longer).
MAX_TILE_ASPECT = 2.0


@dataclass(frozen=True)
class TileRect:
    """One tile, in the whole image's input pixels (its overlaps included)."""

    index: int  # 0-based, row by row
    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


def needs_tiles(width: int, height: int, area_limit: int = AREA_LIMIT) -> bool:
    return width * height > area_limit


def _side(length: int, count: int, overlap: int) -> int:
    """The size of each of `count` equal tiles covering `length` with `overlap` between them."""
    if count == 1:
        return length
    return -(-(length + (count - 1) * overlap) // count)


def _starts(length: int, size: int, count: int) -> list[int]:
    """Evenly spread starts: the first tile at 0, the last ending exactly at `length`."""
    if count == 1:
        return [0]
    return [round(i * (length - size) / (count - 1)) for i in range(count)]


def grid_shape(
    width: int, height: int, *, area_limit: int = AREA_LIMIT, overlap: int = OVERLAP
) -> tuple[int, int]:
    """(columns, rows) of the grid with the fewest tiles, each within `area_limit`."""
    if not needs_tiles(width, height, area_limit):
        return 1, 1
    max_aspect = max(MAX_TILE_ASPECT, width / height, height / width)
    best: tuple[int, float, int, int] | None = None
    for columns in range(1, width + 1):
        tile_width = _side(width, columns, overlap)
        if tile_width > area_limit or (columns > 1 and tile_width <= overlap * 2):
            continue
        # The fewest rows whose tiles fit the area with this many columns.
        rows = 1
        while _side(height, rows, overlap) * tile_width > area_limit:
            rows += 1
            if _side(height, rows, overlap) <= overlap * 2:
                break
        tile_height = _side(height, rows, overlap)
        if tile_width * tile_height > area_limit:
            continue
        squareness = max(tile_width, tile_height) / min(tile_width, tile_height)
        if squareness > max_aspect:
            continue
        candidate = (columns * rows, squareness, columns, rows)
        if best is None or candidate < best:
            best = candidate
        if best is not None and columns > best[0]:
            break  # more columns than the best total can only make more tiles
    if best is None:
        raise ValueError(f"{width} x {height} cannot be cut into tiles of {area_limit} pixels")
    return best[2], best[3]


def plan_tiles(
    width: int, height: int, *, area_limit: int = AREA_LIMIT, overlap: int = OVERLAP
) -> list[TileRect]:
    """The tiles of a `width` x `height` image: one (the whole image) when it fits the limit."""
    columns, rows = grid_shape(width, height, area_limit=area_limit, overlap=overlap)
    tile_width, tile_height = _side(width, columns, overlap), _side(height, rows, overlap)
    tiles = []
    for top in _starts(height, tile_height, rows):
        for left in _starts(width, tile_width, columns):
            tiles.append(TileRect(len(tiles), left, top, tile_width, tile_height))
    return tiles
