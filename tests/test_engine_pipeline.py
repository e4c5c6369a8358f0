"""The built-in engine's image pipeline: sizes, controls, fidelity, colour, memory-safe strips."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from enhancer.engine import cores, pipeline
from enhancer.engine.management.commands.engine_benchmark import synthetic_photo
from enhancer.engine.pipeline import (
    EnhanceSettings,
    choose_format,
    encode_image,
    enhance_file,
    enhance_image,
    get_core,
)
from enhancer.engine.quality import psnr


def settings_(**fields) -> EnhanceSettings:
    return EnhanceSettings(**{"seed": 7, **fields})


def as_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image).astype(np.float64)


def luma(image: Image.Image) -> np.ndarray:
    return as_array(image.convert("RGB")) @ np.array([0.299, 0.587, 0.114])


def high_frequency_energy(image: Image.Image) -> float:
    y = luma(image)
    laplacian = 4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:]
    return float(np.mean(laplacian**2))


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return synthetic_photo(128, seed=3)


# --- sizes and controls ----------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 2, 4, 8])
def test_output_is_input_times_scale(scale):
    image = synthetic_photo(32, seed=1).crop((0, 0, 30, 20))
    result = enhance_image(image, settings_(scale=scale))
    assert result.size == (30 * scale, 20 * scale)
    assert result.mode == "RGB"


@pytest.mark.parametrize("size", [(1, 1), (1, 5), (7, 1)])
def test_tiny_images_work(size):
    image = Image.new("RGBA", size, (10, 200, 30, 128))
    result = enhance_image(image, settings_(scale=8, details=3, modification=3))
    assert result.size == (size[0] * 8, size[1] * 8)


def test_more_details_means_more_fine_detail(photo):
    lanczos = photo.resize((256, 256), Image.Resampling.LANCZOS)
    energies = [
        high_frequency_energy(enhance_image(photo, settings_(details=d, modification=1)))
        for d in (1, 2, 3)
    ]
    assert high_frequency_energy(lanczos) < energies[0] < energies[1] < energies[2]


def test_more_modification_moves_tones_further(photo):
    faithful = luma(enhance_image(photo, settings_(details=1, modification=1)))
    moved = [
        np.mean(np.abs(luma(enhance_image(photo, settings_(details=1, modification=m))) - faithful))
        for m in (2, 3)
    ]
    assert 1 < moved[0] < moved[1]


def test_settings_are_validated():
    for bad in ({"scale": 3}, {"details": 0}, {"modification": 4}, {"output_format": "jpeg"}):
        with pytest.raises(ValueError):
            EnhanceSettings(**bad)


# --- fidelity --------------------------------------------------------------------------------


def faithful_gain_over_lanczos(original: Image.Image, scale: int, core: str) -> float:
    w, h = (original.width // scale) * scale, (original.height // scale) * scale
    original = original.convert("RGB").crop((0, 0, w, h))
    small = original.resize((w // scale, h // scale), Image.Resampling.BICUBIC)
    lanczos = small.resize((w, h), Image.Resampling.LANCZOS)
    engine = enhance_image(small, settings_(scale=scale, details=1, modification=1), get_core(core))
    reference = np.asarray(original)
    return psnr(reference, np.asarray(engine), scale) - psnr(reference, np.asarray(lanczos), scale)


@pytest.mark.parametrize("core", ["classical", "learned"])
def test_faithful_settings_beat_lanczos_on_a_photo_like_image(core):
    assert faithful_gain_over_lanczos(synthetic_photo(192, seed=5), 2, core) > 0.3


@pytest.mark.parametrize("core", ["classical", "learned"])
@pytest.mark.parametrize("scale", [2, 4])
def test_faithful_settings_beat_lanczos_on_real_photos(scale, core):
    data = pytest.importorskip("skimage.data", reason="needs the benchmark extra (scikit-image)")
    for photo in (data.astronaut(), data.camera()):
        gain = faithful_gain_over_lanczos(Image.fromarray(photo[:256, :256]), scale, core)
        assert gain > 0.1


# --- alpha, orientation, colour, metadata ----------------------------------------------------


def test_alpha_is_kept_and_upscaled_without_sharpening(photo):
    alpha = Image.linear_gradient("L").resize(photo.size)
    image = photo.copy()
    image.putalpha(alpha)
    result = enhance_image(image, settings_(details=3, modification=3))
    assert result.mode == "RGBA"
    expected = alpha.resize(result.size, Image.Resampling.LANCZOS)
    assert np.array_equal(np.asarray(result.getchannel("A")), np.asarray(expected))


def test_fully_opaque_alpha_is_dropped(photo):
    image = photo.convert("RGBA")
    assert enhance_image(image, settings_()).mode == "RGB"


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), "blue")
    image.paste((255, 0, 0), (0, 0, 20, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    source = tmp_path / "phone.jpg"
    image.save(source, quality=95, exif=exif.tobytes())

    written = enhance_file(source, tmp_path / "out", settings_(output_format="png"))

    assert (written.width, written.height) == (40, 80)
    with Image.open(written.path) as result:
        top, bottom = np.asarray(result)[:30].mean((0, 1)), np.asarray(result)[50:].mean((0, 1))
    assert top[0] > 200 > top[2]  # the red half is now on top
    assert bottom[2] > 200 > bottom[0]


def icc_xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(struct.pack(">i", round(v * 65536)) for v in (x, y, z))


def linear_light_profile() -> bytes:
    """A minimal ICC v2 display profile: sRGB primaries, gamma 1.0. Mid-grey 128 in it is
    much brighter (188) in sRGB, so a skipped conversion is easy to see."""
    text = b"Linear sRGB\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(78)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0100) + bytes(2)
    tags = [
        (b"desc", desc),
        (b"wtpt", icc_xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", icc_xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", icc_xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", icc_xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + bytes(4) + b"none" + bytes(4)),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table = body = b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", offset + len(body))
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + icc_xyz(0.9642, 1.0, 0.8249)[8:]
        + bytes(48)
    )
    return header + struct.pack(">I", len(tags)) + table + body


def test_colours_are_converted_to_srgb():
    image = Image.new("RGB", (16, 16), (128, 128, 128))
    image.info["icc_profile"] = linear_light_profile()
    result = enhance_image(image, settings_(scale=2, details=1, modification=1))
    assert np.allclose(np.asarray(result), 188, atol=2)


def test_srgb_profile_and_broken_profiles_are_harmless(photo):
    plain = as_array(enhance_image(photo, settings_()))
    srgb = photo.copy()
    srgb.info["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert np.abs(as_array(enhance_image(srgb, settings_())) - plain).max() <= 3
    broken = photo.copy()
    broken.info["icc_profile"] = b"not a profile"
    assert np.array_equal(as_array(enhance_image(broken, settings_())), plain)


@pytest.mark.parametrize("output_format", ["png", "webp"])
def test_output_carries_no_metadata(tmp_path, photo, output_format):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x0112] = 1
    source = tmp_path / "in.jpg"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    photo.save(source, exif=exif.tobytes(), icc_profile=srgb)

    written = enhance_file(source, tmp_path / "out", settings_(output_format=output_format))

    assert written.path == tmp_path / f"out.{output_format}"
    assert written.content_type == f"image/{output_format}"
    assert written.size_bytes == written.path.stat().st_size
    with Image.open(written.path) as result:
        assert result.format == output_format.upper()
        assert not result.info.get("exif")
        assert not result.info.get("icc_profile")
        assert not result.getexif()


def high_bit_depth_grey() -> Image.Image:
    """A 16-bit greyscale PNG as Pillow decodes it (mode "I;16"), black to white."""
    ramp = np.tile(np.linspace(0, 65535, 24), (24, 1)).astype("<u2")
    buffer = io.BytesIO()
    Image.frombytes("I;16", (24, 24), ramp.tobytes()).save(buffer, "PNG")
    return Image.open(buffer)


@pytest.mark.parametrize(
    ("make", "mode"),
    [
        (lambda p: p.convert("L"), "RGB"),
        (lambda p: p.convert("1"), "RGB"),
        (lambda p: p.convert("P"), "RGB"),
        (lambda p: p.convert("CMYK"), "RGB"),
        (lambda p: p.convert("LA"), "RGB"),  # opaque alpha is dropped
        (lambda p: Image.merge("LA", (p.convert("L"), p.convert("L"))), "RGBA"),
        (lambda p: p.convert("RGBA").convert("RGBa"), "RGB"),
        (lambda p: p.convert("YCbCr"), "RGB"),
        (lambda p: high_bit_depth_grey(), "RGB"),
        (lambda p: high_bit_depth_grey().convert("I"), "RGB"),
        (lambda p: high_bit_depth_grey().convert("F"), "RGB"),
    ],
)
def test_any_input_mode_gives_rgb_or_rgba(photo, make, mode):
    image = make(photo.crop((0, 0, 24, 24)))
    result = enhance_image(image, settings_(scale=2))
    assert result.mode == mode
    assert result.size == (48, 48)


def test_palette_transparency_is_kept(photo):
    image = photo.crop((0, 0, 24, 24)).convert("P")
    image.info["transparency"] = 0
    assert enhance_image(image, settings_()).mode == "RGBA"


def test_sixteen_bit_grey_is_scaled_not_clipped():
    result = enhance_image(high_bit_depth_grey(), settings_(scale=1, details=1, modification=1))
    ramp = np.asarray(result)[12, :, 0].astype(int)
    assert ramp[0] < 10 and 100 < ramp[12] < 160 and ramp[-1] > 245


# --- strips, determinism -----------------------------------------------------------------------


class NearestCore:
    """A stand-in for a learned core: any core outside the classical one goes this way."""

    name = "nearest"
    context = 2

    def upscale(self, rgb: np.ndarray, scale: int) -> np.ndarray:
        return rgb.repeat(scale, axis=0).repeat(scale, axis=1)


@pytest.mark.parametrize(
    ("scale", "details", "modification", "core"),
    [(2, 1, 1, None), (4, 3, 3, None), (1, 2, 3, None), (8, 2, 2, None), (2, 3, 3, NearestCore())],
)
def test_strips_match_whole_image(monkeypatch, photo, scale, details, modification, core):
    image = photo.crop((0, 0, 64, 47)).convert("RGBA")
    image.putalpha(Image.linear_gradient("L").resize(image.size))
    options = settings_(scale=scale, details=details, modification=modification)
    monkeypatch.setattr(pipeline, "STRIP_PIXELS", 1 << 30)
    whole = as_array(enhance_image(image, options, core))
    monkeypatch.setattr(pipeline, "STRIP_PIXELS", 64 * scale * scale * 3)  # 3 input rows
    strips = as_array(enhance_image(image, options, core))
    assert np.abs(strips - whole).max() <= 1


def test_same_seed_same_bytes(tmp_path, photo):
    options = settings_(details=3, modification=3, seed=42)
    first = enhance_file(io.BytesIO(png_bytes(photo)), tmp_path / "a", options)
    second = enhance_file(io.BytesIO(png_bytes(photo)), tmp_path / "b", options)
    assert first.path.read_bytes() == second.path.read_bytes()
    other = enhance_file(io.BytesIO(png_bytes(photo)), tmp_path / "c", settings_(seed=43))
    assert other.path.read_bytes() != first.path.read_bytes()


def test_grain_follows_the_seed(photo):
    def run(seed: int | None) -> np.ndarray:
        return as_array(enhance_image(photo, settings_(modification=3, seed=seed)))

    assert np.array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))
    assert not np.array_equal(run(None), run(None))  # no seed: fresh randomness, as upstream


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --- encoding --------------------------------------------------------------------------------


def test_format_choice():
    assert choose_format("auto", 9728, 9728) == "webp"
    assert choose_format("webp", 16383, 100) == "webp"
    assert choose_format("png", 100, 100) == "png"
    assert choose_format("auto", 16384, 100) == "png"
    assert choose_format("webp", 100, 16384) == "png"
    # Transparent 8x results: WebP's alpha coder would need over 2 GB.
    assert choose_format("auto", 9728, 9728, alpha=True) == "png"
    assert choose_format("auto", 4864, 4864, alpha=True) == "webp"


@pytest.fixture
def failing_webp(monkeypatch):
    """Make WebP encoding fail the way libwebp does on huge detailed images."""
    original = Image.SAVE["WEBP"]
    failing = {"lossy"}

    def save(image, fp, filename):
        kind = "lossless" if image.encoderinfo.get("lossless") else "lossy"
        if kind in failing:
            raise ValueError("encoding error 6")
        return original(image, fp, filename)

    monkeypatch.setitem(Image.SAVE, "WEBP", save)
    return failing


def test_lossy_webp_failure_falls_back_to_lossless(tmp_path, photo, failing_webp):
    written = encode_image(photo, tmp_path / "out", "auto")
    assert (written.format, written.path.suffix) == ("webp", ".webp")
    with Image.open(written.path) as result:
        assert np.array_equal(np.asarray(result.convert("RGB")), np.asarray(photo))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.webp"]


def test_webp_failure_falls_back_to_png(tmp_path, photo, failing_webp):
    failing_webp.add("lossless")
    written = encode_image(photo, tmp_path / "out", "webp")
    assert (written.format, written.content_type) == ("png", "image/png")
    with Image.open(written.path) as result:
        assert np.array_equal(np.asarray(result), np.asarray(photo))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no partial .webp left


def test_huge_images_skip_lossless_webp(tmp_path, photo, failing_webp, monkeypatch):
    # Lossless WebP of an 8x result needs ~2 GB; past the limit the fallback is PNG at once.
    monkeypatch.setattr(pipeline, "WEBP_LOSSLESS_MAX_PIXELS", 100)
    assert encode_image(photo, tmp_path / "out", "auto").format == "png"


def test_encode_reports_the_file(tmp_path, photo):
    written = encode_image(photo, tmp_path / "deep" / "result", "auto")
    assert written.path == tmp_path / "deep" / "result.webp"
    assert (written.width, written.height) == photo.size
    assert Path(written.path).stat().st_size == written.size_bytes > 0


# --- cores -----------------------------------------------------------------------------------


def test_core_comes_from_settings(settings, monkeypatch):
    monkeypatch.setitem(cores._CORES, "nearest", NearestCore)
    settings.DETAILER_ENGINE_CORE = "nearest"
    assert isinstance(get_core(), NearestCore)
    with pytest.raises(ValueError, match="Unknown engine core"):
        get_core("no-such-core")


def test_classical_core_speaks_the_protocol(photo):
    core = get_core("classical")
    assert isinstance(core, cores.UpscaleCore)
    rgb = np.asarray(photo, dtype=np.float32) / 255
    out = core.upscale(rgb, 2)
    assert out.shape == (256, 256, 3) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1


def test_lab_images_have_no_alpha(photo):
    assert enhance_image(photo.convert("LAB"), settings_()).mode == "RGB"


def test_encode_leaves_the_callers_image_alone(tmp_path, photo):
    image = photo.copy()
    image.info["icc_profile"] = b"whatever"
    encode_image(image, tmp_path / "out", "png")
    assert image.info == {"icc_profile": b"whatever"}
