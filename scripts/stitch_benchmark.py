"""Time and peak memory of joining tiles: our crop-and-ramp join against libvips' vips_merge.

    .venv/bin/python scripts/stitch_benchmark.py [--width 12000 --height 8000 --scale 2]

Makes the tiles of a `width` x `height` photo (a bundled scikit-image photo enlarged, so the
tiles compress like photos), enlarged `scale` times, as PNG files in a scratch directory; then,
each in a fresh process so peak RSS is its own, joins them and writes PNG and JPEG. Prints a
Markdown table (figures in docs/tiling.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_tiles(folder: Path, width: int, height: int, scale: int, area: int) -> list:
    import numpy as np
    import pyvips
    from skimage import data

    from enhancer.tiling.grid import plan_tiles

    photo = data.astronaut()
    source = pyvips.Image.new_from_memory(
        np.ascontiguousarray(photo).tobytes(), photo.shape[1], photo.shape[0], 3, "uchar"
    )
    big = source.resize(width * scale / source.width, vscale=height * scale / source.height)
    # Fine texture so the PNGs are not unrealistically small.
    big = (big + pyvips.Image.gaussnoise(big.width, big.height, sigma=4)).cast("uchar")
    big = big.copy_memory() if width * height * scale * scale < 50_000_000 else big
    tiles = plan_tiles(width, height, area_limit=area, overlap=64)
    parts = []
    for tile in tiles:
        path = folder / f"tile-{tile.index}.png"
        big.crop(
            tile.left * scale, tile.top * scale, tile.width * scale, tile.height * scale
        ).pngsave(str(path), compression=1)
        parts.append([tile.index, tile.left, tile.top, tile.width, tile.height, str(path)])
    return parts


def join(method: str, spec: dict) -> object:
    import pyvips

    from enhancer.tiling.grid import TileRect
    from enhancer.tiling.stitch import load_tile, stitch

    scale = spec["scale"]
    parts = [(TileRect(*p[:5]), p[5]) for p in spec["parts"]]
    if method == "ramp":
        return stitch(parts, width=spec["width"], height=spec["height"], scale=scale)
    # vips_merge: each tile merged onto the image so far, rows first, blend over the overlap.
    rows: dict[int, pyvips.Image] = {}
    for tile, path in sorted(parts, key=lambda p: (p[0].top, p[0].left)):
        image = load_tile(path)
        if tile.top not in rows:
            rows[tile.top] = image
        else:
            rows[tile.top] = rows[tile.top].merge(
                image, "horizontal", -tile.left * scale, 0, mblend=32 * scale
            )
    joined = None
    for top in sorted(rows):
        joined = (
            rows[top]
            if joined is None
            else joined.merge(rows[top], "vertical", 0, -top * scale, mblend=32 * scale)
        )
    return joined.cast("uchar")


def run_one(method: str, fmt: str, spec_path: str) -> None:
    import pyvips

    pyvips.cache_set_max(0)
    spec = json.loads(Path(spec_path).read_text())
    out = Path(spec["folder"]) / f"out-{method}.{fmt}"
    clock = time.monotonic()
    image = join(method, spec)
    if fmt == "png":
        image.pngsave(str(out), compression=1)
    else:
        image.jpegsave(str(out), Q=92)
    seconds = time.monotonic() - clock
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "mb": out.stat().st_size / 1e6}))
    out.unlink()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=12000)
    parser.add_argument("--height", type=int, default=8000)
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--area", type=int, default=5_600_000, help="tile area (input pixels)")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    with tempfile.TemporaryDirectory(prefix="stitch-bench-") as folder:
        parts = make_tiles(Path(folder), args.width, args.height, args.scale, args.area)
        spec = {
            "folder": folder,
            "width": args.width,
            "height": args.height,
            "scale": args.scale,
            "parts": parts,
        }
        spec_path = Path(folder) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        w, h = args.width * args.scale, args.height * args.scale
        print(
            f"{w} x {h} output from {len(parts)} tiles of {parts[0][3] * args.scale} x "
            f"{parts[0][4] * args.scale}"
        )
        print("| method | format | seconds | peak RSS (MB) | file (MB) |\n|---|---|---|---|---|")
        for method in ("ramp", "merge"):
            for fmt in ("png", "jpeg"):
                result = subprocess.run(  # noqa: S603 (our own script, our own arguments)
                    [sys.executable, __file__, "--one", method, fmt, str(spec_path)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if result.returncode:
                    print(f"| {method} | {fmt} | failed: {result.stderr.strip()[-200:]} |")
                    continue
                r = json.loads(result.stdout.strip().splitlines()[-1])
                print(
                    f"| {method} | {fmt} | {r['seconds']:.1f} | {r['peak_mb']:.0f} | "
                    f"{r['mb']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
