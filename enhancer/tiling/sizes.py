"""What a job will produce, decided before anything is sent.

- "Made for" targets: the smallest Enlarge that reaches the target in the image's own orientation,
  then the smallest size with the image's proportions that covers it (both sides at least the
  target's, as a print shop trims: 800 x 600 for A4 becomes 3508 x 2631).
- Output limits: what each format can hold (WebP: 16,383 px a side) and a pixel cap that keeps
  joining and encoding within the memory budget. A size over them gets the largest Enlarge that
  fits instead of a failure.

The same arithmetic runs in the browser (static/js/detailer.js, the size preview) and in the
worker (enhancer/intake.py), so the preview says what the job will do.
"""

from __future__ import annotations

from dataclasses import dataclass

SCALES = (1, 2, 4, 8)

# The most pixels a result may have, whatever its format: a 24-megapixel photo at 4x (384 MP)
# fits. Measured (`manage.py tiling_benchmark`, docs/output-limits.md): finishing 400 MP peaks at
# about 270 MB as PNG or JPEG (libvips encodes them in strips); what bounds it is the rest of the
# path: Content Credentials, which c2pa reads whole (credentials.EMBED_FILE_MAX_BYTES).
OUTPUT_MAX_PIXELS = 400_000_000
# The most pixels per side each format can hold (JPEG's is 65,535; libvips writes up to 65,500).
MAX_SIDE = {"webp": 16_383, "png": 65_500, "jpeg": 65_500}
# WebP encodes the whole picture at once: libvips holds it decoded and libwebp converts it again,
# about 4.6 bytes a pixel (peak 660 MB at 96 MP, 1,034 MB at 179 MP, in a worker of 220 MB).
# 180 MP keeps the peak under 1.2 GiB and lets a 3:2 photo reach WebP's side limit
# (16,383 x 10,922 = 179 MP); past it libwebp also gave up on a photo (at 201 and 268 MP: its
# first partition, which holds every block's modes, overflows 512 KB), and so can it below on
# very detailed pictures: then the result is written as PNG (tiling.output.finish) and says so.
MAX_PIXELS = {"webp": 180_000_000, "png": OUTPUT_MAX_PIXELS, "jpeg": OUTPUT_MAX_PIXELS}
FORMAT_NAMES = {"webp": "WebP", "png": "PNG", "jpeg": "JPEG"}


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    long_side: int
    short_side: int
    dpi: int | None = None


TARGETS = {
    target.key: target
    for target in (
        Target("a4", "A4 print, 300 dpi", 3508, 2480, dpi=300),
        Target("a3", "A3 print, 300 dpi", 4961, 3508, dpi=300),
        Target("4k", "4K screen (3840 x 2160)", 3840, 2160),
        Target("fullhd", "Full HD (1920 x 1080)", 1920, 1080),
    )
}
MADE_FOR_CHOICES = [("", "Any use"), *((t.key, t.label) for t in TARGETS.values())]


def oriented(target: Target, width: int, height: int) -> tuple[int, int]:
    """The target's (width, height) in the image's orientation (a square counts as landscape)."""
    if width >= height:
        return target.long_side, target.short_side
    return target.short_side, target.long_side


def scale_for_target(width: int, height: int, target: Target) -> int:
    """The smallest Enlarge whose result covers the target; 8 when none does."""
    target_width, target_height = oriented(target, width, height)
    for scale in SCALES:
        if width * scale >= target_width and height * scale >= target_height:
            return scale
    return SCALES[-1]


def cover_size(width: int, height: int, target: Target) -> tuple[int, int]:
    """The smallest size with the image's proportions whose sides are both at least the
    target's: the binding side is exactly the target's, the other is rounded, never below."""
    target_width, target_height = oriented(target, width, height)
    if target_width * height >= target_height * width:  # the width binds
        return target_width, max(target_height, round(height * target_width / width))
    return max(target_width, round(width * target_height / height)), target_height


def fits(width: int, height: int, fmt: str) -> bool:
    return max(width, height) <= MAX_SIDE[fmt] and width * height <= MAX_PIXELS[fmt]


def largest_scale(width: int, height: int, fmt: str) -> int | None:
    """The largest Enlarge whose result the format can hold, or None if not even 1x."""
    for scale in reversed(SCALES):
        if fits(width * scale, height * scale, fmt):
            return scale
    return None


@dataclass(frozen=True)
class Plan:
    """What a job asks the API for and what it delivers."""

    scale: int  # the Enlarge sent to the API
    enlarged: tuple[int, int]  # the size the API's results make together
    final: tuple[int, int]  # the size of the file delivered (after resizing to a target)
    dpi: int | None
    note: str = ""  # why the Enlarge differs from the one asked for, in plain words

    @property
    def resized(self) -> bool:
        return self.final != self.enlarged


def plan_output(width: int, height: int, *, scale: int, made_for: str, fmt: str) -> Plan:
    """The Enlarge to send and the final size, for a `width` x `height` image (after any shrink).

    With a target, its Enlarge replaces the one chosen and the result is resized to cover the
    target (the format always holds a target's size). Without one, a result the format or the
    pixel cap cannot hold gets the largest Enlarge that fits, and `note` says so.
    """
    target = TARGETS.get(made_for)
    if target:
        chosen = scale_for_target(width, height, target)
        return Plan(
            scale=chosen,
            enlarged=(width * chosen, height * chosen),
            final=cover_size(width, height, target),
            dpi=target.dpi,
        )
    chosen, note = scale, ""
    if not fits(width * scale, height * scale, fmt):
        largest = largest_scale(width, height, fmt)
        if largest is None:
            raise OutputTooLarge(width, height, fmt)
        chosen = largest
        note = (
            f"{scale}x would make {width * scale:,} x {height * scale:,} pixels, more than "
            f"{limit_in_words(fmt)}, so it was enlarged {chosen}x."
        )
    size = (width * chosen, height * chosen)
    return Plan(scale=chosen, enlarged=size, final=size, dpi=None, note=note)


def limit_in_words(fmt: str) -> str:
    name = FORMAT_NAMES[fmt]
    side = f"{MAX_SIDE[fmt]:,} pixels a side"
    return f"a {name} can hold ({side}, {MAX_PIXELS[fmt] // 1_000_000} megapixels in all)"


class OutputTooLarge(ValueError):
    """Not even the image's own size fits the format (only possible for WebP)."""

    def __init__(self, width: int, height: int, fmt: str) -> None:
        self.message = (
            f"This image is {width:,} x {height:,} pixels, more than {limit_in_words(fmt)}. "
            "Choose PNG or JPEG."
        )
        super().__init__(self.message)


def describe(
    width: int, height: int, *, scale: int, made_for: str, fmt: str, shrink: bool, cloud: bool
) -> tuple[str, int]:
    """The form's size preview for one image, and the Enlarge that will be sent.

    For example "3000 x 2000 becomes 6000 x 4000 · sent as 6 tiles". Said before anything is
    sent, from the same arithmetic the worker uses (`plan_output`, `plan_tiles`).
    """
    from enhancer.images import AREA_LIMIT, fit_within_area
    from enhancer.tiling.grid import plan_tiles

    parts = []
    if shrink and width * height > AREA_LIMIT:
        fitted = fit_within_area(width, height)
        parts.append(f"{width} x {height} is reduced to {fitted[0]} x {fitted[1]} to fit")
        width, height = fitted
    try:
        plan = plan_output(width, height, scale=scale, made_for=made_for, fmt=fmt)
    except OutputTooLarge as exc:
        return exc.message, scale
    enlarged = f"{plan.enlarged[0]} x {plan.enlarged[1]}"
    if parts:
        parts[0] += f", then becomes {enlarged}"
    else:
        parts.append(f"{width} x {height} becomes {enlarged}")
    if plan.resized:
        dpi = f" at {plan.dpi} dpi" if plan.dpi else ""
        parts.append(f"{plan.final[0]} x {plan.final[1]}{dpi} for {TARGETS[made_for].label}")
    tiles = len(plan_tiles(width, height))
    if tiles > 1:
        parts.append(
            f"sent as {tiles} tiles" + (f" ({tiles} API jobs, one per tile)" if cloud else "")
        )
    elif cloud:
        parts.append("one API job")
    text = " · ".join(parts)
    if plan.note:
        text += f". {plan.note}"
    return text, plan.scale
