"""Measure finishing large results: seconds, file size and peak memory, each in a fresh process.

    manage.py tiling_benchmark                 # every section, a table on stdout
    manage.py tiling_benchmark --section finish --section read

Sections (each case runs in its own child process, whose peak RSS is `ru_maxrss`, so one case's
memory never hides behind another's):
- finish: a photo-like 24-megapixel image (photos bundled with scikit-image, laid side by side,
  with grain, so the encoders meet real detail) enlarged by libvips to 2x (96 MP), 4x (384 MP)
  and to each format's cap, then `tiling.output.finish` into PNG, JPEG and WebP;
- read: the thumbnail and the reduced copy of the 384 MP PNG;
- sign: Content Credentials written file to file (`credentials.sign_stream`) into the 384 MP
  PNG and JPEG.
A section is a list of `Case`s in SECTIONS: a new one (say, a whole tiled job) is a function
returning its cases, added there.
The "before" column is the child's peak RSS before the measured step (Python, Django, NumPy,
libvips loaded, the source described): what the step itself added is the difference.
"""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

BASE = (6000, 4000)  # a 24-megapixel photo


@dataclass(frozen=True)
class Case:
    section: str
    name: str  # what the table says
    step: str  # the child's function in STEPS
    args: dict = field(default_factory=dict)


def _finish_cases() -> list[Case]:
    cases = []
    sizes = {
        "24 MP x2 (96 MP)": (12_000, 8_000),
        "24 MP x4 (384 MP)": (24_000, 16_000),
        "400 MP (the cap)": (24_495, 16_330),
    }
    for label, size in sizes.items():
        for fmt in ("png", "jpeg", "webp"):
            if fmt != "webp" or max(size) <= 16_383:
                cases.append(
                    Case("finish", f"{label} {fmt.upper()}", "finish", {"fmt": fmt, "size": size})
                )
    webp = {
        "WebP 96 MP with alpha": ((12_000, 8_000), True),
        "WebP 3:2 at the side limit (179 MP)": ((16_383, 10_922), False),
        "WebP 3:2 at the side limit (179 MP), alpha": ((16_383, 10_922), True),
        "WebP 4:3 at the side limit (201 MP)": ((16_383, 12_287), False),
        "WebP square at the side limit (268 MP)": ((16_383, 16_383), False),
    }
    for label, (size, alpha) in webp.items():
        cases.append(Case("finish", label, "finish", {"fmt": "webp", "size": size, "alpha": alpha}))
    cases.append(
        Case(
            "finish",
            "6400 x 4800 to A4 3508 x 2631 JPEG 300 dpi",
            "finish",
            {"fmt": "jpeg", "size": (6400, 4800), "final": (3508, 2631), "dpi": 300},
        )
    )
    return cases


def _read_cases() -> list[Case]:
    return [
        Case(
            "read",
            "thumbnail of the 384 MP PNG",
            "thumbnail",
            {"of": "png", "size": (24_000, 16_000)},
        ),
        Case(
            "read",
            "reduced copy (6 MP) of the 384 MP PNG",
            "reduced",
            {"of": "png", "size": (24_000, 16_000), "max_pixels": 6_000_000},
        ),
    ]


def _sign_cases() -> list[Case]:
    return [
        Case(
            "sign", f"sign the 384 MP {fmt.upper()}", "sign", {"of": fmt, "size": (24_000, 16_000)}
        )
        for fmt in ("png", "jpeg")
    ]


# A whole tiled job measured end to end (the lead's `--job`) is one more section here.
SECTIONS = {"finish": _finish_cases, "read": _read_cases, "sign": _sign_cases}


class Command(BaseCommand):
    help = "Measure finishing, reading and signing large results (peak memory per process)."

    def add_arguments(self, parser):
        parser.add_argument("--section", action="append", choices=sorted(SECTIONS))
        parser.add_argument("--child", help="(internal) run one case and print its figures")
        parser.add_argument("--workdir", help="where the files go (default: a temporary folder)")
        parser.add_argument("--json", help="also write the figures to this file")

    def handle(self, *args, **options):
        if options["child"]:
            logging.getLogger("pyvips").setLevel(logging.WARNING)
            case = json.loads(options["child"])
            figures = STEPS[case["step"]](Path(options["workdir"]), **case["args"])
            self.stdout.write(json.dumps(figures))
            return
        sections = options["section"] or list(SECTIONS)
        with tempfile.TemporaryDirectory(prefix="tiling-bench-") as temporary:
            workdir = Path(options["workdir"] or temporary)
            rows = []
            self.stdout.write(
                f"{'case':<46} {'seconds':>8} {'file MB':>8} {'peak RSS MB':>12} {'before':>7}"
            )
            for section in sections:
                for case in SECTIONS[section]():
                    _prepare(case, workdir)
                    row = {"section": case.section, "case": case.name, **_run(case, workdir)}
                    rows.append(row)
                    self.stdout.write(_line(row))
                    self.stdout.flush()
        if options["json"]:
            Path(options["json"]).write_text(json.dumps(rows, indent=1))


def _prepare(case: Case, workdir: Path) -> None:
    """The file a reading or signing case works on, made in a child of its own (unmeasured)."""
    from enhancer.tiling.output import EXTENSION

    if "of" in case.args:
        fmt, size = case.args["of"], tuple(case.args["size"])
        if not (workdir / f"photo-{size[0]}x{size[1]}.{EXTENSION[fmt]}").exists():
            _run(Case("prepare", "", "finish", {"fmt": fmt, "size": size}), workdir)


def _run(case: Case, workdir: Path) -> dict:
    command = [
        sys.executable,
        str(Path(settings.BASE_DIR) / "manage.py"),
        "tiling_benchmark",
        "--workdir",
        str(workdir),
        "--child",
        json.dumps(asdict(case)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:80]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(row: dict) -> str:
    if "error" in row:
        return f"{row['case']:<46} failed: {row['error']}"
    return (
        f"{row['case']:<46} {row['seconds']:>8.1f} {row['mb']:>8.1f} {row['peak_mb']:>12.0f} "
        f"{row['before_mb']:>7.0f}" + (f"  ({row['note']})" if row.get("note") else "")
    )


# --- in the child ---------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def photo_like(size: tuple[int, int]):
    """A 24-megapixel photo-like picture (bundled photos side by side, 4 x 4, with grain)
    resized by libvips to `size`: lazy, computed in strips as the encoder asks."""
    import pyvips
    from skimage import data

    from enhancer.tiling.output import resize_exact

    photos = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    cell = (BASE[0] // 4, BASE[1] // 4)
    tiles = []
    for index in range(16):
        photo = pyvips.Image.new_from_array(photos[index % len(photos)]).copy(interpretation="srgb")
        tiles.append(resize_exact(photo, *cell))
    mosaic = pyvips.Image.arrayjoin(tiles, across=4).copy_memory()  # 72 MB, like a decoded input
    grain = pyvips.Image.gaussnoise(mosaic.width, mosaic.height, sigma=3)
    picture = (mosaic + grain).cast("uchar").copy(interpretation="srgb")
    return picture if size == BASE else resize_exact(picture, *size)


def _file_for(workdir: Path, of: str, size: tuple[int, int]) -> Path:
    """The finished file `of` at `size`, made (in this child) if an earlier case did not."""
    from enhancer.tiling.output import EXTENSION, finish

    path = workdir / f"photo-{size[0]}x{size[1]}.{EXTENSION[of]}"
    if not path.exists():  # not measured: the parent makes it in a child of its own first
        finish(photo_like(size), path, fmt=of, final_size=size, dpi=None)
    return path


def step_finish(workdir: Path, fmt: str, size, final=None, dpi=None, alpha=False) -> dict:
    from enhancer.tiling.output import finish

    size, final = tuple(size), tuple(final or size)
    image = photo_like(size)
    if alpha:  # opaque but for a transparent band: the encoders carry a fourth channel
        image = image.bandjoin((image[1] > 8).ifthenelse(255, 0))
    before = _peak_mb()
    started = time.perf_counter()
    done = finish(
        image,
        workdir / f"photo-{final[0]}x{final[1]}{'-alpha' if alpha else ''}.{fmt}",
        fmt=fmt,
        final_size=final,
        dpi=dpi,
    )
    seconds = time.perf_counter() - started
    note = "" if done.fmt == fmt else f"written as {done.extension.upper()}"
    return {
        "seconds": seconds,
        "mb": done.size_bytes / 1e6,
        "peak_mb": _peak_mb(),
        "before_mb": before,
        "note": note,
    }


def step_thumbnail(workdir: Path, of: str, size) -> dict:
    from enhancer.tiling.output import thumbnail

    path = _file_for(workdir, of, tuple(size))
    return _measured(
        lambda: thumbnail(path),
        lambda out: len(out) / 1e6,
        note=lambda out: f"{len(out) / 1000:.0f} KB",
    )


def step_reduced(workdir: Path, of: str, size, max_pixels: int) -> dict:
    from enhancer.tiling.output import reduced_copy

    path = _file_for(workdir, of, tuple(size))
    return _measured(
        lambda: reduced_copy(path, max_pixels),
        lambda out: out[0].width * out[0].height * 3 / 1e6,
        note=lambda out: f"{out[0].width} x {out[0].height}",
    )


def step_sign(workdir: Path, of: str, size) -> dict:
    import io

    from enhancer.provenance.credentials import MIME_TYPES, sign_stream
    from enhancer.tiling.output import EXTENSION

    settings.DETAILER_C2PA_DIR = workdir / "c2pa"
    path = _file_for(workdir, of, tuple(size))
    dest = path.with_name(f"signed-{path.name}")
    original = photo_like(BASE).resize(0.1).jpegsave_buffer(Q=90)  # the original's stand-in
    mime = MIME_TYPES[EXTENSION[of]]
    manifest = {
        "claim_generator_info": [{"name": "Detailer", "version": "benchmark"}],
        "title": dest.name,
        "format": mime,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}}
                    ]
                },
            }
        ],
    }

    def sign():
        with open(path, "rb") as source, open(dest, "wb") as out:
            sign_stream(
                manifest,
                ingredient={
                    "title": "original.jpg",
                    "relationship": "parentOf",
                    "label": "original",
                },
                ingredient_stream=io.BytesIO(original),
                ingredient_mime="image/jpeg",
                source=source,
                dest=out,
                mime=mime,
                pixels=size[0] * size[1],
            )
        return dest.stat().st_size

    source_mb = path.stat().st_size / 1e6
    return _measured(sign, lambda out: out / 1e6, note=lambda out: f"source {source_mb:.0f} MB")


def _measured(run, megabytes, note=lambda out: "") -> dict:
    before = _peak_mb()
    started = time.perf_counter()
    out = run()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "mb": megabytes(out),
        "peak_mb": _peak_mb(),
        "before_mb": before,
        "note": note(out),
    }


STEPS = {
    "finish": step_finish,
    "thumbnail": step_thumbnail,
    "reduced": step_reduced,
    "sign": step_sign,
}
