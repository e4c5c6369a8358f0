"""Checking and preparing images: judged by content, bombs refused before decoding, output clean."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, ImageFile

from enhancer.images import (
    AREA_LIMIT,
    MAX_DECODE_PIXELS,
    ImageProblem,
    fit_within_area,
    inspect_image,
    prepare_image,
)

NOT_AN_IMAGE = "This file is not an image. Choose a JPEG, PNG or WebP picture."


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    # Noise compresses badly, so a truncated file really lacks pixel data.
    return Image.effect_noise(size, 60).convert(mode)


def gradient(size: tuple[int, int]) -> Image.Image:
    # Big test images: noise would make PNG encoding slow for no gain in what is tested.
    return Image.linear_gradient("L").convert("RGB").resize(size)


def decode(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A tiny PNG whose header claims any size; its pixel data is a few bytes."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def zeros_png(width: int, height: int) -> bytes:
    """A complete, valid 1-bit PNG of the given size: a real image that compresses to ~10 kB."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture
def load_calls(monkeypatch) -> list[object]:
    """Records every pixel decode, to prove a refusal happened before any."""
    calls: list[object] = []
    original = ImageFile.ImageFile.load

    def spy(self):
        calls.append(self)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return calls


# --------------------------------------------------------------------------- inspect_image


@pytest.mark.parametrize(
    ("fmt", "mime"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_it_describes_accepted_formats(fmt, mime):
    info = inspect_image(encode(noise((64, 48)), fmt))
    assert (info.format, info.mime, info.width, info.height, info.area) == (fmt, mime, 64, 48, 3072)
    assert not info.has_alpha
    assert not info.animated


def test_it_refuses_an_empty_file():
    with pytest.raises(ImageProblem) as caught:
        inspect_image(b"")
    assert caught.value.code == "empty"
    assert caught.value.message == "This file is empty. Choose a JPEG, PNG or WebP picture."


def test_it_refuses_too_many_bytes_saying_both_sizes():
    data = b"\xff\xd8\xff" + bytes(int(31.2 * 1024 * 1024))
    with pytest.raises(ImageProblem) as caught:
        inspect_image(data, max_bytes=25 * 1024 * 1024)
    assert caught.value.code == "too_large_bytes"
    assert caught.value.message == "This file is 31.2 MB; the limit is 25 MB."


def test_it_reads_a_stream_only_up_to_the_limit():
    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.given = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            assert size != -1, "read everything instead of stopping at the limit"
            self.given += size
            return b"\xff" * size

    stream = Unseekable()
    with pytest.raises(ImageProblem) as caught:
        inspect_image(stream, max_bytes=2048)
    assert caught.value.code == "too_large_bytes"
    assert caught.value.message == "This file is larger than the 2 KB limit."
    assert stream.given == 2049


def test_it_refuses_a_file_that_is_not_an_image():
    with pytest.raises(ImageProblem) as caught:
        inspect_image(b"Dear team, the pictures are attached.")
    assert caught.value.code == "not_an_image"
    assert caught.value.message == NOT_AN_IMAGE


@pytest.mark.parametrize(
    ("fmt", "name"),
    [("GIF", "a GIF image"), ("BMP", "a BMP image"), ("TIFF", "a TIFF image")],
)
def test_it_names_other_image_formats(fmt, name, load_calls):
    with pytest.raises(ImageProblem) as caught:
        inspect_image(encode(noise((16, 16)), fmt))
    assert caught.value.code == "unsupported_format"
    assert caught.value.message == f"This is {name}. Detailer accepts JPEG, PNG and WebP."
    assert not load_calls  # no decoder but the three accepted ones ever runs


def test_it_names_a_pdf():
    with pytest.raises(ImageProblem) as caught:
        inspect_image(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    assert caught.value.code == "unsupported_format"
    assert caught.value.message.startswith("This is a PDF document.")


def test_content_wins_over_the_name_and_declared_type():
    upload = SimpleUploadedFile("holiday.png", encode(noise((30, 20)), "JPEG"), "image/png")
    assert inspect_image(upload).format == "JPEG"
    prepared = prepare_image(upload)
    assert (prepared.format, prepared.mime) == ("JPEG", "image/jpeg")
    assert decode(prepared.content).format == "JPEG"


def test_it_rewinds_a_stream_before_and_after_reading():
    stream = io.BytesIO(encode(noise((30, 20)), "PNG"))
    stream.read(10)  # as if a form had looked at it
    assert inspect_image(stream, max_bytes=10**6).format == "PNG"
    assert stream.tell() == 0


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9])
def test_it_refuses_a_truncated_image(fmt, keep):
    data = encode(noise((300, 200)), fmt)
    with pytest.raises(ImageProblem) as caught:
        inspect_image(data[: int(len(data) * keep)])
    assert caught.value.code == "corrupt"
    assert "damaged or incomplete" in caught.value.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_prepare_also_refuses_a_truncated_image(fmt):
    data = encode(noise((300, 200)), fmt)
    with pytest.raises(ImageProblem) as caught:
        prepare_image(data[: len(data) // 2])
    assert caught.value.code == "corrupt"


def test_it_refuses_garbage_behind_a_png_signature():
    with pytest.raises(ImageProblem) as caught:
        inspect_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    assert caught.value.code == "corrupt"


def test_a_header_claiming_50000_by_50000_is_refused_without_decoding(load_calls):
    data = png_claiming(50_000, 50_000)
    assert len(data) < 200
    for check in (inspect_image, prepare_image):
        with pytest.raises(ImageProblem) as caught:
            check(data)
        assert caught.value.code == "decompression_bomb"
        assert "too large to open safely" in caught.value.message
    assert not load_calls


def test_our_own_limit_holds_when_pillows_is_switched_off(monkeypatch, load_calls):
    # 9000 x 9000 = 81 MP: under Pillow's warning threshold (89 MP) and above ours. A real,
    # valid PNG of ~10 kB that would need 81 MB once decoded.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    data = zeros_png(9000, 9000)
    assert len(data) < 100_000
    for check in (inspect_image, prepare_image):
        with pytest.raises(ImageProblem) as caught:
            check(data)
        assert caught.value.code == "decompression_bomb"
        assert caught.value.message == (
            "This image is 9000 x 9000 pixels, too large to open safely (the most is "
            f"{MAX_DECODE_PIXELS // 1_000_000} megapixels). Make it smaller and try again."
        )
    assert not load_calls


def test_inspect_reports_an_image_over_the_area_limit_without_complaint():
    info = inspect_image(encode(Image.new("RGB", (2000, 1500)), "JPEG"))
    assert info.area == 3_000_000 > AREA_LIMIT


# --------------------------------------------------------------------------- orientation


def oriented_jpeg(size: tuple[int, int], orientation: int) -> bytes:
    # Left half red, right half blue, so the turn can be checked on the pixels.
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return encode(image, "JPEG", exif=exif, quality=95)


def test_orientation_6_swaps_the_sides_a_person_sees():
    data = oriented_jpeg((40, 20), 6)
    info = inspect_image(data)
    assert (info.width, info.height) == (20, 40)

    prepared = prepare_image(data)
    assert (prepared.width, prepared.height) == (20, 40)
    output = decode(prepared.content)
    assert output.size == (20, 40)
    assert ExifTags.Base.Orientation not in output.getexif()
    # Orientation 6 means "turn a quarter clockwise to view": the stored left is the top.
    top, bottom = output.getpixel((10, 3)), output.getpixel((10, 36))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_orientation_is_respected_when_fitting():
    prepared = prepare_image(oriented_jpeg((2000, 1500), 6))
    assert (prepared.original_width, prepared.original_height) == (1500, 2000)
    assert (prepared.width, prepared.height) == (1053, 1404)
    assert decode(prepared.content).size == (1053, 1404)


# --------------------------------------------------------------------------- area limit


def test_over_the_area_limit_is_refused_when_not_fitting():
    with pytest.raises(ImageProblem) as caught:
        prepare_image(encode(Image.new("RGB", (2000, 1500)), "PNG"), auto_fit=False)
    assert caught.value.code == "too_many_pixels"
    assert caught.value.message == (
        "This image is 2000 x 1500 = 3,000,000 pixels; the limit is 1,478,656 pixels "
        "(for example 1216 x 1216). Make it smaller and try again."
    )


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_over_the_area_limit_is_reduced_with_a_message(fmt):
    prepared = prepare_image(encode(gradient((2000, 1500)), fmt))
    assert prepared.was_fitted
    assert (prepared.width, prepared.height) == (1404, 1053)
    assert (prepared.original_width, prepared.original_height) == (2000, 1500)
    assert prepared.message == (
        "The image was 2000 x 1500, over the 1,478,656-pixel limit, so it was reduced to "
        "1404 x 1053."
    )
    output = decode(prepared.content)
    assert (output.format, output.size) == (fmt, (1404, 1053))


def test_exactly_at_the_limit_is_left_alone():
    prepared = prepare_image(encode(gradient((1216, 1216)), "PNG"), auto_fit=False)
    assert (prepared.width, prepared.height, prepared.was_fitted) == (1216, 1216, False)
    assert prepared.message is None


def test_a_large_jpeg_is_fitted_through_a_reduced_decode():
    # 7000 x 5000 = 35 MP; libjpeg decodes it at 1/4 scale before the Lanczos step.
    prepared = prepare_image(encode(Image.new("RGB", (7000, 5000), (10, 120, 200)), "JPEG"))
    assert (prepared.width, prepared.height) == fit_within_area(7000, 5000)
    assert decode(prepared.content).getpixel((5, 5)) == pytest.approx((10, 120, 200), abs=3)


# --------------------------------------------------------------------------- metadata


def swapped_red_blue_profile() -> bytes:
    """An RGB profile that says the file's red is really sRGB's blue (and the other way round).

    Made from Pillow's sRGB profile by swapping the rXYZ and bXYZ tag offsets, so a converter
    that honours it turns pure red into blue, and one that merely drops it leaves red.
    """
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    entries = {}
    for index in range(struct.unpack(">I", data[128:132])[0]):
        at = 132 + 12 * index
        entries[bytes(data[at : at + 4])] = at
    red, blue = entries[b"rXYZ"], entries[b"bXYZ"]
    data[red + 4 : red + 12], data[blue + 4 : blue + 12] = (
        data[blue + 4 : blue + 12],
        data[red + 4 : red + 12],
    )
    data[84:100] = bytes(16)  # the profile ID (an MD5) no longer matches; zero means "unset"
    return bytes(data)


def test_gps_and_all_other_metadata_are_removed():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (52.0, 22.0, 12.5), 3: "E", 4: (4.0, 53.0, 41.0)})
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(
        noise((64, 48)),
        "JPEG",
        exif=exif,
        icc_profile=srgb,
        comment=b"taken at home",
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>secret</x:xmpmeta>",
    )
    original = decode(data)
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test input really has GPS
    assert {"exif", "icc_profile", "comment", "xmp"} <= original.info.keys()

    prepared = prepare_image(data)
    output = decode(prepared.content)
    assert len(output.getexif()) == 0
    assert not output.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "icc_profile", "comment", "xmp"} & output.info.keys()
    for marker in (b"Exif", b"Phone", b"taken at home", b"xmpmeta"):
        assert marker not in prepared.content


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_metadata_is_removed(fmt):
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (52.0, 22.0, 12.5)})
    options = {"exif": exif, "xmp": b"<x:xmpmeta>secret</x:xmpmeta>"}
    if fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo

        text = PngInfo()
        text.add_text("Comment", "taken at home")
        options["pnginfo"] = text
    prepared = prepare_image(encode(noise((64, 48)), fmt, **options))
    output = decode(prepared.content)
    assert len(output.getexif()) == 0
    assert not {"exif", "xmp", "Comment", "icc_profile"} & output.info.keys()
    for marker in (b"Phone", b"secret", b"taken at home"):
        assert marker not in prepared.content


def test_a_colour_profile_is_converted_to_srgb_not_just_dropped():
    data = encode(
        Image.new("RGB", (8, 8), (255, 0, 0)), "PNG", icc_profile=swapped_red_blue_profile()
    )
    prepared = prepare_image(data)
    output = decode(prepared.content)
    assert "icc_profile" not in output.info
    red, green, blue = output.getpixel((4, 4))
    assert blue > 230 and red < 30 and green < 30


def test_a_broken_colour_profile_is_ignored():
    data = encode(noise((16, 16)), "JPEG", icc_profile=b"not a profile at all" * 10)
    output = decode(prepare_image(data).content)
    assert "icc_profile" not in output.info


# --------------------------------------------------------------------------- modes and alpha


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_transparency_is_kept(fmt):
    image = Image.new("RGBA", (32, 32), (200, 10, 10, 255))
    image.paste((0, 0, 0, 0), (0, 0, 16, 32))
    image.paste((0, 200, 0, 128), (16, 0, 32, 16))
    options = {"lossless": True} if fmt == "WEBP" else {}
    data = encode(image, fmt, **options)
    assert inspect_image(data).has_alpha

    output = decode(prepare_image(data).content)
    assert output.mode == "RGBA"
    assert output.getpixel((4, 4))[3] == 0
    assert output.getpixel((24, 4)) == (0, 200, 0, 128)
    assert output.getpixel((24, 28)) == (200, 10, 10, 255)


def test_a_palette_png_with_a_transparent_colour_keeps_it():
    image = Image.new("P", (16, 16), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    image.paste(0, (0, 0, 8, 16))
    data = encode(image, "PNG", transparency=0)
    assert inspect_image(data).has_alpha
    output = decode(prepare_image(data).content)
    assert output.mode == "RGBA"
    assert output.getpixel((2, 2))[3] == 0
    assert output.getpixel((12, 2)) == (255, 0, 0, 255)


def test_lossless_webp_stays_lossless():
    image = noise((48, 32))
    output = decode(prepare_image(encode(image, "WEBP", lossless=True)).content)
    assert output.tobytes() == image.tobytes()


def test_sixteen_bit_grey_is_scaled_not_clipped():
    image = Image.new("I;16", (8, 8), 65535)
    for x in range(4):
        for y in range(8):
            image.putpixel((x, y), 32768)
    output = decode(prepare_image(encode(image, "PNG")).content)
    assert output.mode == "L"
    assert output.getpixel((6, 4)) == 255
    assert output.getpixel((1, 4)) == pytest.approx(128, abs=1)


def test_a_cmyk_jpeg_becomes_rgb():
    output = decode(
        prepare_image(encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")).content
    )
    assert output.mode == "RGB"
    red, green, blue = output.getpixel((8, 8))
    assert red > 200 and green < 60 and blue < 60


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_an_animation_is_accepted_using_its_first_frame(fmt):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "blue", "green")]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], lossless=True)
    assert inspect_image(data).animated
    prepared = prepare_image(data)
    assert prepared.message == "It is an animation; only its first frame is used."
    output = decode(prepared.content)
    assert getattr(output, "n_frames", 1) == 1
    assert output.convert("RGB").getpixel((10, 10)) == (255, 0, 0)


# --------------------------------------------------------------------------- fit_within_area


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((2000, 1500), (1404, 1053)),
        ((1500, 2000), (1053, 1404)),
        ((1216, 1216), (1216, 1216)),
        ((4000, 4000), (1216, 1216)),
        ((640, 480), (640, 480)),
        ((10_000_000, 1), (AREA_LIMIT, 1)),
        ((1, 10_000_000), (1, AREA_LIMIT)),
    ],
)
def test_fit_within_area_examples(size, fitted):
    assert fit_within_area(*size) == fitted


def test_fit_within_area_refuses_nonsense():
    with pytest.raises(ValueError):
        fit_within_area(0, 10)


def matching_short(long: int, width: int, height: int) -> int:
    """The shorter side that keeps the proportions for a given longer side, rounded half up."""
    big, small = max(width, height), min(width, height)
    return max(1, (2 * long * small + big) // (2 * big))


sides = st.integers(min_value=1, max_value=60_000)
limits = st.one_of(st.just(AREA_LIMIT), st.integers(min_value=1, max_value=20_000_000))


@given(width=sides, height=sides, limit=limits)
def test_fit_within_area_properties(width, height, limit):
    fitted_w, fitted_h = fit_within_area(width, height, limit)
    assert fitted_w >= 1 and fitted_h >= 1
    if width * height <= limit:
        assert (fitted_w, fitted_h) == (width, height)  # never changed when it fits
        return
    assert fitted_w * fitted_h <= limit
    assert fitted_w <= width and fitted_h <= height  # never enlarged
    # The orientation is kept, and the shorter side is the one that matches the longer side.
    assert (fitted_w >= fitted_h) == (width >= height) or fitted_w == fitted_h
    long_side = max(fitted_w, fitted_h)
    assert min(fitted_w, fitted_h) == matching_short(long_side, width, height)
    # As large as possible: one more pixel on the longer side no longer fits.
    bigger = long_side + 1
    assert bigger * matching_short(bigger, width, height) > limit


@given(width=sides, height=sides)
def test_fitted_proportions_are_within_half_a_pixel(width, height):
    fitted_w, fitted_h = fit_within_area(width, height)
    if (fitted_w, fitted_h) == (width, height) or min(fitted_w, fitted_h) == 1:
        return
    if width >= height:
        assert abs(fitted_h - fitted_w * height / width) <= 0.5 + 1e-9
    else:
        assert abs(fitted_w - fitted_h * width / height) <= 0.5 + 1e-9


def test_png_orientation_is_applied_too():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    data = encode(noise((40, 20)), "PNG", exif=exif)
    assert (inspect_image(data).width, inspect_image(data).height) == (20, 40)
    output = decode(prepare_image(data).content)
    assert output.size == (20, 40)
    assert len(output.getexif()) == 0
