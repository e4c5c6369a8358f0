"""Automatic checks of every result, run by a worker right after a job succeeds.

Cheap on purpose (under a second for a 1.48-megapixel result, see `manage.py
benchmark_result_checks`): the result is brought back to the original's size and compared with
it. A failed check never fails the job; it puts a warning in plain words on its card and page.

- size: the result has the width and height that were asked for;
- flat: it is not blank or one flat colour when the original is not;
- grey: it has not lost the colours of a colourful original;
- colour shift: the mean CIE76 colour difference (Delta E in CIELAB) between blurred copies of
  the original and the result, so that sharpened edges and grain do not count, only a change of
  colour or tone over areas;
- structure: the SSIM of their luma (7 x 7 windows, as scikit-image computes it by default).

The limits depend on the Detail and Change levels (Strong change moves tones on purpose) and
were measured on real photos at every level (`manage.py measure_result_checks`; figures in the
README's "Automatic result checks"). The cloud's are settings with the same defaults.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.utils import timezone
from django_tasks import task
from PIL import Image

from enhancer.models import Job, Team

logger = logging.getLogger(__name__)

# Measured on the built-in engine with `manage.py measure_result_checks`: 11 real photos at 1x,
# 2x and 4x, every Detail and Change level (table in the README). Colour shift limits, by Change
# level: the worst measured (1.14, 3.71, 6.23) plus 2.5 (a little more than one just noticeable
# difference, 2.3), rounded up to a half.
MAX_COLOUR_SHIFT = {1: 4.0, 2: 6.5, 3: 9.0}
# SSIM limits by (Detail, Change): the lowest measured minus 0.15, rounded down.
MIN_SSIM = {
    (1, 1): 0.81,
    (1, 2): 0.75,
    (1, 3): 0.65,
    (2, 1): 0.77,
    (2, 2): 0.66,
    (2, 3): 0.54,
    (3, 1): 0.71,
    (3, 2): 0.57,
    (3, 3): 0.45,
}
# The blur of the colour comparison: both images reduced to about this many pixels wide.
COLOUR_SAMPLE_SIDE = 64
FLAT_LUMA_STD = 2.0  # 8-bit levels: below this the image is one flat colour
FLAT_ORIGINAL_MIN_STD = 6.0  # ...which is a problem only if the original was not flat too
GREY_CHROMA = 2.0  # mean CIELAB chroma below which an image looks grey
COLOURFUL_CHROMA = 8.0  # ...which is a problem only if the original had colour
SSIM_WINDOW = 7
# Results over this many pixels (a tiled result: up to 400 MP) are not decoded whole: both
# images are compared as reduced copies of at most CHECK_MAX_PIXELS made by libvips in strips.
# 4 MP keeps the check's arrays near 200 MB and is still more than the largest original the API
# takes (1.48 MP), so an untiled job is compared at its original's size as before.
REDUCED_CHECK_ABOVE_PIXELS = 30_000_000
CHECK_MAX_PIXELS = 4_000_000

MESSAGES = {
    "size": "The result is {width} x {height}, not the {target_width} x {target_height} that "
    "was asked for: check it before using it.",
    "flat": "The result is almost one flat colour: check it before using it.",
    "grey": "The result lost its colours (it looks grey): compare before using it.",
    "colour": "The colours changed noticeably: compare before using it.",
    "structure": "The result looks unlike the original (shapes or textures changed): compare "
    "before using it.",
    "unreadable": "The automatic checks could not read the result: compare it with the "
    "original before using it.",
}


@dataclass
class CheckOutcome:
    figures: dict[str, float | int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)  # keys of MESSAGES

    def warnings(self, job: Job) -> list[str]:
        values = {
            "width": job.result_width,
            "height": job.result_height,
            "target_width": job.target_width,
            "target_height": job.target_height,
        }
        return [MESSAGES[key].format(**values) for key in self.failed]


@dataclass(frozen=True)
class Limits:
    max_colour_shift: float
    min_ssim: float


def builtin_limits(details: int, change: int) -> Limits:
    return Limits(MAX_COLOUR_SHIFT[change], MIN_SSIM[(details, change)])


def limits_for(job: Job) -> Limits:
    """The built-in engine's measured limits for the job's levels; the cloud's may be set."""
    limits = builtin_limits(job.details, job.modification)
    if job.provider == Team.Provider.CLOUD:
        shift = settings.DETAILER_CHECK_CLOUD_MAX_COLOUR_SHIFT
        similarity = settings.DETAILER_CHECK_CLOUD_MIN_SSIM
        limits = Limits(
            limits.max_colour_shift if shift is None else shift,
            limits.min_ssim if similarity is None else similarity,
        )
    return limits


@task()
def check_result(job_id: str) -> str:
    job = Job.objects.filter(pk=job_id, status=Job.Status.SUCCEEDED).first()
    if job is None:
        return "nothing to check"
    try:
        with job.original.open("rb") as original, job.result.open("rb") as result:
            outcome = check_files(
                original,
                result,
                target=(job.target_width, job.target_height),
                limits=limits_for(job),
            )
    except (OSError, ValueError) as exc:
        logger.warning("Checking the result of job %s failed: %s", job.id, exc)
        # Never a silent pass: a result the checks cannot read is flagged like a failed check.
        outcome = CheckOutcome(failed=["unreadable"])
    job.touch(
        checked_at=timezone.now(),
        check_figures=outcome.figures,
        check_warnings=outcome.warnings(job),
    )
    return "warned" if outcome.failed else "passed"


def check_files(
    original,
    result,
    *,
    target: tuple[int, int],
    limits: Limits,
    reduce_above: int | None = None,
) -> CheckOutcome:
    """Compare a result with its original (both file-like). Pure: no database.

    Past `reduce_above` pixels (either image) both are read through libvips as reduced copies
    of at most CHECK_MAX_PIXELS, never decoded whole (a tiled result is up to 400 MP)."""
    from enhancer.tiling.output import image_size

    reduce_above = REDUCED_CHECK_ABOVE_PIXELS if reduce_above is None else reduce_above
    outcome = CheckOutcome()
    # The sizes from the headers, by libvips (Pillow refuses to open past 179 MP).
    original_size, result_size = image_size(original), image_size(result)
    outcome.figures.update(width=result_size[0], height=result_size[1])
    if result_size != target:
        outcome.failed.append("size")
    with warnings.catch_warnings():
        # Here results are at most REDUCED_CHECK_ABOVE_PIXELS; their size was checked when
        # they were stored.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        if max(_area(original_size), _area(result_size)) > reduce_above:
            before, after = _reduced_pair(original, result, original_size)
        else:
            with Image.open(original) as image:
                before = _rgb(image)
            with Image.open(result) as image:
                after = _rgb(image)
                if after.size != before.size:
                    after = _to_size(after, before.size)
    _compare(before, after, outcome, limits)
    return outcome


def _area(size: tuple[int, int]) -> int:
    return size[0] * size[1]


def _reduced_pair(original, result, original_size: tuple[int, int]):
    """Both images at the original's size, or smaller with its proportions if that is over
    CHECK_MAX_PIXELS, read in strips by libvips (Lanczos, after a box shrink on the way)."""
    from enhancer.tiling.output import reduced_copy

    factor = min(1.0, (CHECK_MAX_PIXELS / _area(original_size)) ** 0.5)
    size = (max(1, round(original_size[0] * factor)), max(1, round(original_size[1] * factor)))
    before, _ = reduced_copy(original, CHECK_MAX_PIXELS, size=size)
    after, _ = reduced_copy(result, CHECK_MAX_PIXELS, size=size)
    return _rgb(before), _rgb(after)


def _compare(before: Image.Image, after: Image.Image, outcome: CheckOutcome, limits: Limits):
    a, b = np.asarray(before), np.asarray(after)
    luma_a, luma_b = _luma(a), _luma(b)
    lab_a, lab_b = _lab(_blurred(before)), _lab(_blurred(after))
    chroma_a = float(np.hypot(lab_a[..., 1], lab_a[..., 2]).mean())
    chroma_b = float(np.hypot(lab_b[..., 1], lab_b[..., 2]).mean())
    shift = float(np.sqrt(((lab_a - lab_b) ** 2).sum(axis=-1)).mean())
    similarity = ssim(luma_a, luma_b)
    outcome.figures.update(
        luma_std=round(float(luma_b.std()), 2),
        original_luma_std=round(float(luma_a.std()), 2),
        chroma=round(chroma_b, 2),
        original_chroma=round(chroma_a, 2),
        colour_shift=round(shift, 2),
        ssim=round(similarity, 4),
    )
    if luma_b.std() < FLAT_LUMA_STD and luma_a.std() >= FLAT_ORIGINAL_MIN_STD:
        outcome.failed.append("flat")
    elif chroma_b < GREY_CHROMA and chroma_a >= COLOURFUL_CHROMA:
        outcome.failed.append("grey")
    if shift > limits.max_colour_shift:
        outcome.failed.append("colour")
    if similarity < limits.min_ssim:
        outcome.failed.append("structure")


def _rgb(image: Image.Image) -> Image.Image:
    # Transparent areas compared on mid grey: what lies under alpha 0 is not part of the picture.
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    return image.convert("RGB")


def _to_size(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Back to the original's size: a box average, the honest mean of each enlarged pixel."""
    factor_x, factor_y = image.width // size[0], image.height // size[1]
    if (
        factor_x == factor_y
        and factor_x > 1
        and image.size == (size[0] * factor_x, size[1] * factor_y)
    ):
        return image.reduce(factor_x)
    return image.resize(size, Image.Resampling.BOX)


def _blurred(image: Image.Image) -> Image.Image:
    factor = max(1, image.width // COLOUR_SAMPLE_SIDE)
    return image.reduce(factor) if factor > 1 else image


def _luma(rgb: np.ndarray) -> np.ndarray:
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return rgb.astype(np.float32) @ weights


def _lab(image: Image.Image) -> np.ndarray:
    """sRGB (D65) to CIELAB, as float32 (small images only: the blurred copies)."""
    rgb = np.asarray(image, dtype=np.float32) / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    matrix = np.array(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ],
        dtype=np.float32,
    )
    xyz = linear @ matrix.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def _box_mean(plane: np.ndarray, size: int) -> np.ndarray:
    """Mean over every size x size window that fits (a 'valid' box filter), separably: `size`
    shifted float32 additions per axis, several times faster than running sums in float64 at
    1.48 MP, and exact enough (sums of 49 8-bit squares fit float32's 24 bits of mantissa)."""
    height, width = plane.shape
    rows = plane[: height - size + 1].copy()
    for offset in range(1, size):
        rows += plane[offset : height - size + 1 + offset]
    out = rows[:, : width - size + 1].copy()
    for offset in range(1, size):
        out += rows[:, offset : width - size + 1 + offset]
    out *= np.float32(1 / (size * size))
    return out


def ssim(x: np.ndarray, y: np.ndarray, window: int = SSIM_WINDOW) -> float:
    """Mean structural similarity of two 8-bit luma planes (Wang et al. 2004, uniform window,
    sample covariances, K1 = 0.01, K2 = 0.03: scikit-image's defaults)."""
    if min(x.shape) < window:
        return 1.0 if np.allclose(x, y, atol=1) else 0.0
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    n = window * window
    correction = n / (n - 1)
    mean_x, mean_y = _box_mean(x, window), _box_mean(y, window)
    var_x = (_box_mean(x * x, window) - mean_x * mean_x) * correction
    var_y = (_box_mean(y * y, window) - mean_y * mean_y) * correction
    cov = (_box_mean(x * y, window) - mean_x * mean_y) * correction
    numerator = (2 * mean_x * mean_y + c1) * (2 * cov + c2)
    denominator = (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2)
    return float((numerator / denominator).mean())
