"""Image-quality measurement shared by ``engine_benchmark`` and ``engine_train``.

PSNR and SSIM on BT.601 luma with a border of ``scale`` pixels cropped, the convention of the
super-resolution literature, so the figures compare with published ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .cores import get_core
from .pipeline import EnhanceSettings, enhance_image


def luma_601(rgb: np.ndarray) -> np.ndarray:
    """Y of BT.601 YCbCr (16..235), the channel super-resolution papers report PSNR on."""
    rgb = rgb.astype(np.float64)
    return 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255


def psnr(reference: np.ndarray, test: np.ndarray, border: int) -> float:
    a, b = _crop(luma_601(reference), border), _crop(luma_601(test), border)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def _gaussian_valid(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    n = len(kernel)
    h, w = x.shape
    rows = sum(kernel[i] * x[i : h - n + 1 + i] for i in range(n))
    return sum(kernel[i] * rows[:, i : w - n + 1 + i] for i in range(n))


def ssim(reference: np.ndarray, test: np.ndarray, border: int) -> float:
    """SSIM on luma as Wang et al. (2004): Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03."""
    x, y = _crop(luma_601(reference), border), _crop(luma_601(test), border)
    taps = np.exp(-0.5 * (np.arange(11) - 5) ** 2 / 1.5**2)
    kernel = taps / taps.sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _gaussian_valid(x, kernel), _gaussian_valid(y, kernel)
    sxx = _gaussian_valid(x * x, kernel) - mx * mx
    syy = _gaussian_valid(y * y, kernel) - my * my
    sxy = _gaussian_valid(x * y, kernel) - mx * my
    ratio = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(ratio.mean())


def _crop(a: np.ndarray, border: int) -> np.ndarray:
    return a[border:-border, border:-border] if border else a


def resize(array: np.ndarray, size: tuple[int, int], method: Image.Resampling) -> np.ndarray:
    return np.asarray(Image.fromarray(array).resize(size, method))


@dataclass(frozen=True)
class Method:
    """A way of enlarging: a plain Pillow filter, or the engine with a core and two levels."""

    label: str
    resample: Image.Resampling | None = None
    core: str = ""
    details: int = 1
    modification: int = 1

    def enlarge(self, small: np.ndarray, size: tuple[int, int], scale: int) -> np.ndarray:
        if self.resample is not None:
            return resize(small, size, self.resample)
        settings = EnhanceSettings(scale, self.details, self.modification, seed=1)
        return np.asarray(enhance_image(Image.fromarray(small), settings, get_core(self.core)))


BICUBIC = Method("bicubic", Image.Resampling.BICUBIC)
LANCZOS = Method("lanczos", Image.Resampling.LANCZOS)


def downscale(original: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(original cropped to a multiple of ``scale``, its bicubic 1/scale), both RGB uint8."""
    h, w = (original.shape[0] // scale) * scale, (original.shape[1] // scale) * scale
    cropped = original[:h, :w]
    return cropped, resize(cropped, (w // scale, h // scale), Image.Resampling.BICUBIC)


def quality_table(
    photos: dict[str, np.ndarray], scales: list[int], methods: list[Method]
) -> dict[tuple[str, int], np.ndarray]:
    """(method label, scale) -> array of (PSNR, SSIM) rows, one per photo, in ``photos`` order.

    Each photo is cropped to a multiple of the scale, bicubic-downscaled, then enlarged back.
    """
    results: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for scale in scales:
        for photo in photos.values():
            original, small = downscale(photo, scale)
            for method in methods:
                out = method.enlarge(small, (original.shape[1], original.shape[0]), scale)
                score = (psnr(original, out, scale), ssim(original, out, scale))
                results.setdefault((method.label, scale), []).append(score)
    return {key: np.array(scores) for key, scores in results.items()}
