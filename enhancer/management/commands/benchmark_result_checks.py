"""Time and memory of the automatic result checks on a 1.48-megapixel result.

    manage.py benchmark_result_checks [--repeat 5]

The budget (issue 22): under 1 s and under 200 MB for a 1216 x 1216 result (1.48 MP). Both ways
to get one are measured: 608 x 608 enlarged 2x, and the contract's largest input, 1216 x 1216, at
1x (the dearer: SSIM then runs on 1.48 MP instead of 0.37 MP). Memory is the
rise of this process's peak resident size during the checks, after a warm-up run (a worker is
long-lived: imports and first-call costs are not what one check costs).
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand
from PIL import Image

from enhancer.result_checks import builtin_limits, check_files

TIME_BUDGET = 1.0
MEMORY_BUDGET = 200 * 2**20


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    # Linux: writing 5 to clear_refs resets VmHWM (the peak) to the current resident size.
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def test_pair(side: int, scale: int) -> tuple[bytes, bytes]:
    """A side x side photo and the WebP result the engine makes from it at `scale`."""
    from enhancer.engine.pipeline import EnhanceSettings, enhance_image

    try:
        from skimage import data

        photo = Image.fromarray(data.astronaut()).resize((side, side), Image.Resampling.LANCZOS)
    except ImportError:
        rng = np.random.default_rng(1)
        photo = Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8))
    original = io.BytesIO()
    photo.save(original, "PNG")
    result = enhance_image(photo, EnhanceSettings(scale=scale, details=2, modification=2, seed=1))
    encoded = io.BytesIO()
    result.save(encoded, "WEBP", quality=90, method=2)
    return original.getvalue(), encoded.getvalue()


class Command(BaseCommand):
    help = "Time and peak memory of the automatic result checks for a 1.48 MP result."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args, repeat: int, **options) -> None:
        for side, scale in ((608, 2), (1216, 1)):
            self.measure(side, scale, repeat)

    def measure(self, side: int, scale: int, repeat: int) -> None:
        original, result = test_pair(side, scale)
        limits = builtin_limits(2, 2)
        target = (side * scale, side * scale)

        def run():
            return check_files(
                io.BytesIO(original), io.BytesIO(result), target=target, limits=limits
            )

        run()  # warm-up
        can_reset = _reset_peak()
        before = _status_kb("VmRSS")
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            outcome = run()
            seconds.append(time.perf_counter() - started)
        rise = _status_kb("VmHWM") - before if can_reset else None
        best, median = min(seconds), sorted(seconds)[len(seconds) // 2]
        self.stdout.write(
            f"Result checks, {side} x {side} original at {scale}x -> {target[0]} x {target[1]}"
            f" WebP result ({target[0] * target[1] / 1e6:.2f} MP), {repeat} runs"
        )
        self.stdout.write(f"  figures: {outcome.figures}; failed: {outcome.failed or 'none'}")
        self.stdout.write(
            f"  time: best {best:.3f} s, median {median:.3f} s (budget {TIME_BUDGET:.1f} s:"
            f" {'met' if median < TIME_BUDGET else 'NOT met'})"
        )
        if rise is None:
            self.stdout.write("  memory: cannot reset the peak on this system (not Linux)")
        else:
            verdict = "met" if rise < MEMORY_BUDGET else "NOT met"
            self.stdout.write(
                f"  memory: peak rise {rise / 2**20:.0f} MiB above {before / 2**20:.0f} MiB"
                f" resident (budget {MEMORY_BUDGET / 2**20:.0f} MiB: {verdict})"
            )
