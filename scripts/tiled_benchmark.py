"""Large photos through the real stack: wall time against the tiles' own times, and peak memory.

    .venv/bin/python scripts/tiled_benchmark.py                       # 24 MP at 2x and 4x
    .venv/bin/python scripts/tiled_benchmark.py --case 50mp-2x        # a 50-megapixel photo

Each case starts the site as `make run` does (`manage.py serve`, one engine worker) with a fresh
data directory, signs a person up and posts one photo through the New enhancement form. It
prints, per case: the tiles, the wall time from sending to Done, the sum of the tiles' own
processing times as the engine reported them (their artworks' durations), the ratio of the two
(target: at most 1.3), and the peak resident memory of every worker process (VmHWM: the worker
that decoded and split the photo, the engine worker that ran the tiles, and the one that joined
and encoded the result; target: under 1.5 GiB).

Only ratios and peaks are judged (these machines are shared and noisy); the exit status is 1 when
a target is missed, with --strict.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from load_and_faults import Person, django_setup, stack, wait_for  # noqa: E402

GIB = 1024**3


@dataclass(frozen=True)
class Case:
    name: str
    width: int
    height: int
    scale: int
    output_format: str


CASES = {
    case.name: case
    for case in (
        Case("24mp-2x", 6000, 4000, 2, "webp"),
        Case("24mp-4x", 6000, 4000, 4, "jpeg"),
        Case("50mp-2x", 8160, 6120, 2, "jpeg"),
    )
}


def photo_like(width: int, height: int, seed: int = 5) -> bytes:
    """A photo's worth of detail at any size: a real photo (scikit-image's astronaut, shipped
    with the test extra) enlarged, with sensor-like noise, so the encoders do real work."""
    try:
        from skimage import data

        base = Image.fromarray(data.astronaut())
    except ImportError:  # a plain `make run` install: a smooth synthetic scene instead
        y, x = np.mgrid[0:512, 0:512].astype(np.float32)
        planes = [np.sin(x / 37.0), np.cos(y / 23.0), np.sin((x + y) / 51.0)]
        base = Image.fromarray((np.stack(planes, -1) * 100 + 128).astype(np.uint8))
    picture = np.asarray(base.resize((width, height), Image.Resampling.BICUBIC), np.int16)
    noise = np.random.default_rng(seed).normal(0, 3, picture.shape).astype(np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(picture + noise, 0, 255).astype(np.uint8)).save(
        buffer, "JPEG", quality=90
    )
    return buffer.getvalue()


def worker_peaks(root_pid: int) -> dict[str, float]:
    """Peak resident memory (GiB) of each process of the stack, by its command line."""
    peaks: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            group = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[3])
        except (OSError, ValueError, IndexError):
            continue
        if group != root_pid or "manage.py" not in command:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                label = command.split("manage.py", 1)[1].strip() or "serve"
                label = f"{label} (pid {proc.name})"
                peaks[label] = int(line.split()[1]) * 1024 / GIB
    return peaks


def run_case(case: Case, strict_report: list[str]) -> None:
    data = photo_like(case.width, case.height)
    with stack("http://127.0.0.1:9", engine_workers=1) as site:
        django_setup()
        from enhancer.models import Job

        person = Person(site, f"bench{case.name.replace('-', '')}").sign_up_with_team()
        started = time.monotonic()
        person.post(
            "/enhance/",
            {
                "scale": case.scale,
                "details": 2,
                "modification": 2,
                "output_format": case.output_format,
                "made_for": "",
            },
            files=[("images", (f"{case.name}.jpg", data, "image/jpeg"))],
            timeout=600,
        ).raise_for_status()

        def finished() -> Job | None:
            job = Job.objects.filter(created_by__username=person.name).first()
            return job if job and job.is_final else None

        job = wait_for(finished, 1800, f"the {case.name} job to end", every=0.5)
        wall = time.monotonic() - started
        tiles = Job.all_objects.filter(parent=job)
        tile_seconds = sum(tile.duration or 0 for tile in tiles)
        peaks = worker_peaks(site.process.pid)
    ratio = wall / tile_seconds if tile_seconds else float("inf")
    peak = max(peaks.values(), default=0.0)
    print(f"\n== {case.name}: {case.width} x {case.height} at {case.scale}x, {case.output_format}")
    print(f"status: {job.status} {job.error_message}")
    print(f"result: {job.result_width} x {job.result_height}, {job.result_bytes or 0:,} bytes")
    print(f"tiles: {job.tile_count}; their own times add up to {tile_seconds:.1f} s")
    print(f"wall time from sending to Done: {wall:.1f} s = {ratio:.2f}x the tiles' (target 1.3)")
    for label, gib in sorted(peaks.items(), key=lambda item: -item[1]):
        print(f"  peak {gib:.2f} GiB  {label}")
    print(f"largest peak: {peak:.2f} GiB (target under 1.5)")
    if job.status != "succeeded":
        strict_report.append(f"{case.name}: {job.status}")
    if ratio > 1.3:
        strict_report.append(f"{case.name}: wall time {ratio:.2f}x the tiles'")
    if peak >= 1.5:
        strict_report.append(f"{case.name}: peak {peak:.2f} GiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES), help="repeatable")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    names = args.case or ["24mp-2x", "24mp-4x"]
    if len(names) > 1:
        # Each case in a process of its own: Django reads one stack's database per process.
        strict = ["--strict"] if args.strict else []
        codes = [
            subprocess.run([sys.executable, __file__, "--case", name, *strict]).returncode  # noqa: S603
            for name in names
        ]
        return max(codes)
    missed: list[str] = []
    run_case(CASES[names[0]], missed)
    print("\nall targets met" if not missed else "\nmissed: " + "; ".join(missed))
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
