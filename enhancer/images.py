"""Checking and preparing the images people give us, judged by their content, never their name.

Everything here treats the bytes as hostile: a file called ``cat.png`` may be a JPEG, a PDF or a
decompression bomb. The order of the checks matters and is the point of this module:

1. size in bytes and emptiness, before anything parses the file;
2. the format, from the file's first bytes, so only the JPEG, PNG and WebP decoders ever run
   (fewer decoders exposed to untrusted input, and a plain answer for a GIF or a PDF);
3. the pixel dimensions from the header, refused above ``MAX_DECODE_PIXELS`` *before* a single
   pixel is decoded, because a 100 kB PNG can claim 50000 x 50000 pixels (10 GB of memory);
4. only then a real decode, which is what catches truncated and damaged files.

Pillow has its own guard (``Image.MAX_IMAGE_PIXELS``), but it is a process-wide setting that any
other code may change or switch off, and it only warns below 179 megapixels; we do not rely on it.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageCms

# From the API contract: width x height must not exceed this (e.g. 1216 x 1216).
AREA_LIMIT = 1_478_656
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

# The most pixels we agree to decode at all, whatever the area limit: 50 MP covers the photos of
# 48/50-megapixel phone cameras (8160 x 6120) while capping the decoded size at about 200 MB
# (4 bytes per pixel). Larger images are refused before decoding, as possible decompression bombs.
MAX_DECODE_PIXELS = 50_000_000

# What each image owns: EXIF orientation tag number and how to undo each value (as in ImageOps).
_ORIENTATION_TAG = 0x0112
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_SIDES = {5, 6, 7, 8}

# Formats we recognise only to name them in the refusal. Checked after the accepted ones.
_OTHER_FORMATS: list[tuple[Callable[[bytes], bool], str]] = [
    (lambda b: b[:6] in (b"GIF87a", b"GIF89a"), "a GIF image"),
    (lambda b: b[:2] == b"BM", "a BMP image"),
    (lambda b: b[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"), "a TIFF image"),
    (lambda b: b[4:8] == b"ftyp" and b[8:12] in (b"avif", b"avis"), "an AVIF image"),
    (
        lambda b: (
            b[4:8] == b"ftyp"
            and b[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
        ),
        "a HEIC image (the iPhone format)",
    ),
    (
        lambda b: b[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n" or b[:2] == b"\xff\x0a",
        "a JPEG XL image",
    ),
    (
        lambda b: b[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or b[:4] == b"\xffO\xffQ",
        "a JPEG 2000 image",
    ),
    (lambda b: b[:4] == b"\x00\x00\x01\x00", "an icon file (ICO)"),
    (lambda b: b[:4] == b"8BPS", "a Photoshop file (PSD)"),
    (lambda b: b[:5] == b"%PDF-", "a PDF document"),
    (lambda b: b"<svg" in b[:512].lower(), "an SVG drawing"),
]


class ImageProblem(ValueError):
    """Why an image cannot be used: ``message`` for people, ``code`` for code and tests.

    Codes: ``empty``, ``too_large_bytes``, ``not_an_image``, ``unsupported_format``,
    ``decompression_bomb``, ``corrupt``, ``too_many_pixels``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "JPEG", "PNG" or "WEBP"
    width: int  # as a person sees it, after the EXIF orientation
    height: int
    area: int
    mime: str
    has_alpha: bool  # the image has a transparency channel (used or not)
    animated: bool = False  # an APNG or animated WebP; only its first frame is ever used


@dataclass(frozen=True)
class PreparedImage:
    content: bytes
    format: str
    mime: str
    width: int
    height: int
    original_width: int
    original_height: int
    was_fitted: bool
    message: str | None = None


# --------------------------------------------------------------------------- public functions


def inspect_image(data: bytes | BinaryIO, *, max_bytes: int | None = None) -> ImageInfo:
    """Check an image fully (including decoding its pixels) and describe it. Raises ImageProblem.

    Being over ``AREA_LIMIT`` is not a problem here: callers decide (``prepare_image`` can fit it).
    """
    raw = _read_bytes(data, max_bytes)
    with _open_checked(raw) as img:
        fmt = _format_of(img)
        stored_size = img.size  # before draft(), which shrinks it
        if fmt == "JPEG":
            # A JPEG can be decoded at 1/8 scale; that still reads every byte of the compressed
            # data, so truncation is still caught, with 1/64 of the memory.
            img.draft(None, (1, 1))
        _decode(img)
        width, height = _display_size(stored_size, _orientation(img))
        return ImageInfo(
            format=fmt,
            width=width,
            height=height,
            area=width * height,
            mime=MIME_TYPES[fmt],
            has_alpha=_has_alpha(img),
            animated=_is_animated(img),
        )


@dataclass(frozen=True)
class ImageHeader:
    format: str  # "JPEG", "PNG" or "WEBP"
    width: int  # as stored (before the EXIF orientation)
    height: int


def peek_image(stream: BinaryIO, *, max_bytes: int | None = None) -> ImageHeader:
    """Check what can be checked without decoding pixels: size, format and dimensions.

    For the web request: reads the file's first bytes and its header from the stream (a
    temporary file), never the whole file into memory. Raises ImageProblem; the full check
    (`prepare_image`) follows in a worker.
    """
    size = getattr(stream, "size", None)
    if max_bytes is not None and size is not None and size > max_bytes:
        raise _too_large(size, max_bytes)
    stream.seek(0)
    head = stream.read(512)
    stream.seek(0)
    if not head:
        raise ImageProblem("empty", "This file is empty. Choose a JPEG, PNG or WebP picture.")
    fmt = _refuse_unless_accepted(head)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream, formats=[fmt]) as img:
                width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(None) from exc
    except Exception as exc:  # any parser failure means the same to the user
        raise _corrupt() from exc
    finally:
        stream.seek(0)
    if width < 1 or height < 1:
        raise _corrupt()
    if width * height > MAX_DECODE_PIXELS:
        raise _bomb((width, height))
    return ImageHeader(fmt, width, height)


def too_many_pixels(width: int, height: int) -> ImageProblem:
    return ImageProblem(
        "too_many_pixels",
        f"This image is {width} x {height} = {width * height:,} pixels; "
        f"the limit is {AREA_LIMIT:,} pixels (for example 1216 x 1216). "
        "Make it smaller and try again.",
    )


def fit_within_area(width: int, height: int, limit: int = AREA_LIMIT) -> tuple[int, int]:
    """The largest size with the same proportions whose area is at most ``limit``.

    A size already within the limit is returned unchanged (we never enlarge). Otherwise the
    longer side is the largest whole number whose matching shorter side (rounded to the nearest
    pixel, at least 1) still fits; the area only grows with the longer side, so a binary search
    finds it exactly, with integer arithmetic only (no float rounding surprises).
    """
    if width < 1 or height < 1 or limit < 1:
        raise ValueError("width, height and limit must be at least 1")
    if width * height <= limit:
        return width, height
    long_side, short_side = max(width, height), min(width, height)

    def matching_short(long: int) -> int:
        # round(long * short_side / long_side), half up, in integers
        return max(1, (2 * long * short_side + long_side) // (2 * long_side))

    low, high = 1, long_side  # low always fits (1 x 1 <= limit); long_side never does
    while high - low > 1:
        middle = (low + high) // 2
        if middle * matching_short(middle) <= limit:
            low = middle
        else:
            high = middle
    fitted_long, fitted_short = low, matching_short(low)
    return (fitted_long, fitted_short) if width >= height else (fitted_short, fitted_long)


def prepare_image(
    data: bytes | BinaryIO,
    *,
    max_bytes: int | None = None,
    auto_fit: bool = True,
    keep_size: bool = False,
) -> PreparedImage:
    """Check an image and re-encode it clean: upright, sRGB, no metadata, within the area limit.

    - The EXIF orientation is applied to the pixels, so the result looks as the person saw it.
    - ALL metadata is dropped (EXIF with GPS location and camera serials, XMP, comments, text
      chunks); an embedded colour profile is converted to sRGB first, so the colours stay right.
    - Over ``AREA_LIMIT``: kept whole when ``keep_size`` (it is sent in tiles, see
      enhancer/tiling/), else reduced with Lanczos when ``auto_fit``, else ImageProblem
      ``too_many_pixels``.
    - Transparency is kept. The format stays the same (JPEG quality 95 with full-resolution
      colour; PNG; WebP lossless for lossless input, else quality 95).
    - Animated images (APNG, animated WebP) are accepted; only the first frame is kept.
    """
    raw = _read_bytes(data, max_bytes)
    with _open_checked(raw) as img:
        fmt = _format_of(img)
        animated = _is_animated(img)
        stored_w, stored_h = img.size
        if stored_w * stored_h > AREA_LIMIT and not (auto_fit or keep_size):
            raise too_many_pixels(stored_w, stored_h)
        if fmt != "JPEG":
            # Decode before reading EXIF: a PNG's EXIF chunk may follow its pixels, and Pillow
            # would otherwise decode inside getexif(), where a failure would be hard to report.
            _decode(img)
        orientation = _orientation(img)  # a JPEG's EXIF is in its header: nothing decoded yet
        original_w, original_h = _display_size((stored_w, stored_h), orientation)
        width, height = (
            (original_w, original_h) if keep_size else fit_within_area(original_w, original_h)
        )
        was_fitted = (width, height) != (original_w, original_h)
        # The resize happens before turning the image upright (cheaper on the big one), so
        # the target is expressed in the stored orientation.
        target = (height, width) if orientation in _SWAPS_SIDES else (width, height)
        if fmt == "JPEG":
            if was_fitted:
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that is still >= the target:
                # a 50 MP photo then never needs 150 MB in memory.
                img.draft(None, target)
            _decode(img)

        icc = img.info.get("icc_profile")
        picture = _to_working_mode(img)
        if picture.size != target:
            picture = picture.resize(target, Image.Resampling.LANCZOS)
        if icc:
            picture = _to_srgb(picture, icc)
        picture = _to_output_mode(picture, fmt)
        if orientation in _TRANSPOSE_FOR_ORIENTATION:
            picture = picture.transpose(_TRANSPOSE_FOR_ORIENTATION[orientation])
        content = _encode(picture, fmt, lossless=fmt == "PNG" or _is_lossless_webp(raw))

    notes = []
    if was_fitted:
        notes.append(
            f"The image was {original_w} x {original_h}, over the {AREA_LIMIT:,}-pixel limit, "
            f"so it was reduced to {width} x {height}."
        )
    if animated:
        notes.append("It is an animation; only its first frame is used.")
    return PreparedImage(
        content=content,
        format=fmt,
        mime=MIME_TYPES[fmt],
        width=width,
        height=height,
        original_width=original_w,
        original_height=original_h,
        was_fitted=was_fitted,
        message=" ".join(notes) or None,
    )


# --------------------------------------------------------------------------- reading and checks


def human_size(size: int) -> str:
    """ "25 MB", "1.5 KB": a size as people read it."""
    if size < 1024:
        return f"{size} bytes"
    value, unit = (size / 1024, "KB") if size < 1024 * 1024 else (size / 1024 / 1024, "MB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _too_large(size: int | None, max_bytes: int) -> ImageProblem:
    limit = human_size(max_bytes)
    shown = human_size(size) if size is not None else None
    if shown is None or shown == limit:
        # "25 MB; the limit is 25 MB" would read like a contradiction
        text = f"This file is larger than the {limit} limit."
    else:
        text = f"This file is {shown}; the limit is {limit}."
    return ImageProblem("too_large_bytes", text)


def _read_bytes(data: bytes | BinaryIO, max_bytes: int | None) -> bytes:
    """The file's bytes, reading a stream no further than one byte past the limit."""
    size: int | None = None
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        size = len(raw)
    else:
        size = getattr(data, "size", None)  # Django's UploadedFile knows it
        seekable = getattr(data, "seekable", lambda: False)()
        if size is None and seekable:
            size = data.seek(0, io.SEEK_END)
        if max_bytes is not None and size is not None and size > max_bytes:
            raise _too_large(size, max_bytes)
        if seekable:
            data.seek(0)  # a form may have read it already
        raw = data.read() if max_bytes is None else data.read(max_bytes + 1)
        if seekable:
            data.seek(0)  # and the caller may want to store it afterwards
    if max_bytes is not None and len(raw) > max_bytes:
        # a stream of unknown size was read only to max_bytes + 1: its real size is unknown
        raise _too_large(size if size is not None and size >= len(raw) else None, max_bytes)
    if not raw:
        raise ImageProblem("empty", "This file is empty. Choose a JPEG, PNG or WebP picture.")
    return raw


def _sniff(raw: bytes) -> str | None:
    """The accepted format these bytes start with (the same tests Pillow's plugins use)."""
    if raw[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if raw[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "WEBP"
    return None


def _refuse_unless_accepted(head: bytes) -> str:
    """The accepted format the bytes start with, or ImageProblem naming what they are."""
    fmt = _sniff(head)
    if fmt is None:
        for test, name in _OTHER_FORMATS:
            if test(head):
                raise ImageProblem(
                    "unsupported_format", f"This is {name}. Detailer accepts JPEG, PNG and WebP."
                )
        raise ImageProblem(
            "not_an_image", "This file is not an image. Choose a JPEG, PNG or WebP picture."
        )
    return fmt


def _open_checked(raw: bytes) -> Image.Image:
    """Open (header only) an accepted image whose dimensions are safe to decode."""
    fmt = _refuse_unless_accepted(raw)
    try:
        # Only the decoder the content announced: no other plugin ever parses these bytes.
        # Pillow's bomb warning is made an error here: we refuse such sizes anyway, below.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit is far above ours, so reaching it means a bomb (or a lowered global).
        # Its warning is caught too, for when warnings are turned into errors.
        raise _bomb(None) from exc
    except Exception as exc:  # any parser failure means the same to the user
        raise _corrupt() from exc
    width, height = img.size
    if width < 1 or height < 1:
        img.close()
        raise _corrupt()
    if width * height > MAX_DECODE_PIXELS:
        img.close()
        raise _bomb((width, height))
    return img


def _bomb(size: tuple[int, int] | None) -> ImageProblem:
    what = f"This image is {size[0]} x {size[1]} pixels, " if size else "This image is "
    return ImageProblem(
        "decompression_bomb",
        f"{what}too large to open safely (the most is {MAX_DECODE_PIXELS // 1_000_000} "
        "megapixels). Make it smaller and try again.",
    )


def _corrupt() -> ImageProblem:
    return ImageProblem(
        "corrupt",
        "This image is damaged or incomplete and cannot be opened. "
        "Try saving or downloading it again.",
    )


def _decode(img: Image.Image) -> None:
    """Decode the pixels (of the first frame): the only reliable test for truncated files."""
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise _bomb(None) from exc
    except Exception as exc:  # OSError, SyntaxError, zlib.error, struct.error...
        raise _corrupt() from exc


def _format_of(img: Image.Image) -> str:
    # A JPEG carrying extra pictures (MPO, from some cameras) is still a JPEG to everyone else.
    return "JPEG" if img.format == "MPO" else str(img.format)


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # broken EXIF is ignored, as viewers do
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _display_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in _SWAPS_SIDES else size


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def _is_animated(img: Image.Image) -> bool:
    return getattr(img, "n_frames", 1) > 1


# --------------------------------------------------------------------------- pixel preparation


def _to_working_mode(img: Image.Image) -> Image.Image:
    """L, LA, RGB, RGBA or CMYK, so Lanczos and colour management can work on it."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit grey: scale to 8 bits (a plain convert("L") would clip everything above 255)
        return img.convert("I").point(lambda value: value / 257).convert("L")
    if "transparency" in img.info and mode in ("1", "L", "P", "RGB"):
        return img.convert("RGBA")
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode in ("P", "PA"):
        return img.convert("RGBA" if mode == "PA" else "RGB")
    return img.convert("RGBA" if "A" in img.getbands() else "RGB")


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_MODE_FOR_COLOUR_SPACE = {"RGB": "RGB", "GRAY": "L", "CMYK": "CMYK"}


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    """Convert the pixels from their embedded profile to sRGB, which an untagged image means.

    Dropping a Display P3 or Adobe RGB profile without converting would leave the colours dull or
    shifted. A profile that cannot be read or does not match the pixels is ignored, as browsers do.
    """
    alpha = img.getchannel("A") if img.mode in ("RGBA", "LA") else None
    base = img.convert(img.mode.removesuffix("A")) if alpha is not None else img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = source.profile.xcolor_space.strip()
        if _MODE_FOR_COLOUR_SPACE.get(space) != base.mode:
            return img
        converted = ImageCms.profileToProfile(base, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img
    if converted is None:  # only when inPlace=True; keeps the type checker honest
        return img
    if base.mode == "L":
        converted = converted.convert("L")  # still grey, now in sRGB's tone curve
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _to_output_mode(img: Image.Image, fmt: str) -> Image.Image:
    if img.mode == "CMYK":
        img = img.convert("RGB")
    if fmt == "JPEG" and img.mode in ("LA", "RGBA"):
        img = img.convert(img.mode.removesuffix("A"))  # JPEG has no transparency
    if fmt == "WEBP" and img.mode in ("L", "LA"):
        img = img.convert("RGBA" if img.mode == "LA" else "RGB")
    return img


def _encode(img: Image.Image, fmt: str, *, lossless: bool) -> bytes:
    # A fresh image from the bare pixels: nothing of the original's info (EXIF, XMP, ICC,
    # comments, text chunks, transparency keys) can travel into the output, because Pillow's
    # savers fall back to ``im.info`` for some of them.
    clean = Image.frombytes(img.mode, img.size, img.tobytes())
    out = io.BytesIO()
    if fmt == "JPEG":
        # 4:4:4: the enhancer should see full-resolution colour, not 4:2:0 smears
        try:
            clean.save(out, "JPEG", quality=95, subsampling=0, optimize=True)
        except OSError:
            # Optimised Huffman tables make Pillow write the whole scan through one buffer of
            # about width x height bytes; high-entropy pictures (noise, dense texture at high
            # quality) compress to more than that and libjpeg reports "broken data stream".
            # Without optimize it streams, at a few per cent more bytes.
            out = io.BytesIO()
            clean.save(out, "JPEG", quality=95, subsampling=0)
    elif fmt == "PNG":
        clean.save(out, "PNG")
    elif lossless:
        clean.save(out, "WEBP", lossless=True, quality=80, method=4)
    else:
        clean.save(out, "WEBP", quality=95, method=4)
    return out.getvalue()


def _is_lossless_webp(raw: bytes) -> bool:
    """Whether a WebP's (first) picture is VP8L, lossless, by walking its RIFF chunks."""
    if _sniff(raw) != "WEBP":
        return False
    position, end = 12, min(len(raw), 12 + 64 * 1024 * 1024)
    for _ in range(64):  # a handful of chunks precede the picture; never loop unbounded
        if position + 8 > end:
            return False
        fourcc = raw[position : position + 4]
        (length,) = struct.unpack("<I", raw[position + 4 : position + 8])
        if fourcc == b"VP8L":
            return True
        if fourcc == b"VP8 ":
            return False
        if fourcc == b"ANMF":
            # an animation frame: 16 bytes of frame header, then the frame's own chunks
            position += 8 + 16
            continue
        position += 8 + length + (length & 1)
    return False
