"""The joined result resized to its final size and written as PNG, JPEG or WebP, in bounded memory.

Everything here works on libvips images, which are lazy: pixels are computed in strips as the
encoder asks for them, so finishing a 400-megapixel PNG or JPEG holds a few strips, not the
picture (figures: `manage.py tiling_benchmark`, docs/output-limits.md). WebP is the exception:
libwebp encodes the whole picture at once, hence its own pixel cap in `sizes.MAX_PIXELS`.

- `finish`: resize (Lanczos 3) and encode, with the dpi of a print target in the file (PNG pHYs,
  JPEG JFIF, WebP EXIF) and no other metadata; a WebP the encoder refuses becomes a PNG.
- `thumbnail`: the WebP thumbnail of a stored result of any size, as `results.make_thumbnail` makes.
- `reduced_copy`: a small Pillow image of a huge result, for the automatic result checks.

Files we did not write ourselves are only ever opened with the three loaders of the formats we
accept (never `new_from_file`, which would pick any of libvips' loaders by sniffing the bytes).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyvips
from PIL import Image

logger = logging.getLogger(__name__)

# Like the built-in engine's WebP (enhancer/engine/pipeline.py: quality 90, method 2).
WEBP_QUALITY = 90
WEBP_EFFORT = 2
# PNG: zlib level 2 with adaptive row filters. Measured on a 24-megapixel photo-like image
# (a photo enlarged 10x, with grain): the engine's level 1, which libvips writes unfiltered,
# made 53 MB in 0.9 s; level 2 with filters 28 MB in 1.2 s; level 6 about the same size, slower.
PNG_COMPRESSION = 2
PNG_FILTER = "all"
# JPEG: quality 92 with full-resolution colour (4:4:4, libvips' choice at quality 90 and up).
# 4:2:0 was 20% smaller (4.3 MB against 5.4 MB at 24 MP) but smears saturated edges and small
# coloured type, which is what a print shop sees. Huffman optimisation and progressive scans are
# off: libjpeg then keeps every DCT coefficient of the image in memory (2 bytes per sample,
# 2.4 GB at 400 MP), where baseline streams in strips.
JPEG_QUALITY = 92
# Without a print target the PNG still says something (libvips always writes pHYs, and its
# default would be 25.4 dpi): 72 dpi, what tools assume of a file that says nothing.
SCREEN_DPI = 72
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXTENSION = {"png": "png", "jpeg": "jpg", "webp": "webp"}
COPY_CHUNK = 1024 * 1024


class UnreadableImage(ValueError):
    """A stored file libvips could not read as a PNG, JPEG or WebP."""


@dataclass(frozen=True)
class FinishedFile:
    path: Path
    width: int
    height: int
    size_bytes: int
    mime: str
    extension: str  # "png", "jpg" or "webp": the format actually written

    @property
    def fmt(self) -> str:
        return "jpeg" if self.extension == "jpg" else self.extension


def finish(
    image: pyvips.Image,
    destination: Path,
    *,
    fmt: str,
    final_size: tuple[int, int],
    dpi: int | None,
) -> FinishedFile:
    """Write `image` at `final_size` as `fmt` next to `destination`, whose suffix becomes the
    extension of the format actually written (".png" when a WebP could not be encoded).

    Written under a temporary name and renamed, so nobody ever reads half a file.
    """
    image = _rgb(image)
    if (image.width, image.height) != tuple(final_size):
        image = resize_exact(image, *final_size)
    resolution = (dpi or SCREEN_DPI) / 25.4  # libvips counts pixels per millimetre
    image = image.copy(xres=resolution, yres=resolution)
    try:
        return _write(image, destination, fmt, dpi)
    except pyvips.Error as exc:
        if fmt != "webp":
            raise
        logger.warning("WebP failed (%s); writing PNG", exc.detail.strip() or exc.message)
        # libwebp refuses sides over 16,383 px and, now and then, a very detailed large
        # picture ("partition 0 overflow"): PNG holds anything, losslessly.
        return _write(image, destination, "png", dpi)


def resize_exact(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """`image` resized to exactly `width` x `height` with Lanczos 3, up or down, lazily."""
    resized = image.resize(width / image.width, vscale=height / image.height, kernel="lanczos3")
    if (resized.width, resized.height) != (width, height):  # a rounding pixel, never more
        resized = resized.gravity("north-west", width, height, extend="copy")
    return resized


def thumbnail(source: Path | BinaryIO, box: tuple[int, int] = (480, 480)) -> bytes:
    """A WebP thumbnail of a stored image of any size, decoded at reduced size where the format
    allows (JPEG and WebP) and otherwise in strips: as `results.make_thumbnail` makes them."""
    small = _shrunk(source, box[0] * box[1], box=box)
    return small.webpsave_buffer(Q=82, effort=4, keep="none")


def reduced_copy(
    source: Path | BinaryIO, max_pixels: int, *, size: tuple[int, int] | None = None
) -> tuple[Image.Image, tuple[int, int]]:
    """A Pillow copy of a stored image of at most `max_pixels` (or exactly `size`), and the
    image's own (width, height). RGB, or RGBA when it has transparency."""
    small, full_size = _shrunk(source, max_pixels, size=size, with_size=True)
    mode = "RGBA" if small.bands == 4 else "RGB"
    return Image.frombytes(mode, (small.width, small.height), small.write_to_memory()), full_size


def load(source: Path | pyvips.Source, head: bytes, **options) -> pyvips.Image:
    """A stored PNG, JPEG or WebP opened with its own loader, chosen by its first bytes `head`.

    A `pyvips.Source` (see `stream_source`) must outlive every image computed from it."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        loader = "pngload"
    elif head.startswith(b"\xff\xd8\xff"):
        loader = "jpegload"
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        loader = "webpload"
    else:
        raise UnreadableImage("Not a PNG, JPEG or WebP image.")
    options = {key: value for key, value in options.items() if _accepts(loader, key)}
    if isinstance(source, Path):
        return getattr(pyvips.Image, loader)(str(source), **options)
    return getattr(pyvips.Image, f"{loader}_source")(source, **options)


def image_size(source: Path | BinaryIO) -> tuple[int, int]:
    """(width, height) of a stored PNG, JPEG or WebP, from its header; a file is left at 0."""
    head = _head(source)
    vips_source = _vips_source(source)
    try:
        image = load(vips_source, head)
    except pyvips.Error as exc:
        raise UnreadableImage(str(exc)) from exc
    size = (image.width, image.height)
    del image, vips_source
    if not isinstance(source, Path):
        source.seek(0)
    return size


def _accepts(loader: str, option: str) -> bool:
    return option == "access" or (loader, option) in {("jpegload", "shrink"), ("webpload", "scale")}


def _shrunk(
    source: Path | BinaryIO,
    max_pixels: int,
    *,
    box: tuple[int, int] | None = None,
    size: tuple[int, int] | None = None,
    with_size: bool = False,
):
    try:
        return _shrunk_or_fail(source, max_pixels, box=box, size=size, with_size=with_size)
    except pyvips.Error as exc:
        raise UnreadableImage(str(exc)) from exc


def _shrunk_or_fail(
    source: Path | BinaryIO,
    max_pixels: int,
    *,
    box: tuple[int, int] | None,
    size: tuple[int, int] | None,
    with_size: bool,
):
    head = _head(source)
    header_source = _vips_source(source)
    header = load(header_source, head)
    full = (header.width, header.height)
    if size is None:
        factor = min(1.0, math.sqrt(max_pixels / (full[0] * full[1])))
        if box:
            factor = min(factor, box[0] / full[0], box[1] / full[1])
        size = (max(1, round(full[0] * factor)), max(1, round(full[1] * factor)))
        while size[0] * size[1] > max_pixels and min(size) > 1:  # a pixel over by rounding
            size = (size[0] - (size[0] >= size[1]), size[1] - (size[1] > size[0]))
    # Shrink on load by a power of two that keeps at least twice the pixels wanted, so the last
    # step is a real Lanczos reduction, not the decoder's own box average.
    shrink = 1
    while (
        shrink < 8
        and full[0] // (shrink * 2) >= 2 * size[0]
        and full[1] // (shrink * 2) >= 2 * size[1]
    ):
        shrink *= 2
    vips_source = _vips_source(source)  # held here until the pixels are computed
    image = load(vips_source, head, access="sequential", shrink=shrink, scale=1 / shrink)
    small = resize_exact(_rgb(image), *size).copy_memory()
    del image, vips_source, header, header_source
    return (small, full) if with_size else small


def _rgb(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB, with alpha if it has some."""
    if image.interpretation not in ("srgb", "multiband") or image.bands < 3:
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def _write(image: pyvips.Image, destination: Path, fmt: str, dpi: int | None) -> FinishedFile:
    path = destination.with_suffix(f".{EXTENSION[fmt]}")
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        if fmt == "png":
            image.pngsave(str(partial), compression=PNG_COMPRESSION, filter=PNG_FILTER, keep="none")
        elif fmt == "jpeg":
            if image.bands == 4:  # JPEG has no transparency: on white, like paper
                image = image.flatten(background=[255, 255, 255]).cast("uchar")
            image.jpegsave(str(partial), Q=JPEG_QUALITY, keep="none", optimize_coding=False)
            if dpi:
                _rewrite(partial, _jpeg_with_density, dpi)
        elif fmt == "webp":
            image.webpsave(str(partial), Q=WEBP_QUALITY, effort=WEBP_EFFORT, keep="none")
            if dpi:
                _rewrite(partial, _webp_with_exif, dpi, image.width, image.height, image.bands)
        else:
            raise ValueError(f"Unknown output format {fmt!r}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return FinishedFile(
        path=path,
        width=image.width,
        height=image.height,
        size_bytes=path.stat().st_size,
        mime=MIME[fmt],
        extension=EXTENSION[fmt],
    )


# --- dpi where libvips writes none without other metadata --------------------------------------
# libvips writes a JPEG's and a WebP's resolution only inside an EXIF block of its own making,
# with orientation and other tags: we write the encoded file with no metadata at all and add the
# dpi by hand, copying the file in pieces (print targets are at most about 20 megapixels).


def _rewrite(path: Path, rewrite, *args) -> None:
    rewritten = path.with_name(path.name + ".dpi")
    try:
        with open(path, "rb") as source, open(rewritten, "wb") as dest:
            rewrite(source, dest, *args)
        os.replace(rewritten, path)
    finally:
        rewritten.unlink(missing_ok=True)


def _jpeg_with_density(source: BinaryIO, dest: BinaryIO, dpi: int) -> None:
    """A JFIF APP0 segment right after SOI, saying `dpi` dots per inch (replacing any)."""
    if source.read(2) != b"\xff\xd8":
        raise ValueError("Not a JPEG")
    marker = source.read(4)
    if marker[:2] == b"\xff\xe0":  # an APP0 already: skip it
        source.seek(2 + struct.unpack(">H", marker[2:])[0])
    else:
        source.seek(2)
    jfif = b"JFIF\x00\x01\x01" + struct.pack(">BHHBB", 1, dpi, dpi, 0, 0)  # units 1: per inch
    dest.write(b"\xff\xd8\xff\xe0" + struct.pack(">H", len(jfif) + 2) + jfif)
    shutil.copyfileobj(source, dest, COPY_CHUNK)


def exif_resolution(dpi: int) -> bytes:
    """A minimal little-endian TIFF/EXIF block: XResolution, YResolution, ResolutionUnit (inch)."""
    entries = 3
    data_offset = 8 + 2 + entries * 12 + 4
    ifd = struct.pack("<H", entries)
    ifd += struct.pack("<HHII", 282, 5, 1, data_offset)  # XResolution, RATIONAL
    ifd += struct.pack("<HHII", 283, 5, 1, data_offset + 8)  # YResolution, RATIONAL
    ifd += struct.pack("<HHIHH", 296, 3, 1, 2, 0)  # ResolutionUnit, SHORT: 2 = inch
    ifd += struct.pack("<I", 0)  # no next IFD
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<IIII", dpi, 1, dpi, 1)


def _webp_with_exif(
    source: BinaryIO, dest: BinaryIO, dpi: int, width: int, height: int, bands: int
) -> None:
    """The WebP in the extended format: a VP8X chunk flagging EXIF (and alpha), the image's own
    chunks copied in pieces, and an EXIF chunk last, where the WebP container puts it."""
    header = source.read(12)
    if header[:4] != b"RIFF" or header[8:12] != b"WEBP":
        raise ValueError("Not a WebP")
    flags = 0x08 | (0x10 if bands in (2, 4) else 0)  # EXIF, alpha
    vp8x = b"VP8X" + struct.pack("<IB3s", 10, flags, b"\0\0\0")
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    exif = exif_resolution(dpi)
    exif_chunk = b"EXIF" + struct.pack("<I", len(exif)) + exif + b"\0" * (len(exif) % 2)
    dest.write(header[:4] + b"\0\0\0\0WEBP" + vp8x)
    while chunk := source.read(8):
        fourcc, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        padded = length + length % 2
        if fourcc in (b"VP8X", b"EXIF", b"XMP ", b"ICCP"):
            source.seek(padded, os.SEEK_CUR)
            continue
        dest.write(chunk)
        _copy(source, dest, padded)
    dest.write(exif_chunk)
    riff_size = dest.tell() - 8
    dest.seek(4)
    dest.write(struct.pack("<I", riff_size))


def _copy(source: BinaryIO, dest: BinaryIO, length: int) -> None:
    while length:
        piece = source.read(min(length, COPY_CHUNK))
        if not piece:
            raise ValueError("A WebP chunk runs past the end of the file")
        dest.write(piece)
        length -= len(piece)


# --- reading stored files through Django's storage (a local file or a bucket's stream) --------


def _head(source: Path | BinaryIO) -> bytes:
    if isinstance(source, Path):
        with open(source, "rb") as file:
            return file.read(16)
    source.seek(0)
    head = source.read(16)
    source.seek(0)
    return head


def _vips_source(source: Path | BinaryIO) -> Path | pyvips.Source:
    if isinstance(source, Path):
        return source
    source.seek(0)
    return stream_source(source)


def stream_source(file: BinaryIO) -> pyvips.Source:
    """A libvips source reading a Python file object (a stored file, possibly in a bucket).
    Keep it referenced until the images read from it are computed: its callbacks live here."""
    source = pyvips.SourceCustom()

    def read(size: int) -> bytes:
        return file.read(size)

    def seek(offset: int, whence: int) -> int:
        try:
            return file.seek(offset, whence)
        except (OSError, ValueError):
            return -1

    source.on_read(read)
    source.on_seek(seek)
    return source
