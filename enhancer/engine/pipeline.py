"""The built-in engine's image pipeline: Pillow + NumPy only.

Flow (see ``enhance_image``):
1. ``prepare_input``: EXIF orientation, colour management to sRGB, any mode to RGB + alpha.
2. ``_enhance_low_res``: the user's controls at input resolution, where they cost 1/scale**2:
   CLAHE-like local contrast on luma (modification), an edge-aware detail boost (details).
3. The core restores and enlarges, strip by strip: the learned one (``learned.py``, the
   default) runs a small CNN on luma; the classical one (``cores.py``) sharpens luma with a
   fitted filter, then Lanczos.
4. ``_finish``: halo-free sharpening at output resolution (details) and a seeded grain
   (modification 3) on each strip, which is then pasted into the output image.
Nothing at output resolution is held as float RGB, nor whole while being worked on: an 8x
job on 1216 x 1216 would need 1.1 GB for one float32 RGB copy (the learned core keeps one
strip's luma as float32, a third of that per pixel, and only up to 4x).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageChops, ImageCms, ImageFilter, ImageOps

from .cores import (
    ClassicalCore,
    UpscaleCore,
    box_mean,
    clahe,
    clahe_apply,
    clahe_tables,
    get_core,
    guided_smooth,
    lanczos_rows,
    local_range,
    luma,
    to_uint8,
)

__all__ = [
    "EnhanceSettings",
    "EnhancedFile",
    "TilePlace",
    "UpscaleCore",
    "choose_format",
    "encode_image",
    "enhance_file",
    "enhance_image",
    "get_core",
    "prepare_input",
]

log = logging.getLogger(__name__)

SCALES = (1, 2, 4, 8)
FORMATS = ("auto", "png", "webp")
WEBP_MAX_SIDE = 16383  # libwebp's hard limit per side
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp"}
# Output pixels per strip: about 170 MB of 8-bit images and int16 planes while a strip is
# finished, and few strips (one at 2x) so the rows each re-reads for context stay cheap.
STRIP_PIXELS = 1 << 23
# WebP lossy at quality 90 keeps fine detail. Method 2 costs about what method 0 does (1.1 s
# against 1.0 s for a detailed 4x result) and, unlike methods 0 and 1, did not overflow
# libwebp's first partition ("encoding error 6") on a detailed 8x result; method 3 took 7x as
# long. Figures from ``manage.py engine_benchmark``.
WEBP_QUALITY = 90
WEBP_METHOD = 2
# libwebp's lossless coder needs about 21 bytes per pixel (2.3 GB for 8x of 1216 x 1216), and
# the alpha plane of a lossy WebP goes through it too (2.2 GB peak with alpha at 8x against
# 1.0 GB without). Past this size, transparent results are PNG, and a failed lossy encode falls
# back to PNG rather than lossless WebP: PNG streams (0.6 GB peak at 8x).
WEBP_LOSSLESS_MAX_PIXELS = 48_000_000
PNG_COMPRESS_LEVEL = 1


@dataclass(frozen=True)
class TilePlace:
    """Where the image being enhanced sits in a larger one that is enhanced in tiles (the
    engine's own extension of the contract, ``tile``): its top-left corner and the whole
    image's size, in input pixels. With it, the steps that look beyond a pixel's neighbours
    (CLAHE's grid of tables, the grain's pattern) are laid over the whole image instead of
    restarting at each tile, so neighbouring tiles agree where they overlap."""

    left: int
    top: int
    image_width: int
    image_height: int

    def __post_init__(self) -> None:
        if min(self.left, self.top) < 0 or min(self.image_width, self.image_height) < 1:
            raise ValueError("a tile's place must be inside an image of at least 1 x 1")

    def check_fits(self, width: int, height: int) -> None:
        if self.left + width > self.image_width or self.top + height > self.image_height:
            raise ValueError(
                f"a {width} x {height} tile at ({self.left}, {self.top}) does not fit in "
                f"{self.image_width} x {self.image_height}"
            )


@dataclass(frozen=True)
class EnhanceSettings:
    scale: int = 2  # 1, 2, 4, 8 (1 = same size, detail only)
    details: int = 2  # 1..3: how much fine detail is recovered and sharpened
    modification: int = 2  # 1..3: how far tones and texture may move from the input
    seed: int | None = None  # makes the grain of modification 3 repeatable; None = random
    output_format: str = "auto"  # "auto" (= webp), "png", "webp"
    tile: TilePlace | None = None  # set when this image is one tile of a larger one

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"scale must be one of {SCALES}, not {self.scale!r}")
        for field in ("details", "modification"):
            if getattr(self, field) not in (1, 2, 3):
                raise ValueError(f"{field} must be 1, 2 or 3, not {getattr(self, field)!r}")
        if self.output_format not in FORMATS:
            raise ValueError(f"output_format must be one of {FORMATS}")


@dataclass(frozen=True)
class EnhancedFile:
    path: Path
    format: str  # "png" | "webp"
    content_type: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class _Look:
    """What the two user controls translate to; level 1 of each is "leave it alone"."""

    detail_boost: float = 0.0  # gain on the edge-aware detail layer at input resolution
    sharpen: float = 0.0  # unsharp amount at output resolution, overshoot-limited
    contrast: float = 0.0  # blend towards CLAHE on luma
    contrast_clip: float = 2.0  # CLAHE clip limit (how far one tile's contrast may stretch)
    vibrance: float = 0.0  # chroma gain, strongest on dull colours
    grain: float = 0.0  # std of the luma grain, in 8-bit levels

    @property
    def changes_low_res(self) -> bool:
        return bool(self.detail_boost or self.contrast or self.vibrance)

    @property
    def changes_high_res(self) -> bool:
        return bool(self.sharpen or self.grain)


_DETAILS = {
    1: {},
    2: {"detail_boost": 0.5, "sharpen": 0.6},
    3: {"detail_boost": 1.0, "sharpen": 1.2},
}
_MODIFICATION = {
    1: {},
    2: {"contrast": 0.5, "contrast_clip": 1.5, "vibrance": 0.05},
    3: {"contrast": 0.7, "contrast_clip": 2.0, "vibrance": 0.12, "grain": 1.2},
}


def _look(settings: EnhanceSettings) -> _Look:
    return _Look(**_DETAILS[settings.details], **_MODIFICATION[settings.modification])


# --- input -------------------------------------------------------------------------------


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


_ICC_SPACES = {"RGB": "RGB", "GRAY": "L", "CMYK": "CMYK"}


def _high_bit_depth_to_l(image: Image.Image) -> Image.Image:
    # Pillow's convert("L") clips 16-bit values instead of scaling them: a 16-bit PNG would
    # come out almost white. Scale by hand.
    values = np.asarray(image).astype(np.float32)
    if image.mode == "F":
        factor = 255.0 if values.max(initial=0) <= 1.0 else 1.0
    elif image.mode.startswith("I;16") or values.max(initial=0) > 255:
        factor = 1.0 / 257.0
    else:
        factor = 1.0
    return Image.fromarray(np.clip(values * factor + 0.5, 0, 255).astype(np.uint8), "L")


def _split_alpha(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """(colour part in "L", "RGB" or "CMYK"-compatible form, alpha or None)."""
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    elif image.mode in ("RGBa", "La"):  # premultiplied: un-premultiply first
        image = image.convert({"RGBa": "RGBA", "La": "LA"}[image.mode])
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode.startswith("I") or image.mode == "F":
        image = _high_bit_depth_to_l(image)
    # By mode, not by band name: LAB has an "A" band that is a colour axis.
    alpha = image.getchannel("A") if image.mode in ("RGBA", "LA") else None
    if alpha is not None and alpha.getextrema() == (255, 255):
        alpha = None  # fully opaque: smaller, faster output, same look
    if image.mode in ("L", "LA"):
        colour = image.convert("L")
    elif image.mode == "CMYK":
        colour = image
    else:
        colour = image.convert("RGB")
    return colour, alpha


def _to_srgb(colour: Image.Image, icc: bytes | None) -> Image.Image:
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            space = source.profile.xcolor_space.strip()
            if _ICC_SPACES.get(space) == colour.mode:
                return ImageCms.profileToProfile(colour, source, _srgb_profile(), outputMode="RGB")
            log.info("ICC profile for %s does not fit a %s image; ignored", space, colour.mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
            # A broken profile should not cost the user their job: treat the pixels as sRGB.
            log.warning("Ignoring unusable ICC profile: %s", exc)
    return colour.convert("RGB")


def prepare_input(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Upright sRGB pixels as float32 H x W x 3 in 0..1, plus the alpha plane (uint8) or None."""
    icc = image.info.get("icc_profile")
    image = ImageOps.exif_transpose(image)
    colour, alpha = _split_alpha(image)
    rgb = np.asarray(_to_srgb(colour, icc), dtype=np.float32) / np.float32(255.0)
    return rgb, None if alpha is None else np.asarray(alpha)


# --- input-resolution enhancement -----------------------------------------------------------


def _bleed_under_transparency(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    # Fully transparent pixels often hold black; Lanczos would smear it into the visible edge.
    # Give them the average colour of nearby visible pixels instead.
    hidden = alpha == 0
    if not hidden.any():
        return rgb
    weight = (alpha / np.float32(255)).astype(np.float32)
    den = box_mean(weight, 3)
    fill = np.stack([box_mean(rgb[..., c] * weight, 3) for c in range(3)], axis=-1)
    fill /= np.maximum(den, 1e-6)[..., None]
    rgb = rgb.copy()
    use = hidden & (den > 0)
    rgb[use] = fill[use]
    return rgb


_NOISE_LEVEL = 1.5 / 255


LocalContrast = Callable[[np.ndarray], np.ndarray]


def _enhance_low_res(
    rgb: np.ndarray, look: _Look, local_contrast: LocalContrast | None = None
) -> np.ndarray:
    """``local_contrast`` replaces the image's own CLAHE (a tile uses the whole image's)."""
    if not look.changes_low_res:
        return rgb
    y = luma(rgb)
    new_y = y
    if look.contrast:
        equalised = local_contrast(new_y) if local_contrast else clahe(new_y, look.contrast_clip)
        new_y = new_y + np.float32(look.contrast) * (equalised - new_y)
    if look.detail_boost:
        # eps = 0.05^2: texture below ~5% local contrast is lifted, larger edges are left to the
        # sharpening stages (boosting them here would draw halos). Soft coring spares the
        # faintest ripples (about a level): that is sensor noise and JPEG, not detail.
        detail = new_y - guided_smooth(new_y, 2, 0.0025)
        detail *= detail * detail / (detail * detail + np.float32(_NOISE_LEVEL**2))
        new_y = new_y + np.float32(look.detail_boost) * detail
    chroma = rgb - y[..., None]
    if look.vibrance:
        saturation = np.abs(chroma).max(axis=-1, keepdims=True)
        chroma = chroma * (1 + np.float32(look.vibrance) * (1 - np.minimum(saturation * 3, 1)))
    return new_y[..., None] + chroma


# --- output resolution, strip by strip -----------------------------------------------------


# Grain arithmetic is fixed point on int16: noise in 1/32 of a standard deviation, amplitude
# in 1/128 of a level, so their product shifted right by 12 bits is in levels. It stays below
# 2**15 while the grain is under about 1.3 levels (two int8 tiles sum to at most 254).
_NOISE_UNIT, _AMPLITUDE_UNIT, _GRAIN_SHIFT = 32, 128, 12


def _grain_tiles(seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    # Two tiles with coprime sizes, indexed by absolute output position: the grain then repeats
    # only every 251 * 241 pixels, and does not depend on how the image was cut into strips.
    rng = np.random.default_rng(seed)
    return tuple(
        np.clip(np.rint(rng.standard_normal((n, n)) * _NOISE_UNIT), -127, 127).astype(np.int8)
        for n in (251, 241)
    )


def _grain(
    tiles: tuple[np.ndarray, ...], row0: int, rows: int, width: int, col0: int = 0
) -> np.ndarray:
    """Noise for output rows [row0, row0 + rows) and columns [col0, col0 + width): the sum of
    both tiles, int16. ``col0`` is non-zero for a tile of a larger image (``TilePlace``)."""
    out = np.zeros((rows, width), np.int16)
    for tile in tiles:
        n = tile.shape[0]
        band = tile[np.arange(row0, row0 + rows) % n]
        shift = col0 % n
        out += np.tile(band, (1, -(-(width + shift) // n)))[:, shift : shift + width]
    return out


@cache
def _grain_amplitude(grain: float) -> np.ndarray:
    """Per-luma amplitude: full in mid-tones, none at black and white, where grain reads as
    noise rather than texture. Divided by sqrt(2) because ``_grain`` sums two unit tiles."""
    y = np.arange(256, dtype=np.float64)
    amplitude = grain * 4 * y * (255 - y) / 255**2 / np.sqrt(2)
    return np.rint(amplitude * _AMPLITUDE_UNIT).astype(np.int16)


# Radius (output pixels) of the finishing unsharp mask's box blur. Pillow's fractional box
# gives half weight to the end taps: 0.5 is the [1 2 1]/4 binomial (sigma 0.7), 1.5 has sigma
# 1.2. It widens with the scale to target the edge width Lanczos leaves behind; a single box
# pass costs a third of Pillow's Gaussian, which matters at 95 Mpx.
_SHARPEN_RADIUS = {1: 0.5, 2: 0.5, 4: 1.0, 8: 1.5}
# Output rows the finishing reads beyond a strip: the blur's reach plus the 3x3 range.
_FINISH_HALO = 4


def _finish(
    strip: Image.Image,
    look: _Look,
    scale: int,
    grain: tuple[np.ndarray, ...],
    row0: int,
    col0: int = 0,
) -> Image.Image:
    """Output-resolution touches on one RGB strip whose first pixel is at output row ``row0``,
    column ``col0`` (of the whole image, for a tile).

    Everything here runs on 8- and 16-bit planes, mostly in Pillow's C code: at 8x there are 95
    million pixels, and float32 NumPy passes over them took longer than the Lanczos resize.
    """
    gray = strip.convert("L")  # Pillow uses the same BT.601 weights as ``luma``
    y = np.asarray(gray).astype(np.int16)
    new_y = y
    if look.sharpen:
        blurred = np.asarray(gray.filter(ImageFilter.BoxBlur(_SHARPEN_RADIUS[scale])))
        gain = round(look.sharpen * 16)  # fixed point, 4 fractional bits
        sharp = y + ((y - blurred) * gain + 8 >> 4)
        # Overshoot is held to the 3x3 neighbourhood: edges get steeper without halos.
        lo, hi = local_range(np.asarray(gray))
        new_y = np.clip(sharp, lo, hi)
    if look.grain:
        amplitude = _grain_amplitude(look.grain)[np.asarray(gray)]
        noise = _grain(grain, row0, strip.height, strip.width, col0)
        new_y = new_y + ((amplitude * noise + (1 << _GRAIN_SHIFT - 1)) >> _GRAIN_SHIFT)
    # Add the same luma delta to R, G and B (chroma untouched), biased by 128 to fit in uint8.
    delta = Image.fromarray(np.clip(new_y - y + 128, 0, 255).astype(np.uint8), "L")
    return ImageChops.add(strip, Image.merge("RGB", (delta, delta, delta)), 1.0, -128)


def _strip_source(
    rgb: np.ndarray, core: UpscaleCore, scale: int
) -> Callable[[int, int], Image.Image]:
    """A function giving the upscaled rows for input rows [a, b) as an RGB image."""
    if isinstance(core, ClassicalCore):
        prepared = core.prepare(rgb, scale)  # restore the whole (small) input once
        return lambda a, b: core.upscale_rows(prepared, scale, a, b)
    # Any other core sees only a strip: give it ``context`` extra input rows either side so the
    # rows we keep do not depend on where the cuts are, then drop them.
    context = int(getattr(core, "context", 8))
    h = rgb.shape[0]

    def upscale(a: int, b: int) -> Image.Image:
        c0, c1 = max(0, a - context), min(h, b + context)
        up = core.upscale(rgb[c0:c1], scale)
        top, bottom = (a - c0) * scale, (b - c0) * scale
        if isinstance(up, Image.Image):  # a core may answer with an image (the learned one at 8x)
            return up.crop((0, top, up.width, bottom))
        up = up[top:bottom]
        # A core may answer in 8 bits already (the learned one does).
        return Image.fromarray(up if up.dtype == np.uint8 else to_uint8(up), "RGB")

    return upscale


def _render(
    rgb: np.ndarray, alpha: np.ndarray | None, core: UpscaleCore, settings: EnhanceSettings
) -> Image.Image:
    look, scale = _look(settings), settings.scale
    h, w = rgb.shape[:2]
    # A tile's grain is indexed by its pixels' places in the whole output, so tiles share it.
    top, left = (settings.tile.top, settings.tile.left) if settings.tile else (0, 0)
    upscale = _strip_source(rgb, core, scale)
    grain = _grain_tiles(settings.seed) if look.grain else ()
    # Input rows of real neighbours the finishing needs above and below a strip.
    margin = -(-_FINISH_HALO // scale) if look.changes_high_res else 0
    rows_per_strip = max(1, STRIP_PIXELS // (w * scale * scale))
    # color=None leaves the pixels uninitialised: every row is pasted below, and filling 95 Mpx
    # with black first would cost a fifth of a second at 8x.
    out = Image.new("RGBA" if alpha is not None else "RGB", (w * scale, h * scale), None)
    alpha_image = None if alpha is None else Image.fromarray(alpha, "L")
    for r0 in range(0, h, rows_per_strip):
        r1 = min(h, r0 + rows_per_strip)
        a, b = max(0, r0 - margin), min(h, r1 + margin)
        strip = upscale(a, b)
        if look.changes_high_res:
            strip = _finish(strip, look, scale, grain, (top + a) * scale, left * scale)
        if a != r0 or b != r1:
            strip = strip.crop((0, (r0 - a) * scale, w * scale, (r1 - a) * scale))
        if alpha_image is not None:
            # Alpha is enlarged plainly: sharpening it would put halos around cut-outs.
            strip_alpha = lanczos_rows(alpha_image, scale, r0, r1)
            strip = Image.merge("RGBA", (*strip.split(), strip_alpha))
        out.paste(strip, (0, r0 * scale))
    return out


def enhance_image(
    image: Image.Image,
    settings: EnhanceSettings,
    core: UpscaleCore | None = None,
    *,
    context: Image.Image | None = None,
) -> Image.Image:
    """Enhance and enlarge ``image``; the result is a new RGB or RGBA image without metadata.

    For a tile (``settings.tile``), ``context`` is the whole image, reduced to any size with
    its proportions: CLAHE's tables come from it. Without one, the tile gets its own CLAHE
    (tiles then disagree in tone; only the grain is shared).
    """
    rgb, alpha = prepare_input(image)
    if alpha is not None:
        rgb = _bleed_under_transparency(rgb, alpha)
    look = _look(settings)
    local_contrast = None
    if settings.tile is not None:
        settings.tile.check_fits(rgb.shape[1], rgb.shape[0])
        if look.contrast:
            local_contrast = _tile_contrast(settings.tile, look.contrast_clip, context)
    rgb = _enhance_low_res(rgb, look, local_contrast)
    return _render(rgb, alpha, core or get_core(), settings)


def _tile_contrast(
    place: TilePlace, clip_limit: float, context: Image.Image | None
) -> LocalContrast:
    """CLAHE for one tile with the whole image's grid and tables: the 8 x 8 cells are laid
    over the whole image, their histograms taken from the context (the whole image reduced),
    and each tile pixel mapped by its place in the whole image."""
    if context is None:
        return lambda y: clahe(y, clip_limit)  # the tile's own, as without a place
    size = (place.image_height, place.image_width)
    tables = clahe_tables(luma(prepare_input(context)[0]), clip_limit, size=size)
    return lambda y: clahe_apply(y, tables, place.top, place.left)


# --- output --------------------------------------------------------------------------------


def choose_format(output_format: str, width: int, height: int, alpha: bool = False) -> str:
    """ "png" or "webp" for a result of this size.

    PNG when asked for, when a side exceeds WebP's 16383 px limit, and for transparent results
    too large to encode within the memory budget (see ``WEBP_LOSSLESS_MAX_PIXELS``).
    """
    if output_format == "png" or max(width, height) > WEBP_MAX_SIDE:
        return "png"
    if alpha and width * height > WEBP_LOSSLESS_MAX_PIXELS:
        return "png"
    return "webp"


def _save_webp(image: Image.Image, path: Path) -> None:
    try:
        image.save(path, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    except ValueError as exc:
        # libwebp's lossy encoder gives up on some very detailed, very large images
        # ("encoding error 6": the first partition overflows 512 KB). Lossless has no such
        # limit, but it needs memory in proportion; the caller falls back to PNG after it.
        if image.width * image.height > WEBP_LOSSLESS_MAX_PIXELS:
            raise
        log.warning("Lossy WebP failed (%s); retrying lossless", exc)
        image.save(path, "WEBP", lossless=True, quality=0, method=0)


def _save(image: Image.Image, path: Path, fmt: str) -> None:
    if fmt == "webp":
        _save_webp(image, path)
    else:
        image.save(path, "PNG", compress_level=PNG_COMPRESS_LEVEL)


def _write(image: Image.Image, base: Path, fmt: str) -> EnhancedFile:
    # Write under a temporary name and rename, so a reader never sees half a file.
    path = base.with_name(f"{base.name}.{fmt}")
    partial = base.with_name(f".{base.name}.{os.getpid()}.{fmt}.part")
    try:
        _save(image, partial, fmt)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return EnhancedFile(
        path=path,
        format=fmt,
        content_type=CONTENT_TYPES[fmt],
        width=image.width,
        height=image.height,
        size_bytes=path.stat().st_size,
    )


def encode_image(
    image: Image.Image, destination_without_suffix: Path, output_format: str
) -> EnhancedFile:
    """Write ``image`` to ``destination_without_suffix`` + ".png" or ".webp".

    Only pixels are written (no EXIF, ICC or text chunks, even if ``image.info`` has some). A
    WebP the encoder cannot produce becomes a PNG rather than a failed job.
    """
    base = Path(destination_without_suffix)
    base.parent.mkdir(parents=True, exist_ok=True)
    # Pillow's PNG writer copies an ICC profile from ``info``; hide it for the duration.
    info, image.info = image.info, {}
    try:
        if choose_format(output_format, *image.size, alpha="A" in image.getbands()) == "webp":
            try:
                return _write(image, base, "webp")
            except (ValueError, OSError) as exc:
                log.warning("WebP encoding failed (%s); writing PNG instead", exc)
        return _write(image, base, "png")
    finally:
        image.info = info


def enhance_file(
    source: Path | BinaryIO,
    destination: Path,
    settings: EnhanceSettings,
    core: UpscaleCore | None = None,
    *,
    context: Path | BinaryIO | None = None,
) -> EnhancedFile:
    """Read ``source``, enhance it and write ``destination`` + ".png"/".webp".

    ``context``: for a tile, the whole image reduced (see :func:`enhance_image`)."""
    whole = None
    if context is not None:
        with Image.open(context) as opened:
            opened.load()
            whole = opened.copy()
    with Image.open(source) as image:
        image.load()
        result = enhance_image(image, settings, core, context=whole)
    with contextlib.closing(result):
        return encode_image(result, destination, settings.output_format)
