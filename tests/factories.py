"""Test images made on the spot: natural enough for real processing, small enough to be fast."""

from __future__ import annotations

import io

import numpy as np
from django.core.files.base import ContentFile
from PIL import Image


def photo(width: int = 64, height: int = 48, *, seed: int = 1, mode: str = "RGB") -> Image.Image:
    """Smooth gradients, soft shapes and fine noise, like a small photograph."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            0.5 + 0.4 * np.sin(x / max(width, 1) * 3.1 + 0.3),
            0.5 + 0.4 * np.cos(y / max(height, 1) * 2.7),
            0.5 + 0.3 * np.sin((x + y) / max(width + height, 1) * 5.0),
        ],
        axis=-1,
    )
    cx, cy = width * 0.6, height * 0.4
    disc = ((x - cx) ** 2 + (y - cy) ** 2) < (min(width, height) * 0.2) ** 2
    base[disc] *= 0.5
    base += rng.normal(0, 0.03, base.shape)
    pixels = (np.clip(base, 0, 1) * 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    return image.convert(mode) if mode != "RGB" else image


def image_bytes(width: int = 64, height: int = 48, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image = photo(width, height, **kwargs)
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(buffer, fmt)
    return buffer.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def make_job(team, user, *, status="queued", batch=None, name="a.png", **fields):
    """A job of `team` with a stored original (and a result when it has succeeded)."""
    from enhancer.models import Job

    job = Job(
        team=team,
        created_by=user,
        original_name=name,
        provider=fields.pop("provider", "builtin"),
        original_width=30,
        original_height=20,
        status=status,
        batch=batch,
        **fields,
    )
    job.original.save(f"{job.id}.png", ContentFile(image_bytes(30, 20)), save=False)
    if status == "succeeded":
        job.result.save(f"{job.id}-2x.png", ContentFile(image_bytes(60, 40)), save=False)
        job.result_width, job.result_height = 60, 40
    job.save()
    return job
