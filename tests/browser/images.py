"""Test pictures, drawn with NumPy and Pillow: small and photo-like, so the engine is quick and
the screenshots show something worth enlarging."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# The engine's area limit (1,478,656 pixels); the "too large" picture is over it.
AREA_LIMIT = 1216 * 1216


@dataclass(frozen=True)
class TestImages:
    photo: Path  # 240 x 160 JPEG
    second: Path  # 200 x 150 PNG
    jpeg_named_png: Path  # a JPEG whose name says .png
    too_large: Path  # 1400 x 1200 JPEG, over the area limit

    __test__ = False  # not a test class, whatever pytest thinks of its name


def landscape(width: int, height: int, seed: int) -> Image.Image:
    """A sky gradient, hills, a sun and some texture: edges and detail for a sharpener."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height)[:, None]
    x = np.linspace(0.0, 1.0, width)[None, :]
    sky = np.stack([70 + 120 * y + 0 * x, 130 + 90 * y + 0 * x, 200 + 40 * y + 0 * x], axis=-1)
    image = Image.fromarray(np.clip(sky, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    sun = (int(width * 0.75), int(height * 0.28))
    radius = max(4, height // 9)
    draw.ellipse(
        (sun[0] - radius, sun[1] - radius, sun[0] + radius, sun[1] + radius),
        fill=(255, 214, 120),
    )
    for layer, colour in enumerate([(64, 120, 72), (40, 92, 54), (28, 66, 40)]):
        base = height * (0.55 + 0.13 * layer)
        phase = rng.uniform(0, 6.28)
        points = [
            (i, base + height * 0.08 * np.sin(i / width * 6.28 * (1 + layer) + phase))
            for i in range(0, width + 8, 8)
        ]
        draw.polygon([(0, height), *points, (width, height)], fill=colour)
    for _ in range(max(6, width // 30)):  # a few trees
        tx = int(rng.uniform(0, width))
        ty = int(rng.uniform(height * 0.7, height * 0.95))
        size = int(rng.uniform(height * 0.04, height * 0.1))
        draw.polygon([(tx, ty - 2 * size), (tx - size, ty), (tx + size, ty)], fill=(18, 48, 28))
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    noise = rng.normal(0, 1.0, (height, width, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def make_all(folder: Path) -> TestImages:
    photo = folder / "harbour.jpg"
    landscape(240, 160, seed=1).save(photo, "JPEG", quality=90)
    second = folder / "meadow.png"
    landscape(200, 150, seed=2).save(second, "PNG")
    jpeg_named_png = folder / "renamed.png"
    landscape(180, 120, seed=3).save(jpeg_named_png, "JPEG", quality=90)
    too_large = folder / "panorama.jpg"
    landscape(1400, 1200, seed=4).save(too_large, "JPEG", quality=85)
    assert AREA_LIMIT < 1400 * 1200
    return TestImages(photo, second, jpeg_named_png, too_large)
