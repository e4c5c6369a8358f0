"""The network: a small residual CNN at input resolution, added to a bicubic upscale.

Everything runs on the low-resolution grid, where a pixel costs 1/scale**2 of an output pixel:
a 5x5 feature extractor, a stack of 3x3 convolutions with PReLU, and a last 3x3 convolution that
predicts the scale**2 sub-pixel phases of the luma residual. The bicubic upscale is part of the
graph too, as a fixed 5x5 convolution onto the same phases, so the exported ONNX model maps a
low-resolution luma plane straight to the high-resolution one.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# Pillow's bicubic is Keys' cubic with a = -0.5; the phases below reproduce its enlargement.
BICUBIC_A = -0.5
BICUBIC_RADIUS = 2  # input pixels either side an output phase reads
# The network sees luma - 0.5: inputs centred on zero keep the first layer's pre-activations
# balanced. Uncentred, half of the training runs blew up in the first thousand steps at the
# learning rates that train fastest, and the others learned slower.
LUMA_CENTRE = 0.5
# PReLU's starting slope. PyTorch's default is 0.25; the shipped weights were trained from 0.2,
# and reproducing them needs the same start. (Tried instead of PReLU: a fixed leaky ReLU, which
# onnxruntime fuses with the convolution. At x2, nine leaky layers learned no better than six
# PReLU layers in 3,000 steps; at x4, fourteen leaky layers died at the learning rate that suits
# PReLU. PReLU is exported in a form that runs almost as fast: ``export.DepthwisePReLU``. Also
# tried: RepVGG's training-time 1x1 and identity branches beside each 3x3, folded into it for
# export: x2, eight layers, 3,000 steps: +2.11 dB against +2.09 plain, for 22% more training
# time, so not kept.)
PRELU_INIT = 0.2


def _cubic(x: float) -> float:
    x = abs(x)
    a = BICUBIC_A
    if x < 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


def bicubic_phase_weights(scale: int) -> np.ndarray:
    """(scale**2, 1, 5, 5) kernels: phase (py, px) of a bicubic enlargement by ``scale``.

    Output pixel ``k * scale + p`` sits at input coordinate ``k + (p + 0.5) / scale - 0.5``;
    its taps are the input pixels ``k - 2 .. k + 2`` weighted by the cubic of their distance.
    """
    taps = np.zeros((scale, 2 * BICUBIC_RADIUS + 1))
    for p in range(scale):
        offset = (p + 0.5) / scale - 0.5
        for i, tap in enumerate(range(-BICUBIC_RADIUS, BICUBIC_RADIUS + 1)):
            taps[p, i] = _cubic(tap - offset)
        taps[p] /= taps[p].sum()
    kernels = np.einsum("yi,xj->yxij", taps, taps).reshape(scale * scale, 1, 5, 5)
    return kernels.astype(np.float32)


class Upscaler(nn.Module):
    """Luma in (N, 1, H, W), 0..1; luma out (N, 1, H * scale, W * scale)."""

    def __init__(self, scale: int, channels: int = 32, layers: int = 4) -> None:
        super().__init__()
        self.scale = scale
        self.head = nn.Conv2d(1, channels, 5, padding=2)
        self.head_act = nn.PReLU(channels, init=PRELU_INIT)
        body: list[nn.Module] = []
        for _ in range(layers):
            body += [
                nn.Conv2d(channels, channels, 3, padding=1),
                nn.PReLU(channels, init=PRELU_INIT),
            ]
        self.body = nn.Sequential(*body)
        self.tail = nn.Conv2d(channels, scale * scale, 3, padding=1)
        self.register_buffer("bicubic", torch.from_numpy(bicubic_phase_weights(scale)))
        self.shuffle = nn.PixelShuffle(scale)
        # Start as "bicubic plus almost nothing": the residual branch begins nearly silent and
        # learns only what bicubic misses. Not exactly zero, or the layers before it get no
        # gradient until the last one has grown, and training idles for hundreds of steps.
        nn.init.normal_(self.tail.weight, std=1e-3)
        nn.init.zeros_(self.tail.bias)
        for conv in [self.head, *(m for m in self.body if isinstance(m, nn.Conv2d))]:
            nn.init.kaiming_normal_(conv.weight, a=PRELU_INIT, nonlinearity="leaky_relu")
            nn.init.zeros_(conv.bias)

    @property
    def receptive_radius(self) -> int:
        """Input pixels either side that can change an output pixel (tiles overlap this)."""
        convs = [m for m in self.body if isinstance(m, nn.Conv2d)]
        return max(2 + len(convs) + 1, BICUBIC_RADIUS)

    def start_from(self, trained: dict[str, torch.Tensor]) -> list[str]:
        """Copy the head and body of another scale's trained network; returns what was copied.

        The tail predicts this scale's phases, so it keeps its own start, as do body layers
        the other network does not have.
        """
        own = self.state_dict()  # shares storage with the parameters
        copied = []
        with torch.no_grad():
            for name, value in trained.items():
                target = own.get(name)
                if name.startswith("tail.") or target is None or target.numel() != value.numel():
                    continue
                target.copy_(value.reshape(target.shape))
                copied.append(name)
        return copied

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        features = self.head_act(self.head(y - LUMA_CENTRE))
        residual = self.tail(self.body(features))
        base = F.conv2d(F.pad(y, (2, 2, 2, 2), mode="replicate"), self.bicubic)
        return self.shuffle(base + residual)


def parameter_count(model: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in model.parameters())
