"""`python manage.py engine_benchmark`: how good and how fast the built-in engine is.

Quality: the photos the learned core never trained on (scikit-image's four classics from the
optional "benchmark" extra, and the held-out Debian wallpapers) are downscaled by bicubic and
enlarged back by bicubic, Lanczos and the engine with either core; PSNR and SSIM on luma say how
close each comes to the original. Speed: wall time and peak memory (RSS) of one job on a 1216 x 1216
input, the contract's largest square, each run in a fresh process so one run's memory cannot
hide another's. Figures are printed, never asserted: timings vary by +-40% from run to run.
"""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from PIL import Image, ImageDraw, ImageFilter

from enhancer.engine.cores import get_core
from enhancer.engine.pipeline import EnhanceSettings, encode_image, enhance_image
from enhancer.engine.quality import BICUBIC, LANCZOS, Method, downscale, quality_table
from enhancer.engine.training.data import (
    HELD_OUT_SKIMAGE,
    DataUnavailable,
    held_out_wallpapers,
    wallpaper_originals,
)
from enhancer.engine.training.report import TARGETS

MOSAIC = (
    "astronaut",
    "camera",
    "rocket",
    "grass",
    "gravel",
    "brick",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
)
INSTALL_HINT = "pip install -e .[benchmark]  (or: pip install scikit-image==0.26.0)"
# The speed targets for the learned core at details 1 / modification 1 on a 1216 px
# input, encoding included (WebP, the default output): seconds per scale, and peak RSS at x8.
SPEED_TARGETS = {2: 2.5, 4: 5.0, 8: 15.0}
SPEED_TARGET_ROW = "learned d1 m1 + webp"
PEAK_TARGET_SCALE, PEAK_TARGET_BYTES = 8, int(1.5 * 2**30)
# The network's speed follows the CPU's widest vector unit more than its clock: the same
# convolutions took 1.4 times as long on an AVX2-only CPU as on a newer one with VNNI.
VECTOR_FLAGS = (
    ("avx512_vnni", "AVX-512 VNNI"),
    ("avx_vnni", "AVX-VNNI"),
    ("avx512f", "AVX-512"),
    ("avx2", "AVX2"),
)


# --- test images -----------------------------------------------------------------------------


def bundled_photos(names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """RGB uint8 arrays of scikit-image's bundled photos, or None when it is not installed."""
    try:
        from skimage import data
    except ImportError:
        return None
    photos = {}
    for name in names:
        try:
            array = np.asarray(getattr(data, name)())
        except Exception:  # noqa: S112 - a missing optional photo only shrinks the set
            continue
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        photos[name] = np.ascontiguousarray(array[..., :3].astype(np.uint8))
    return photos


def photo_mosaic(size: int) -> Image.Image | None:
    """A size x size mosaic of nine bundled photos at their own resolution (full of detail)."""
    photos = bundled_photos(MOSAIC)
    if not photos or len(photos) < 9:
        return None
    edges = np.linspace(0, size, 4).astype(int)
    out = np.zeros((size, size, 3), np.uint8)
    for i, photo in enumerate(photos.values()):
        r, c = divmod(i, 3)
        tile = photo[: edges[r + 1] - edges[r], : edges[c + 1] - edges[c]]
        out[edges[r] : edges[r] + tile.shape[0], edges[c] : edges[c] + tile.shape[1]] = tile
    return Image.fromarray(out)


def synthetic_photo(size: int, seed: int = 0) -> Image.Image:
    """A natural-looking RGB image from NumPy alone: 1/f texture plus soft-edged shapes.

    Natural photos have an amplitude spectrum close to 1/f and sharp but not aliased edges;
    this imitates both, so sharpening and resampling behave on it much as on a photo.
    """
    rng = np.random.default_rng(seed)
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    falloff = 1 / np.maximum(np.hypot(fx, fy), 1 / size)
    channels = []
    for _ in range(3):
        spectrum = rng.standard_normal(falloff.shape) + 1j * rng.standard_normal(falloff.shape)
        field = np.fft.irfft2(spectrum * falloff, s=(size, size))
        channels.append((field - field.mean()) / (field.std() * 6) + 0.5)
    shared = channels[0]  # most texture is shared across channels, as in photos
    texture = np.stack([0.7 * shared + 0.3 * c for c in channels], axis=-1)
    base = Image.fromarray((np.clip(texture, 0, 1) * 255).astype(np.uint8))
    shapes = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    for _ in range(40):
        x, y = rng.integers(0, size, 2)
        r = int(rng.integers(size // 40, size // 6))
        colour = (*(int(v) for v in rng.integers(0, 256, 3)), int(rng.integers(120, 230)))
        box = (int(x - r), int(y - r // 2), int(x + r), int(y + r // 2))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    for _ in range(25):
        points = [tuple(int(v) for v in rng.integers(0, size, 2)) for _ in range(2)]
        grey = int(rng.integers(0, 256))
        draw.line(points, fill=(grey, grey, grey, 255), width=int(rng.integers(1, 4)))
    # A slight blur stands in for the lens: edges are sharp, never aliased staircases.
    shapes = shapes.filter(ImageFilter.GaussianBlur(0.6))
    return Image.alpha_composite(base.convert("RGBA"), shapes).convert("RGB")


# --- quality ---------------------------------------------------------------------------------

QUALITY_METHODS = [
    BICUBIC,
    LANCZOS,
    Method("classical d1 m1", core="classical"),
    Method("learned d1 m1", core="learned"),
    Method("learned d2 m2", core="learned", details=2, modification=2),
]


def held_out_photos(quick: bool, cache: Path) -> tuple[dict[str, np.ndarray], str]:
    """The photos the learned core never saw in training, and a note on where they came from.

    scikit-image's four classics always; with ``quick`` unset, also the held-out Debian
    wallpapers (fetched once into ``cache`` with apt-get, as ``engine_train`` does).
    """
    photos = bundled_photos(HELD_OUT_SKIMAGE) or {}
    if quick:
        return photos, "quick: scikit-image's four only"
    try:
        wallpapers = wallpaper_originals(cache, held_out_wallpapers())
    except DataUnavailable as exc:
        return photos, f"the held-out wallpapers are unavailable here ({exc})"
    photos.update(wallpapers)
    return photos, "scikit-image's four and six Debian wallpaper photos"


def comparison(photo: np.ndarray, box: tuple[int, int, int, int], scale: int) -> Image.Image:
    """Side by side, of ``box`` in ``photo``: the original, then bicubic, the classical and the
    learned core enlarging its ``scale``-times bicubic reduction (details 1, modification 1)."""
    original, small = downscale(photo, scale)
    size = (original.shape[1], original.shape[0])
    panels = [("original", original)]
    panels += [(m.label, m.enlarge(small, size, scale)) for m in (BICUBIC, *QUALITY_METHODS[2:4])]
    left, top, right, bottom = box
    # Shown twice as large, pixel for pixel, so the difference is visible on a web page.
    width, height, caption = 2 * (right - left), 2 * (bottom - top), 22
    sheet = Image.new("RGB", (len(panels) * (width + 8) - 8, height + caption), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, array) in enumerate(panels):
        x = i * (width + 8)
        crop = Image.fromarray(array[top:bottom, left:right])
        sheet.paste(crop.resize((width, height), Image.Resampling.NEAREST), (x, caption))
        draw.text((x + 2, 4), f"{label} (x{scale})" if i else label, fill="black")
    return sheet


# --- speed and memory --------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    label: str
    scale: int
    details: int = 0  # 0 = plain Pillow Lanczos resize, no engine
    modification: int = 0
    encode: str = ""  # "", "png" or "webp"
    core: str = "learned"


def _job(run: Run, image: Image.Image, out_dir: Path) -> tuple[str, int]:
    size = (image.width * run.scale, image.height * run.scale)
    if not run.details:
        if run.scale > 1:
            image = image.resize(size, Image.Resampling.LANCZOS)
        return "", 0
    settings = EnhanceSettings(
        scale=run.scale, details=run.details, modification=run.modification, seed=1
    )
    result = enhance_image(image, settings, get_core(run.core))
    if not run.encode:
        return "", 0
    written = encode_image(result, out_dir / f"x{run.scale}", run.encode)
    size_bytes = written.size_bytes
    written.path.unlink()
    return written.format, size_bytes


def describe_cpu(cpuinfo: str, cores: int) -> str:
    """What the timings depend on, from /proc/cpuinfo's text: e.g. "AMD EPYC, 2 cores, AVX2"."""
    model, flags = "unknown CPU", set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown CPU":
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    vectors = [name for flag, name in VECTOR_FLAGS if flag in flags]
    return f"{model}, {cores} core{'s' * (cores != 1)}, {' + '.join(vectors) or 'no AVX2'}"


def this_machine() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return describe_cpu(cpuinfo, cores or 1)


def speed_verdicts(timings: dict[tuple[int, str], tuple[float, int]]) -> list[str]:
    """The speed and memory targets against ``timings``: (scale, row label) -> (s, peak bytes)."""
    lines = []
    for scale, limit in SPEED_TARGETS.items():
        if (scale, SPEED_TARGET_ROW) in timings:
            seconds = timings[scale, SPEED_TARGET_ROW][0]
            verdict = "met" if seconds < limit else "NOT met"
            lines.append(
                f"Target x{scale}: {SPEED_TARGET_ROW} under {limit:g} s:"
                f" {seconds:.2f} s, {verdict}."
            )
    peaks = [
        peak
        for (scale, label), (_, peak) in timings.items()
        if scale == PEAK_TARGET_SCALE and label.startswith("learned")
    ]
    if peaks:
        verdict = "met" if max(peaks) < PEAK_TARGET_BYTES else "NOT met"
        lines.append(
            f"Target x{PEAK_TARGET_SCALE}: peak memory of the learned core under"
            f" {PEAK_TARGET_BYTES / 2**30:g} GiB: {max(peaks) / 2**20:.0f} MiB, {verdict}."
        )
    return lines


def peak_rss() -> int:
    """Peak resident memory of this process in bytes.

    Linux's ``ru_maxrss`` survives ``exec``: a spawned child would report its parent's peak if
    that was higher. ``VmHWM`` belongs to the current address space only.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def _child(conn: Connection, run: Run | None, source: str, out_dir: str) -> None:
    # Warm up on a small image first: a worker process is long-lived, so first-call costs
    # (lazy imports, ICC profile creation) are not what a job costs.
    with Image.open(source) as opened:
        image = opened.convert("RGB")
    if run is not None:
        _job(run, image.resize((64, 64)), Path(out_dir))
        started = time.perf_counter()
        fmt, size_bytes = _job(run, image, Path(out_dir))
        seconds = time.perf_counter() - started
    else:
        fmt, size_bytes, seconds = "", 0, 0.0
    conn.send((seconds, peak_rss(), fmt, size_bytes))
    conn.close()


def measure(run: Run | None, source: Path, out_dir: Path) -> tuple[float, int, str, int]:
    """(seconds, peak RSS bytes, output format, output bytes) of ``run`` in a fresh process."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(child, run, str(source), str(out_dir)))
    process.start()
    child.close()
    try:
        result = parent.recv()
    except EOFError:
        process.join()
        raise RuntimeError(f"benchmark child failed (exit code {process.exitcode})") from None
    process.join()
    return result


def speed_runs(scales: list[int]) -> list[Run]:
    runs = []
    for scale in scales:
        runs += [
            Run("lanczos resize (floor)", scale),
            Run("classical d1 m1", scale, 1, 1, core="classical"),
            Run("classical d1 m1 + webp", scale, 1, 1, "webp", core="classical"),
            Run("learned d1 m1", scale, 1, 1),
            Run("learned d2 m2", scale, 2, 2),
            Run("learned d3 m3", scale, 3, 3),
            Run("learned d1 m1 + png", scale, 1, 1, "png"),
            Run("learned d1 m1 + webp", scale, 1, 1, "webp"),
        ]
    return runs


# --- command ---------------------------------------------------------------------------------


def _onnxruntime_version() -> str:
    try:
        return importlib.metadata.version("onnxruntime")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


class Command(BaseCommand):
    help = "Measure the built-in engine: PSNR/SSIM against bicubic and Lanczos, time and memory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scales", type=_int_list, default=[2, 4], help="Quality scales.")
        parser.add_argument(
            "--speed-scales", type=_int_list, default=None, help="Default 2,4,8 (2,4 if --quick)."
        )
        parser.add_argument("--size", type=int, default=1216, help="Speed input side, px.")
        parser.add_argument(
            "--quick", action="store_true", help="scikit-image's four photos only; no 8x runs."
        )
        parser.add_argument(
            "--repeat", type=int, default=1, help="Runs per row; the fastest counts."
        )
        parser.add_argument("--no-quality", action="store_true")
        parser.add_argument(
            "--crops",
            type=Path,
            default=None,
            help="Also write before/after crops of a held-out photo (x2, x4) into this folder.",
        )
        parser.add_argument(
            "--cache",
            type=Path,
            default=None,
            help="Where the held-out wallpapers are kept (default: "
            "DETAILER_DATA_DIR/training-cache, shared with engine_train).",
        )
        parser.add_argument("--no-speed", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        quick = options["quick"]
        if not options["no_quality"]:
            cache = options["cache"] or settings.DATA_DIR / "training-cache"
            self.quality(options["scales"], quick, cache)
        if options["crops"]:
            self.crops(options["crops"])
        if not options["no_speed"]:
            speed_scales = options["speed_scales"] or ([2, 4] if quick else [2, 4, 8])
            self.speed(speed_scales, options["size"], max(1, options["repeat"]))

    def quality(self, scales: list[int], quick: bool, cache: Path) -> None:
        photos, source = held_out_photos(quick, cache)
        if not photos:
            self.stdout.write(
                "Quality: skipped, scikit-image (the licence-clean test photos) is not installed."
                f"\n  Install the benchmark extra: {INSTALL_HINT}\n"
            )
            return
        self.stdout.write(
            f"Quality: {len(photos)} photos the learned core never trained on ({source}):\n"
            f"{', '.join(photos)}.\nEach is bicubic-downscaled, then enlarged back; luma"
            " (BT.601 Y) PSNR in dB and SSIM,\na border of `scale` px cropped, averaged over"
            " the photos.\n"
        )
        started = time.perf_counter()
        results = quality_table(photos, scales, QUALITY_METHODS)
        header = "".join(f"{f'x{s} PSNR':>11}{f'x{s} SSIM':>10}" for s in scales)
        self.stdout.write(f"{'method':<18}{header}")
        for method in QUALITY_METHODS:
            cells = "".join(
                f"{results[method.label, s][:, 0].mean():>11.2f}"
                f"{results[method.label, s][:, 1].mean():>10.4f}"
                for s in scales
            )
            self.stdout.write(f"{method.label:<18}{cells}")
        for label, baseline in (("learned d1 m1", "bicubic"), ("classical d1 m1", "lanczos")):
            gains = ""
            for s in scales:
                gain = results[label, s] - results[baseline, s]
                wins = int((gain[:, 0] > 0).sum())
                gains += f"{gain[:, 0].mean():>+11.2f}{gain[:, 1].mean():>+10.4f}"
                gains += f"  ({wins}/{len(gain)} photos)" if s == scales[-1] else ""
            self.stdout.write(f"{label.split()[0] + ' - ' + baseline:<18}{gains}")
        for s in scales:
            if s in TARGETS:
                gain = (results["learned d1 m1", s] - results["bicubic", s])[:, 0].mean()
                verdict = "met" if gain >= TARGETS[s] else "NOT met"
                self.stdout.write(
                    f"Target x{s}: learned d1 m1 at least +{TARGETS[s]} dB over bicubic:"
                    f" {gain:+.2f} dB, {verdict}."
                )
        self.stdout.write(
            f"({time.perf_counter() - started:.0f} s. d2 m2 moves tones and texture on purpose,"
            " so it scores lower. The classical\n core's restoration taps were fitted on"
            " scikit-image's photos, these four included.)\n"
        )

    def crops(self, folder: Path) -> None:
        photos = bundled_photos(("astronaut",))
        if not photos:
            self.stdout.write(f"Crops: skipped, scikit-image is not installed ({INSTALL_HINT}).")
            return
        folder.mkdir(parents=True, exist_ok=True)
        for scale in (2, 4):
            # The face and the hair: what people notice first, and fine texture.
            path = folder / f"compare-x{scale}.png"
            comparison(photos["astronaut"], (170, 60, 330, 220), scale).save(path)
            self.stdout.write(f"Crops: wrote {path}")

    def speed(self, scales: list[int], size: int, repeat: int) -> None:
        with tempfile.TemporaryDirectory(prefix="engine-benchmark-") as tmp:
            work = Path(tmp)
            image = photo_mosaic(size)
            kind = "a mosaic of nine bundled photos"
            if image is None:
                image = synthetic_photo(size)
                kind = "a photo-like image made with NumPy (scikit-image is not installed)"
            source = work / "input.png"
            image.save(source)
            self.stdout.write(
                f"Speed and memory: {size} x {size} input, {kind}.\n"
                f"Machine: {this_machine()}; onnxruntime {_onnxruntime_version()}.\n"
                "Each row runs in a fresh process, warmed up on a 64 px image; peak RSS is the"
                " whole\nprocess (Python, NumPy, Pillow, Django and the decoded input"
                " included: see the baseline row).\n"
            )
            baseline = measure(None, source, work)
            self.stdout.write(
                f"{'scale':<6}{'step':<24}{'seconds':>8}{'x floor':>9}{'peak MiB':>10}  output"
            )
            self.stdout.write(
                f"{'-':<6}{'baseline (no work)':<24}{'-':>8}{'-':>9}{baseline[1] / 2**20:>10.0f}"
            )
            floor: dict[int, float] = {}
            timings: dict[tuple[int, str], tuple[float, int]] = {}
            for run in speed_runs(scales):
                trials = [measure(run, source, work) for _ in range(repeat)]
                seconds = min(trial[0] for trial in trials)
                peak = max(trial[1] for trial in trials)
                _, _, fmt, size_bytes = trials[0]
                floor.setdefault(run.scale, seconds)
                timings[run.scale, run.label] = (seconds, peak)
                ratio = seconds / floor[run.scale]
                output = f"{fmt} {size_bytes / 2**20:.1f} MB" if fmt else ""
                self.stdout.write(
                    f"x{run.scale:<5}{run.label:<24}{seconds:>8.2f}{ratio:>9.1f}"
                    f"{peak / 2**20:>10.0f}  {output}"
                )
            for line in speed_verdicts(timings):
                self.stdout.write(line)
            self.stdout.write(
                "(Timings vary by about +-40% between runs on a shared 2-core machine; compare"
                " ratios within one run.)"
            )
