"""Finishing a joined result: the final size, each format's settings, dpi read back by Pillow,
no metadata but ours, thumbnails and reduced copies of stored files, and WebP's fallback."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
import pyvips
from PIL import Image, JpegImagePlugin

from enhancer.results import make_thumbnail
from enhancer.tiling.output import (
    FinishedFile,
    UnreadableImage,
    finish,
    image_size,
    reduced_copy,
    thumbnail,
)

A4_COVER = (3508, 2631)  # 800 x 600 made for A4 print


@pytest.fixture(scope="module")
def photo() -> pyvips.Image:
    """An 800 x 600 real photo, as a joined result would arrive: lazy, uchar sRGB."""
    skimage_data = pytest.importorskip("skimage.data")
    image = pyvips.Image.new_from_array(skimage_data.coffee()).copy(interpretation="srgb")
    return image.resize(800 / image.width, vscale=600 / image.height)


def png_chunks(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        chunks.append(kind)
        at += 12 + length
    return chunks


def jpeg_markers(path: Path) -> list[int]:
    data = path.read_bytes()
    markers, at = [], 2
    while data[at] == 0xFF and data[at + 1] != 0xDA:  # up to the start of scan
        markers.append(data[at + 1])
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return markers


def webp_chunks(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks, at = [], 12
    while at < len(data):
        kind, length = data[at : at + 4], struct.unpack("<I", data[at + 4 : at + 8])[0]
        chunks.append(kind)
        at += 8 + length + length % 2
    return chunks


def finished(image, tmp_path, fmt, size=A4_COVER, dpi=300) -> FinishedFile:
    return finish(image, tmp_path / "result.bin", fmt=fmt, final_size=size, dpi=dpi)


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_an_a4_print_is_resized_to_cover_and_says_300_dpi(photo, tmp_path, fmt):
    done = finished(photo, tmp_path, fmt)

    assert (done.width, done.height) == A4_COVER
    assert done.size_bytes == done.path.stat().st_size
    assert done.path.name == f"result.{done.extension}"
    with Image.open(done.path) as image:
        assert image.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
        assert image.size == A4_COVER
        assert image.mode == "RGB"
        if fmt == "webp":
            exif = image.getexif()
            assert (exif[282], exif[283], exif[296]) == (300, 300, 2)  # per inch
        else:
            assert tuple(round(value) for value in image.info["dpi"]) == (300, 300)
    assert [p.name for p in tmp_path.iterdir()] == [done.path.name]  # no temporary left


def test_a_result_is_also_enlarged_when_the_largest_enlarge_fell_short(photo, tmp_path):
    done = finished(photo, tmp_path, "png", size=(1700, 1275), dpi=None)

    with Image.open(done.path) as image:
        assert image.size == (1700, 1275)
        # Lanczos, not a blur: the enlarged photo keeps its contrast.
        assert image.convert("L").getextrema()[1] - image.convert("L").getextrema()[0] > 150


def test_jpeg_is_quality_92_full_colour_baseline_without_alpha(photo, tmp_path):
    transparent = photo.bandjoin(0)  # every pixel fully transparent: on white
    done = finished(transparent, tmp_path, "jpeg", size=(800, 600), dpi=None)

    with Image.open(done.path) as image:
        assert image.mode == "RGB"
        assert JpegImagePlugin.get_sampling(image) == 0  # 4:4:4
        assert "progressive" not in image.info
        reference = io.BytesIO()
        Image.new("RGB", (8, 8)).save(reference, "JPEG", quality=92, subsampling=0)
        assert image.quantization == Image.open(reference).quantization
        assert min(image.convert("L").getextrema()) >= 250  # flattened on white


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_transparency_is_kept_in_png_and_webp(photo, tmp_path, fmt):
    alpha = pyvips.Image.black(photo.width, photo.height) + 255
    alpha = alpha.draw_rect(0, 0, 0, 400, 300, fill=True).cast("uchar")
    done = finished(photo.bandjoin(alpha), tmp_path, fmt, size=(800, 600))

    with Image.open(done.path) as image:
        assert image.mode == "RGBA"
        assert image.getpixel((10, 10))[3] == 0
        assert image.getpixel((700, 500))[3] == 255


def test_no_metadata_but_the_dpi_we_write(photo, tmp_path):
    tagged = photo.copy()
    tagged.set_type(pyvips.GValue.blob_type, "exif-data", b"Exif\0\0" + b"II*\0" + bytes(10))
    tagged.set_type(pyvips.GValue.blob_type, "xmp-data", b"<x:xmpmeta>secret</x:xmpmeta>")
    tagged.set_type(pyvips.GValue.blob_type, "icc-profile-data", bytes(200))

    png = finished(tagged, tmp_path, "png")
    chunks = png_chunks(png.path)
    assert chunks[:3] == [b"IHDR", b"pHYs", b"IDAT"] and chunks[-1] == b"IEND"
    assert set(chunks) == {b"IHDR", b"pHYs", b"IDAT", b"IEND"}

    jpeg = finished(tagged, tmp_path, "jpeg")
    markers = jpeg_markers(jpeg.path)
    assert markers[0] == 0xE0  # JFIF, with the density
    assert not [m for m in markers if 0xE1 <= m <= 0xEF]  # no EXIF, XMP, ICC or others

    webp = finished(tagged, tmp_path, "webp")
    chunks = webp_chunks(webp.path)
    assert chunks[0] == b"VP8X" and chunks[-1] == b"EXIF"
    assert not {b"XMP ", b"ICCP"} & set(chunks)
    with Image.open(webp.path) as image:
        assert set(image.getexif()) == {282, 283, 296}
        assert "icc_profile" not in image.info and "xmp" not in image.info


def test_a_screen_result_says_no_print_resolution(photo, tmp_path):
    for fmt in ("jpeg", "webp"):
        with Image.open(finished(photo, tmp_path, fmt, dpi=None).path) as image:
            assert "dpi" not in image.info
            assert not image.getexif()
    with Image.open(finished(photo, tmp_path, "png", dpi=None).path) as image:
        assert tuple(round(value) for value in image.info["dpi"]) == (72, 72)


def test_a_webp_the_encoder_refuses_becomes_a_png(tmp_path):
    wide = (pyvips.Image.black(16_400, 8, bands=3) + 90).cast("uchar")  # over 16,383 px a side

    done = finish(wide, tmp_path / "wide.webp", fmt="webp", final_size=(16_400, 8), dpi=None)

    assert (done.extension, done.mime, done.fmt) == ("png", "image/png", "png")
    assert done.path == tmp_path / "wide.png"
    assert [p.name for p in tmp_path.iterdir()] == ["wide.png"]
    with Image.open(done.path) as image:
        assert image.size == (16_400, 8)


def test_the_thumbnail_matches_the_one_results_make(photo, tmp_path):
    done = finished(photo, tmp_path, "jpeg")

    made = thumbnail(done.path)

    with Image.open(io.BytesIO(made)) as small, Image.open(done.path) as whole:
        assert small.format == "WEBP"
        expected = Image.open(io.BytesIO(make_thumbnail(whole)))
        assert abs(small.width - expected.width) <= 1
        assert abs(small.height - expected.height) <= 1
        assert max(small.size) == 480


def test_a_thumbnail_keeps_transparency(photo, tmp_path):
    done = finished(photo.bandjoin(128), tmp_path, "png", size=(800, 600))
    with Image.open(io.BytesIO(thumbnail(done.path))) as small:
        assert small.mode == "RGBA" and small.size == (480, 360)


def test_a_reduced_copy_of_a_stored_file_and_its_size(photo, tmp_path):
    done = finished(photo, tmp_path, "webp")

    with open(done.path, "rb") as stored:  # a file object, as the storage API gives
        small, full = reduced_copy(stored, 1_000_000)
        assert image_size(stored) == A4_COVER

    assert full == A4_COVER
    assert small.mode == "RGB"
    assert small.width * small.height <= 1_000_000
    assert abs(small.width / small.height - 3508 / 2631) < 0.01
    exact, _ = reduced_copy(done.path, 0, size=(300, 200))
    assert exact.size == (300, 200)


def test_only_our_formats_are_read(tmp_path):
    gif = tmp_path / "a.gif"
    Image.new("RGB", (20, 20)).save(gif)
    with pytest.raises(UnreadableImage):
        thumbnail(gif)
    with pytest.raises(UnreadableImage):
        image_size(io.BytesIO(b"\x89PNG\r\n\x1a\n truncated"))
