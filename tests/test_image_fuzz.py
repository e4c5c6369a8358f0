"""No image input yields a 5xx: a corpus of odd files and a fuzz of the whole intake path.

Every input goes through the real form view (header checks in the request) and then the
worker's `prepare_job` (full decode, conversion, re-encoding). Each must end as a job in the
queue, or refused in plain words: in the form, or as a failed job with a message.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from enhancer.intake import prepare_job
from enhancer.models import Job
from tests.factories import image_bytes, photo

pytestmark = pytest.mark.django_db

FIELDS = {"scale": 2, "details": 2, "modification": 2, "output_format": "webp", "auto_fit": "on"}
FUZZ_EXAMPLES = 1000


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def noise(width: int, height: int, mode: str = "RGB") -> Image.Image:
    bands = len(mode)
    pixels = np.random.default_rng(7).integers(0, 256, (height, width, bands), dtype=np.uint8)
    return Image.fromarray(pixels if bands > 1 else pixels[..., 0], mode)


def png_with_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    """A valid PNG with one extra ancillary chunk before IEND."""
    data = image_bytes(32, 24)
    chunk = struct.pack(">I", len(payload)) + chunk_type + payload
    chunk += struct.pack(">I", zlib.crc32(chunk_type + payload) & 0xFFFFFFFF)
    return data[:-12] + chunk + data[-12:]


def corpus() -> dict[str, bytes]:
    sixteen = Image.fromarray(np.linspace(0, 65535, 40 * 30).reshape(30, 40).astype(np.uint16))
    text = PngImagePlugin.PngInfo()
    text.add_text("comment", "x" * 2_000_000)  # 2 MB of metadata
    return {
        "noise-q100.jpg": encode(noise(512, 512), "JPEG", quality=100, subsampling=0),
        "noise-cmyk-q100.jpg": encode(noise(400, 300, "CMYK"), "JPEG", quality=100),
        "cmyk.jpg": encode(photo(64, 48).convert("CMYK"), "JPEG"),
        "grey.jpg": encode(photo(64, 48, mode="L"), "JPEG"),
        "progressive.jpg": encode(photo(64, 48), "JPEG", progressive=True),
        "huge-exif.jpg": encode(photo(64, 48), "JPEG", exif=b"Exif\x00\x00" + b"\x00" * 60_000),
        "huge-comment.jpg": encode(photo(64, 48), "JPEG", comment=b"c" * 60_000),
        "sixteen-bit.png": encode(sixteen, "PNG"),
        "palette.png": encode(photo(64, 48).convert("P"), "PNG"),
        "palette-transparent.png": encode(photo(64, 48).convert("P"), "PNG", transparency=0),
        "one-bit.png": encode(photo(64, 48).convert("1"), "PNG"),
        "grey-alpha.png": encode(photo(64, 48, mode="LA"), "PNG"),
        "interlaced.png": encode(photo(64, 48), "PNG", interlace=1),
        "huge-text.png": encode(photo(32, 24), "PNG", pnginfo=text),
        "bad-crc-chunk.png": png_with_chunk(b"tEXt", b"key\x00value")[:-20] + b"\x00" * 8,
        "unknown-critical-chunk.png": png_with_chunk(b"ABCD", b"\x00" * 16),
        "truncated.jpg": image_bytes(64, 48, fmt="JPEG")[:300],
        "truncated.png": image_bytes(64, 48)[:100],
        "truncated.webp": image_bytes(64, 48, fmt="WEBP")[:60],
        "lossless.webp": encode(photo(64, 48), "WEBP", lossless=True),
        "alpha.webp": encode(photo(64, 48, mode="RGBA"), "WEBP"),
        "one-pixel.png": encode(Image.new("RGB", (1, 1)), "PNG"),
        "very-wide.png": encode(Image.new("RGB", (5000, 1)), "PNG"),
        "header-only.jpg": b"\xff\xd8\xff",
        "png-signature-only.png": b"\x89PNG\r\n\x1a\n",
        "riff-no-webp.webp": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        "zeros.png": b"\x00" * 1000,
    }


def send(client, name: str, data: bytes) -> int:
    """Post one file; run the worker's check on any job it made. Returns the HTTP status."""
    before = set(Job.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("enhance_new"),
        {**FIELDS, "images": [SimpleUploadedFile(name, data, content_type="image/jpeg")]},
    )
    for job in Job.objects.exclude(pk__in=before):
        prepare_job.call(str(job.id))
        job.refresh_from_db()
        assert job.status in ("queued", "submitting", "failed"), (name, job.status)
        if job.status == "failed":
            assert job.error_message, name
    return response.status_code


@pytest.mark.parametrize(("name", "data"), list(corpus().items()), ids=list(corpus()))
def test_odd_files_get_a_plain_answer(owner_client, name, data):
    assert send(owner_client, name, data) in (200, 302)


def test_high_entropy_jpegs_are_accepted_not_500(owner_client):
    # The measured 500: re-encoding noise at quality 100 with optimize=True overran Pillow's buffer.
    for name in ("noise-q100.jpg", "noise-cmyk-q100.jpg"):
        assert send(owner_client, name, corpus()[name]) == 302
    assert set(Job.objects.values_list("status", flat=True)) <= {"queued", "submitting"}


SEEDS = {
    "a.jpg": image_bytes(24, 16, fmt="JPEG"),
    "a.png": image_bytes(24, 16),
    "a.webp": image_bytes(24, 16, fmt="WEBP"),
}


@st.composite
def mutated(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "delete", "repeat"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
    return name, bytes(data)


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sample=mutated())
def test_a_thousand_mutated_images_never_yield_a_5xx(owner_client, sample):
    name, data = sample
    assert send(owner_client, name, data) in (200, 302)
