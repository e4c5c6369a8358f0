"""The learned core: a small CNN (ONNX, run by onnxruntime) enlarges luma; chroma is bicubic.

The networks are trained by ``manage.py engine_train`` (``enhancer/engine/training/``) and
shipped in ``enhancer/engine/weights/`` with their model card. Running them needs onnxruntime
and NumPy only, never PyTorch.

Why luma only: the eye resolves detail in brightness far better than in colour, and PSNR is
measured on luma, so the network spends all its capacity there; colour is enlarged with bicubic
(as float differences from luma, which leave the network's luma untouched). x2 and x4 have their
own networks; x8 is the x4 network followed by Lanczos x2, chosen by measurement (the model card
compares it with running the x2 network on the x4 network's output, at four times the work).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from .cores import LUMA_WEIGHTS, ClassicalCore, lanczos_rows, luma

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
NETWORK_SCALES = (2, 4)
# Low-resolution tile side. Larger tiles waste less on overlap but hold more activations:
# 512 x 512 with 32 channels is 34 MB per layer, and onnxruntime keeps about three alive.
TILE = 512


class ModelMissing(RuntimeError):
    """The ONNX file for a scale is not where the core expects it."""


def _threads() -> int:
    try:
        from django.conf import settings

        return int(getattr(settings, "DETAILER_ENGINE_THREADS", 2))
    except Exception:
        return 2


@cache
def _session(path: Path, threads: int):
    import onnxruntime as ort

    if not path.exists():
        raise ModelMissing(f"{path} is missing; run `manage.py engine_train` to make it")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Sequential execution and no spinning: the engine worker shares the CPU with the site.
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def reset_sessions() -> None:
    """Forget loaded models (after ``engine_train`` wrote new ones)."""
    _session.cache_clear()
    _model_info.cache_clear()


def model_info(scale: int) -> dict:
    return _model_info(scale, _threads())


@cache
def _model_info(scale: int, threads: int) -> dict:
    """The metadata the training command stored in the model (scale, receptive radius, ...)."""
    session = _session(WEIGHTS_DIR / f"x{scale}.onnx", threads)
    return json.loads(session.get_modelmeta().custom_metadata_map["detailer"])


def upscale_luma(y: np.ndarray, scale: int, tile: int = TILE) -> np.ndarray:
    """Enlarge a float32 luma plane (0..1) ``scale`` times with the network, tile by tile.

    Tiles overlap by the network's receptive radius, so every kept output pixel saw exactly
    the neighbours it would have seen in one untiled pass: no seams, bounded memory.
    """
    session = _session(WEIGHTS_DIR / f"x{scale}.onnx", _threads())
    overlap = int(model_info(scale)["receptive_radius"])
    h, w = y.shape
    out = np.empty((h * scale, w * scale), np.float32)
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            bottom, right = min(h, top + tile), min(w, left + tile)
            t0, l0 = max(0, top - overlap), max(0, left - overlap)
            t1, l1 = min(h, bottom + overlap), min(w, right + overlap)
            piece = np.ascontiguousarray(y[t0:t1, l0:l1])[None, None]
            (result,) = session.run(None, {"luma": piece})
            out[top * scale : bottom * scale, left * scale : right * scale] = result[
                0,
                0,
                (top - t0) * scale : (bottom - t0) * scale,
                (left - l0) * scale : (right - l0) * scale,
            ]
    return out


class LearnedCore:
    """Network on luma (x2, x4; x8 = x4 then Lanczos x2), bicubic on chroma; 8-bit RGB out."""

    name = "learned"
    # Input rows of context the pipeline gives each strip: at least the networks' receptive
    # radius, 11 and 15 pixels (checked against the models in the tests).
    context = 16

    def upscale(self, rgb: np.ndarray, scale: int) -> np.ndarray | Image.Image:
        if scale == 1:
            # Same size: there is no enlargement to learn; sharpen gently as the classical core.
            return np.asarray(ClassicalCore().prepare(rgb, 1))
        network_scale = 4 if scale == 8 else scale
        if network_scale not in NETWORK_SCALES:
            raise ValueError(f"The learned core cannot enlarge {scale} times")
        out = self._upscale_network(rgb, network_scale)
        if scale == 8:
            # Answered as an image: at 95 megapixels every copy into NumPy and back costs.
            return lanczos_rows(Image.fromarray(out, "RGB"), 2, 0, out.shape[0])
        return out

    def _upscale_network(self, rgb: np.ndarray, scale: int) -> np.ndarray:
        h, w = rgb.shape[:2]
        size = (w * scale, h * scale)
        y = luma(rgb)
        # All three channels are the network's luma plus a colour difference, in 8-bit units
        # with the rounding offset added once; in place, since at x4 every temporary plane of
        # a 1216 px photo is 95 MB to write and read again.
        base = upscale_luma(y, scale)
        base *= np.float32(255)
        base += np.float32(0.5)

        # Colour as differences from luma, enlarged in float: adding them back leaves the
        # network's luma exactly as it was. (Pillow's 8-bit YCbCr round trip cost 0.4 dB on
        # average and up to 2 dB on dark or saturated photos.) Green's difference follows from
        # the luma weights, since the three weigh to zero; it is formed before enlarging, which
        # is linear, so that one more resize replaces arithmetic on the large planes.
        r, g, b = LUMA_WEIGHTS
        red = (rgb[..., 0] - y) * np.float32(255)
        blue = (rgb[..., 2] - y) * np.float32(255)
        green = (red * r + blue * b) / -g
        out = np.empty((size[1], size[0], 3), np.uint8)
        channel = np.empty_like(base)
        for index, difference in enumerate((red, green, blue)):
            enlarged = Image.fromarray(difference, "F").resize(size, Image.Resampling.BICUBIC)
            np.add(base, np.asarray(enlarged), out=channel)
            np.clip(channel, 0, 255, out=channel)
            out[..., index] = channel  # truncates: with the 0.5 above, rounds
        return out
