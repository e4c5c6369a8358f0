"""`python manage.py engine_train`: build the data set, train, evaluate and export the learned core.

Needs the optional ``train`` extra (``pip install -e .[train]``: PyTorch CPU, ONNX, scikit-image)
and Debian's apt-get for the wallpaper packages. Writes ``x2.onnx``, ``x4.onnx``, ``metrics.json``
and ``MODEL_CARD.md`` to ``enhancer/engine/weights/`` (or ``--output``). Same machine, same
seed: the same weights; the figures are measured afterwards by the runtime core itself.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from enhancer.engine import learned
from enhancer.engine.training.data import DataUnavailable, load_photos

INSTALL_HINT = "pip install -e .[train]   (PyTorch 2.13.0 CPU, onnx, scikit-image)"


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


class Command(BaseCommand):
    help = "Train the learned upscaling core (x2, x4) and export it to ONNX with its model card."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scales", type=_int_list, default=[2, 4])
        parser.add_argument(
            "--steps", type=int, default=None, help="Override the training steps (a quick try)."
        )
        parser.add_argument("--output", type=Path, default=learned.WEIGHTS_DIR)
        parser.add_argument(
            "--evaluate-only",
            action="store_true",
            help="Measure the shipped models again and rewrite metrics.json and the card.",
        )
        parser.add_argument(
            "--held-out-bound",
            action="store_true",
            help="Measure the networks' ceiling: train on the held-out photos themselves and "
            "print the gain there. Writes nothing; such a network is never shipped.",
        )
        parser.add_argument(
            "--cache",
            type=Path,
            default=None,
            help="Where the downloaded packages and photos are kept (default: "
            "DETAILER_DATA_DIR/training-cache).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            from enhancer.engine.training import report
            from enhancer.engine.training.export import export_onnx, load_onnx_weights
            from enhancer.engine.training.train import (
                CONFIGS,
                luma_psnr_gains,
                make_pairs,
                train,
            )
        except ImportError as exc:
            raise CommandError(
                f"Training needs the train extra ({exc}).\n  {INSTALL_HINT}"
            ) from exc
        cache = options["cache"] or settings.DATA_DIR / "training-cache"
        output: Path = options["output"]
        started = time.perf_counter()
        if options["evaluate_only"]:
            options["scales"] = []
        # Checked before the long steps: the scales exist, and a network that starts from
        # another finds it (trained in this run, or already in the output directory; a bound
        # run writes no network, so there it must be in the output directory already).
        bound = options["held_out_bound"]
        for scale in options["scales"]:
            if scale not in CONFIGS:
                raise CommandError(f"There is no x{scale} network; the scales are {list(CONFIGS)}.")
            source = CONFIGS[scale].start_from
            written_here = source in options["scales"] and not bound
            if source and not written_here and not (output / f"x{source}.onnx").exists():
                hint = "a bound run writes none" if bound else f"use --scales {source},{scale}"
                raise CommandError(
                    f"x{scale} starts from the x{source} network, and "
                    f"{output / f'x{source}.onnx'} is missing: {hint}"
                )
        try:
            photos = load_photos(cache)
        except DataUnavailable as exc:
            raise CommandError(f"The training photos cannot be fetched: {exc}") from exc
        self.stdout.write(
            f"Data: {len(photos.train)} training photos, {len(photos.held_out)} held out "
            f"({', '.join(photos.held_out)}); {time.perf_counter() - started:.0f} s"
        )
        # Keep the record of a scale that is not retrained now (``--scales 4`` after a change
        # to the x4 network leaves the x2 facts in the model card).
        trained = {}
        if (output / "metrics.json").exists():
            trained = json.loads((output / "metrics.json").read_text()).get("training", {})
        # Ascending, so a network that starts from a smaller scale's finds it freshly written.
        for scale in sorted(options["scales"]):
            config = CONFIGS[scale]
            if options["steps"]:
                config = config.with_steps(options["steps"])
            start = None
            if config.start_from:
                start = load_onnx_weights(output / f"x{config.start_from}.onnx")
            eval_pairs = make_pairs(photos.held_out, scale, (1.0,))
            if bound:
                # Fitting the very photos it is measured on, at their own size: no training
                # set can do better for this network and recipe.
                train_photos, train_pairs = photos.held_out, eval_pairs
            else:
                train_photos = photos.training(with_added=config.added_photos)
                train_pairs = make_pairs(train_photos, scale, config.pyramid)
            bound_note = ", held out, at their own size only" if bound else ""
            self.stdout.write(
                f"Training x{scale} on {len(train_photos)} photos{bound_note}: {config.as_dict()}"
            )
            began = time.perf_counter()
            model = train(config, train_pairs, eval_pairs, self.stdout.write, start)
            seconds = time.perf_counter() - began
            if bound:
                gain = float(np.mean(luma_psnr_gains(model, eval_pairs)))
                self.stdout.write(
                    f"  x{scale} bound: {gain:+.2f} dB over bicubic on the held-out photos it was"
                    f" trained on ({seconds / 60:.1f} min); nothing written"
                )
                continue
            size = export_onnx(
                model,
                output / f"x{scale}.onnx",
                # Nothing run-dependent in the file: a second run must write the same bytes.
                {"config": config.as_dict()},
            )
            trained[str(scale)] = {
                "config": config.as_dict(),
                "photos": len(train_photos),
                "seconds": seconds,
                "bytes": size,
            }
            self.stdout.write(f"  wrote {output / f'x{scale}.onnx'} ({size / 1024:.0f} KiB)")
        if bound:
            return
        if output.resolve() != learned.WEIGHTS_DIR.resolve():
            self.stdout.write(
                "Evaluation skipped: the runtime core reads only the shipped weights."
            )
            return
        learned.reset_sessions()
        self.stdout.write("Evaluating on the held-out photos with the runtime core ...")
        metrics = report.evaluate(photos.held_out, [2, 4, 8])
        metrics["training"] = trained
        (output / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
        (output / "MODEL_CARD.md").write_text(report.model_card(metrics))
        self.stdout.write(report.summary(metrics))
        self.stdout.write(f"Done in {time.perf_counter() - started:.0f} s.")
