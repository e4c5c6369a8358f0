"""Upscaling cores (the part of the engine that turns n pixels into n * scale**2), and the
NumPy filters the pipeline builds on.

A core is the most faithful upscaler we have; everything the user steers (``details``,
``modification``) happens around it in ``pipeline.py``. That split lets the learned model
(``learned.py``, ONNX, the default) and the classical core share the tone and detail controls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

__all__ = [
    "ClaheTables",
    "ClassicalCore",
    "UpscaleCore",
    "available_cores",
    "box_mean",
    "clahe",
    "clahe_apply",
    "clahe_tables",
    "get_core",
    "guided_smooth",
    "lanczos_rows",
    "local_range",
    "register_core",
    "restore_luma",
]

# BT.601 luma weights; the pipeline and the restoration filter agree on them so that adding the
# same delta to R, G and B changes luma by exactly that delta and leaves chroma alone.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# 1-D half of a plus-shaped 7x7 restoration kernel K = h(x) + h(y) - identity, fitted by least
# squares so that "filter, then Lanczos" best reproduces photos that were bicubic-downscaled and
# carried Gaussian noise of 2/255 (the noise keeps the fit from amplifying sensor noise and JPEG
# blocks). Fitted on the photos bundled with scikit-image at x2, x4 and x8 together: the optimum
# barely moves with the scale, because both the camera/downscale blur and the Lanczos kernel are
# about one *input* pixel wide. Leave-one-image-out validation lost nothing against the full fit.
_RESTORE_TAPS = (-0.0218, 0.0818, -0.155)  # offsets 3, 2, 1
_RESTORE_CENTER = 1.0 - 2.0 * sum(_RESTORE_TAPS)  # the kernel keeps flat areas flat
RESTORE_RADIUS = len(_RESTORE_TAPS)


@runtime_checkable
class UpscaleCore(Protocol):
    """Pluggable upscaler: float32 H x W x 3 in 0..1 -> (H*scale) x (W*scale) x 3, either
    float32 in 0..1, uint8, or an RGB image."""

    name: str

    def upscale(self, rgb: np.ndarray, scale: int) -> np.ndarray | Image.Image: ...


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of an H x W x 3 float array, as float32."""
    return (rgb @ LUMA_WEIGHTS).astype(np.float32, copy=False)


def restore_luma(y: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Apply the fitted restoration kernel to a luma plane (edges replicated).

    ``strength`` scales the kernel's departure from identity: 0 = no change, 1 = fitted optimum.
    """
    r = RESTORE_RADIUS
    p = np.pad(y, r, mode="edge")
    h, w = y.shape
    # h(x) + h(y) - identity, computed as centre * y + sum of symmetric pairs in both directions.
    out = np.float32(2.0 * _RESTORE_CENTER - 1.0) * y
    for offset, tap in zip(range(r, 0, -1), _RESTORE_TAPS, strict=True):
        left, right = (
            p[r : r + h, r - offset : r - offset + w],
            p[r : r + h, r + offset : r + offset + w],
        )
        up, down = (
            p[r - offset : r - offset + h, r : r + w],
            p[r + offset : r + offset + h, r : r + w],
        )
        out += np.float32(tap) * (left + right + up + down)
    if strength != 1.0:
        out = y + np.float32(strength) * (out - y)
    return out.astype(np.float32, copy=False)


def to_uint8(rgb: np.ndarray) -> np.ndarray:
    """0..1 float -> uint8 with rounding (not truncation, which would darken by half a level)."""
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


class ClassicalCore:
    """Restoration filter on luma at input resolution, then Pillow's Lanczos.

    Doing the sharpening before the resize costs 1/scale**2 of doing it after and is just as
    good: for band-limited content a filter at low resolution equals one at high resolution.
    """

    name = "classical"
    # Input rows of context a strip needs on each side when cut by the caller (the pipeline
    # instead restores the whole input once and cuts only the resize, which needs none).
    context = RESTORE_RADIUS + 3
    # At scale 1 there is no interpolation blur to undo, only the source's own softness.
    same_size_strength = 0.5

    def upscale(self, rgb: np.ndarray, scale: int) -> np.ndarray:
        prepared = self.prepare(rgb, scale)
        out = self.upscale_rows(prepared, scale, 0, prepared.height)
        return np.asarray(out).astype(np.float32) / np.float32(255)

    def prepare(self, rgb: np.ndarray, scale: int) -> Image.Image:
        """The restored input as an 8-bit image, ready for :meth:`upscale_rows`."""
        y = luma(rgb)
        strength = 1.0 if scale > 1 else self.same_size_strength
        delta = restore_luma(y, strength) - y
        return Image.fromarray(to_uint8(rgb + delta[..., None]), "RGB")

    def upscale_rows(self, prepared: Image.Image, scale: int, a: int, b: int) -> Image.Image:
        """Output rows for input rows [a, b) of ``prepared`` (see :func:`lanczos_rows`)."""
        if scale == 1:
            return prepared.crop((0, a, prepared.width, b))
        return lanczos_rows(prepared, scale, a, b)


# Input rows Pillow's Lanczos reads on either side of an output row when enlarging.
LANCZOS_REACH = 3


def lanczos_rows(image: Image.Image, scale: int, a: int, b: int) -> Image.Image:
    """Rows [a*scale, b*scale) of ``image`` enlarged ``scale`` times with Lanczos.

    Bit-identical to the same rows of one whole-image resize: the strip is cut with the
    kernel's reach of extra rows, resized, and the extra rows dropped. (Pillow's own ``box``
    argument is not: with a box it runs the vertical pass first, and its 8-bit intermediate
    clips Lanczos overshoot differently; on fine texture rows differ by up to 30 levels.)
    Lanczos on 8 bits is Pillow's fastest path; its rounding costs under 0.01 dB.
    """
    w, h = image.size
    top, bottom = max(0, a - LANCZOS_REACH), min(h, b + LANCZOS_REACH)
    if (top, bottom) != (0, h):
        image = image.crop((0, top, w, bottom))
    strip = image.resize((w * scale, (bottom - top) * scale), Image.Resampling.LANCZOS)
    if (top, bottom) == (a, b):
        return strip
    return strip.crop((0, (a - top) * scale, w * scale, (b - top) * scale))


# --- NumPy filters the pipeline (and future cores) share ---------------------------------


def box_mean(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window, edges replicated (separable sums of shifted views)."""
    size = 2 * radius + 1
    p = np.pad(x, radius, mode="edge")
    h, w = x.shape
    rows = p[0:h].copy()
    for i in range(1, size):
        rows += p[i : i + h]
    out = rows[:, 0:w].copy()
    for i in range(1, size):
        out += rows[:, i : i + w]
    out *= np.float32(1 / (size * size))
    return out


def guided_smooth(y: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Self-guided filter (He et al.): smooths texture, keeps edges whose variance >> eps."""
    mean = box_mean(y, radius)
    var = np.maximum(box_mean(y * y, radius) - mean * mean, 0)
    a = var / (var + np.float32(eps))
    b = mean - a * mean
    return box_mean(a, radius) * y + box_mean(b, radius)


@dataclass(frozen=True, eq=False)
class ClaheTables:
    """CLAHE's lookup tables: one per cell of a ``rows`` x ``columns`` grid laid over a
    ``height`` x ``width`` plane, each mapping 256 luma bins to 0..1."""

    lut: np.ndarray  # float32, (rows * columns * 256,)
    rows: int
    columns: int
    height: int
    width: int


def clahe_tables(
    y: np.ndarray, clip_limit: float, grid: int = 8, *, size: tuple[int, int] | None = None
) -> ClaheTables:
    """The tables of :func:`clahe` for plane ``y``.

    ``size`` (height, width) is the plane the grid is meant for when ``y`` is a reduced copy of
    it (a tiled image's context): the cell count follows the full size, the histograms come
    from ``y``, and the tables are applied to the full plane's pixels by :func:`clahe_apply`.
    """
    h, w = y.shape
    full_h, full_w = size or (h, w)
    ty, tx = max(1, min(grid, full_h // 16)), max(1, min(grid, full_w // 16))
    y_edges, x_edges = np.linspace(0, h, ty + 1), np.linspace(0, w, tx + 1)
    row_tile = np.minimum(np.searchsorted(y_edges, np.arange(h), side="right") - 1, ty - 1)
    col_tile = np.minimum(np.searchsorted(x_edges, np.arange(w), side="right") - 1, tx - 1)
    tile = row_tile[:, None] * tx + col_tile[None, :]
    hist = np.bincount((tile * 256 + _bins(y)).ravel(), minlength=ty * tx * 256)
    hist = hist.reshape(ty * tx, 256).astype(np.float64)
    limit = np.maximum(clip_limit * hist.sum(1, keepdims=True) / 256, 1)
    excess = np.maximum(hist - limit, 0).sum(1, keepdims=True)
    hist = np.minimum(hist, limit) + excess / 256
    lut = ((np.cumsum(hist, 1) - hist / 2) / hist.sum(1, keepdims=True)).astype(np.float32)
    return ClaheTables(lut.ravel(), ty, tx, full_h, full_w)


def _bins(y: np.ndarray) -> np.ndarray:
    # Nearest of 256 bins, for the histograms and the lookups alike: luma of 8-bit RGB is
    # within half a level of one, so finer bins would double the work for nothing visible.
    return (np.clip(y, 0, 1) * np.float32(255) + np.float32(0.5)).astype(np.intp)


def clahe_apply(y: np.ndarray, tables: ClaheTables, top: int = 0, left: int = 0) -> np.ndarray:
    """Map plane ``y``, whose first pixel is at (``top``, ``left``) of the plane the tables
    were made for, bilinearly between the cells' tables by absolute position: tiles of one
    image mapped with the same tables agree where they overlap."""
    h, w = y.shape
    ty, tx, lut = tables.rows, tables.columns, tables.lut
    bins = _bins(y)

    def tile_weights(n: int, offset: int, length: int, count: int) -> tuple[np.ndarray, ...]:
        edges = np.linspace(0, length, count + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        where = np.arange(offset, offset + n) + 0.5
        pos = np.clip(np.interp(where, centres, np.arange(count)), 0, count - 1)
        lo = np.floor(pos).astype(np.intp)
        return lo, np.minimum(lo + 1, count - 1), (pos - lo).astype(np.float32)

    r0, r1, wy = tile_weights(h, top, tables.height, ty)
    c0, c1, wx = tile_weights(w, left, tables.width, tx)

    def mapped(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return lut[(rows[:, None] * tx + cols[None, :]) * 256 + bins]

    upper = mapped(r0, c0) * (1 - wx) + mapped(r0, c1) * wx
    lower = mapped(r1, c0) * (1 - wx) + mapped(r1, c1) * wx
    return upper * (1 - wy[:, None]) + lower * wy[:, None]


def clahe(y: np.ndarray, clip_limit: float, grid: int = 8) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation of a 0..1 plane, bilinear between tiles.

    Tiles are about an eighth of the image each way, as in OpenCV's default.
    """
    return clahe_apply(y, clahe_tables(y, clip_limit, grid))


def local_range(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3x3 minimum and maximum, edges replicated."""
    p = np.pad(y, 1, mode="edge")
    lo = np.minimum(np.minimum(p[:-2], p[2:]), p[1:-1])
    hi = np.maximum(np.maximum(p[:-2], p[2:]), p[1:-1])
    lo = np.minimum(np.minimum(lo[:, :-2], lo[:, 2:]), lo[:, 1:-1])
    hi = np.maximum(np.maximum(hi[:, :-2], hi[:, 2:]), hi[:, 1:-1])
    return lo, hi


def _learned_core() -> UpscaleCore:
    from .learned import LearnedCore  # imports onnxruntime only when asked for

    return LearnedCore()


DEFAULT_CORE = "learned"
_CORES: dict[str, Callable[[], UpscaleCore]] = {
    "classical": ClassicalCore,
    "learned": _learned_core,
}


def register_core(name: str, factory: Callable[[], UpscaleCore]) -> None:
    """Make a core available to :func:`get_core` (e.g. an ONNX model shipped in a package)."""
    _CORES[name] = factory


def available_cores() -> list[str]:
    return sorted(_CORES)


def _configured_core_name() -> str:
    # Read lazily and tolerate unconfigured settings: the benchmark and the tests call the
    # pipeline from plain Python as well as from inside the site.
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return DEFAULT_CORE
    try:
        return getattr(settings, "DETAILER_ENGINE_CORE", None) or DEFAULT_CORE
    except ImproperlyConfigured:
        return DEFAULT_CORE


def get_core(name: str | None = None) -> UpscaleCore:
    """The named core; ``None`` means ``settings.DETAILER_ENGINE_CORE`` or ``"learned"``."""
    key = name or _configured_core_name()
    try:
        factory = _CORES[key]
    except KeyError:
        known = ", ".join(available_cores())
        raise ValueError(f"Unknown engine core {key!r}; available: {known}") from None
    return factory()
