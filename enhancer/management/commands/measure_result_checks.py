"""Measure the result checks' figures on real photos at every Detail and Change level.

    manage.py measure_result_checks [--photos N] [--side PX] [--scale 2]

Runs the built-in engine (the same pipeline and encoder as its worker) on scikit-image's
bundled photos and prints, per setting, the worst colour shift and the lowest SSIM the checks
measure. The limits in enhancer/result_checks.py were chosen from this table (see the README).
Needs scikit-image (`pip install -e '.[benchmark]'`).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from PIL import Image

from enhancer.engine.pipeline import EnhanceSettings, encode_image, enhance_image
from enhancer.result_checks import Limits, builtin_limits, check_files

PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "motorcycle_left",
    "camera",
    "coins",
    "page",
    "moon",
)
LEVELS = {1: "Low", 2: "Medium", 3: "High"}
CHANGES = {1: "Subtle", 2: "Balanced", 3: "Strong"}


class Command(BaseCommand):
    help = "Measure colour shift and SSIM of built-in engine results on real photos."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--photos", type=int, default=len(PHOTOS))
        parser.add_argument("--side", type=int, default=384, help="Longest side of each input.")
        parser.add_argument("--scale", type=int, default=2, choices=(1, 2, 4))

    def handle(self, *args, photos: int, side: int, scale: int, **options) -> None:
        from enhancer.engine.management.commands.engine_benchmark import bundled_photos

        arrays = bundled_photos(PHOTOS[:photos])
        if not arrays:
            raise CommandError("scikit-image is not installed: pip install -e '.[benchmark]'")
        no_limits = Limits(max_colour_shift=1e9, min_ssim=-1.0)
        over = 0
        self.stdout.write(
            f"{len(arrays)} photos ({', '.join(arrays)}), longest side {side} px, x{scale},"
            " WebP as the engine writes"
        )
        self.stdout.write(
            f"{'setting':<31} {'max shift':>10} {'mean shift':>10} {'limit':>6}"
            f" {'min SSIM':>9} {'limit':>6}"
        )
        with tempfile.TemporaryDirectory() as folder:
            for details, detail_word in LEVELS.items():
                for change, change_word in CHANGES.items():
                    shifts, similarities = [], []
                    for name, array in arrays.items():
                        original = Image.fromarray(array)
                        original.thumbnail((side, side), Image.Resampling.LANCZOS)
                        source = io.BytesIO()
                        original.save(source, "PNG")
                        settings = EnhanceSettings(
                            scale=scale, details=details, modification=change, seed=1
                        )
                        result = enhance_image(original, settings)
                        written = encode_image(result, Path(folder) / name, "webp")
                        with written.path.open("rb") as handle:
                            source.seek(0)
                            outcome = check_files(
                                source,
                                handle,
                                target=(original.width * scale, original.height * scale),
                                limits=no_limits,
                            )
                        shifts.append(outcome.figures["colour_shift"])
                        similarities.append(outcome.figures["ssim"])
                    limits = builtin_limits(details, change)
                    over += sum(s > limits.max_colour_shift for s in shifts)
                    over += sum(s < limits.min_ssim for s in similarities)
                    label = f"Detail {detail_word} · Change {change_word}"
                    self.stdout.write(
                        f"{label:<31} {max(shifts):>10.2f} {sum(shifts) / len(shifts):>10.2f}"
                        f" {limits.max_colour_shift:>6.1f} {min(similarities):>9.4f}"
                        f" {limits.min_ssim:>6.2f}"
                    )
        self.stdout.write(f"Results the current limits would warn about: {over}.")
