"""Seam measurement for tiled enhancement: every Detail x Change level, several overlaps.

    .venv/bin/python scripts/tile_seams.py [--photos astronaut,coffee] [--enlarge 2.0]
        [--area 250000] [--overlaps 16,32,64,128] [--margins 8] [--without-extension]

Photos bundled with scikit-image, enlarged with Lanczos (`--enlarge`) to stand in for larger
photos, are cut with `plan_tiles` at a small area limit (`--area`) so that the built-in engine
can also do each one whole; every tile is enhanced at 2x (the engine in-process with its
`tile` extension, and the scripted cloud stand-in of tests/cloud_standin.py), joined by
`stitch`, and compared with the whole result. Prints a Markdown table per engine: the worst
seam score over the photos (relative to the whole result at the same places; 1.00 = a border
is like any other place) and the lowest PSNR of tiled against whole. See docs/tiling.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detailer_site.settings")

SCALE = 2


def photo(name: str, enlarge: float):
    from PIL import Image
    from skimage import data

    image = Image.fromarray(getattr(data, name)()).convert("RGB")
    if enlarge != 1:
        size = (round(image.width * enlarge), round(image.height * enlarge))
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def engine_runner(details: int, modification: int, *, extension: bool, whole_image):
    from enhancer.engine.pipeline import EnhanceSettings, TilePlace, enhance_image
    from enhancer.tiling.seams import context_of

    context = context_of(whole_image)

    def settings(tile=None):
        return EnhanceSettings(
            scale=SCALE, details=details, modification=modification, seed=1234, tile=tile
        )

    def tile_enhance(crop, tile):
        if not extension:
            return enhance_image(crop, settings())
        place = TilePlace(tile.left, tile.top, whole_image.width, whole_image.height)
        return enhance_image(crop, settings(place), context=context)

    return tile_enhance, lambda image: enhance_image(image, settings())


def standin_runner(details: int, modification: int, **_):
    import io

    from tests.cloud_standin import enhance

    def run(image, tile=None):
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return enhance(
            buffer.getvalue(), scale=SCALE, details=details, modification=modification, seed=1234
        )

    return run, run


def measure_one(image, runner, details, modification, overlap, margin, area, extension, cache):
    from enhancer.tiling.grid import plan_tiles
    from enhancer.tiling.seams import enhance_in_tiles, measure
    from enhancer.tiling.stitch import blend_band, tile_borders

    tile_enhance, whole_enhance = runner(
        details, modification, extension=extension, whole_image=image
    )
    key = (id(image), runner, details, modification)
    if key not in cache:
        cache[key] = np.asarray(whole_enhance(image).convert("RGB"))
    whole = cache[key]
    tiles = plan_tiles(image.width, image.height, area_limit=area, overlap=overlap)
    with tempfile.TemporaryDirectory() as folder:
        tiled = enhance_in_tiles(image, tiles, SCALE, tile_enhance, Path(folder), margin=margin)
    columns, rows = tile_borders(tiles, scale=SCALE)
    _, band = blend_band(overlap * SCALE, margin * SCALE)
    return measure(tiled[..., :3], columns, rows, max(1, band // 2), whole), len(tiles)


def main() -> None:
    import django

    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", default="astronaut,coffee,chelsea,rocket")
    parser.add_argument("--enlarge", type=float, default=2.0)
    parser.add_argument("--area", type=int, default=250_000)
    parser.add_argument("--overlaps", default="16,32,64,128")
    parser.add_argument("--margins", default="8")
    parser.add_argument("--engines", default="engine,standin")
    parser.add_argument("--without-extension", action="store_true")
    args = parser.parse_args()
    images = [photo(name, args.enlarge) for name in args.photos.split(",")]
    print(
        f"photos: {args.photos} x{args.enlarge} ({images[0].width} x {images[0].height} ...), "
        f"tiles of at most {args.area:,} px, {SCALE}x; cells: worst relative seam score "
        "(step / wide), lowest PSNR tiled vs whole"
    )
    runners = {"engine": engine_runner, "standin": standin_runner}
    cache: dict = {}
    for engine in args.engines.split(","):
        for margin in map(int, args.margins.split(",")):
            overlaps = [int(o) for o in args.overlaps.split(",")]
            print(
                f"\n{engine}, margin {margin}"
                + (" (no tile extension)" if args.without_extension else "")
            )
            print("| Detail / Change | " + " | ".join(f"overlap {o}" for o in overlaps) + " |")
            print("|---" * (len(overlaps) + 1) + "|")
            for details in (1, 2, 3):
                for modification in (1, 2, 3):
                    cells = []
                    for overlap in overlaps:
                        figures = [
                            measure_one(
                                image,
                                runners[engine],
                                details,
                                modification,
                                overlap,
                                margin,
                                args.area,
                                not args.without_extension,
                                cache,
                            )[0]
                            for image in images
                        ]
                        step = max(f.step_relative for f in figures)
                        wide = max(f.wide_relative for f in figures)
                        low = min(f.psnr for f in figures)
                        cells.append(f"{step:.2f} / {wide:.2f}, {low:.1f} dB")
                    print(f"| {details} / {modification} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
