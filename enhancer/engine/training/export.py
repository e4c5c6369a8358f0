"""Export a trained network to ONNX with the metadata the runtime core reads."""

from __future__ import annotations

import copy
import io
import json
import warnings
from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn
from torch.nn import functional as F

from .model import Upscaler, parameter_count

OPSET = 17


class DepthwisePReLU(nn.Module):
    """PReLU written as onnxruntime runs it fastest: ``a * x + relu((1 - a) * x)``.

    onnxruntime computes convolutions in a blocked channel layout (NCHWc) and can fuse ReLU
    into them, but it has no blocked PReLU: each PReLU cost a reorder out of the layout, the
    PReLU itself and a reorder back in, 40% of the x2 network's time. As two depthwise 1 x 1
    convolutions (the first with its ReLU fused, the second summing into it) the values stay in
    the blocked layout: the same function, a quarter less time. Exact only while every slope
    is at most 1, which :func:`onnx_ready` checks.
    """

    def __init__(self, prelu: nn.PReLU) -> None:
        super().__init__()
        slope = prelu.weight.detach().reshape(-1, 1, 1, 1)
        self.register_buffer("slope", slope.clone())
        self.register_buffer("rest", 1 - slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        positive_part = F.relu(F.conv2d(x, self.rest, groups=channels))
        return F.conv2d(x, self.slope, groups=channels) + positive_part


def onnx_ready(model: Upscaler) -> nn.Module:
    """A copy of ``model`` with every PReLU that can be rewritten as :class:`DepthwisePReLU`."""
    ready = copy.deepcopy(model).eval()
    for parent in list(ready.modules()):
        for name, child in parent.named_children():
            per_channel = isinstance(child, nn.PReLU) and child.weight.numel() > 1
            if per_channel and float(child.weight.max()) <= 1:
                setattr(parent, name, DepthwisePReLU(child))
    return ready


def export_onnx(model: Upscaler, path: Path, extra: dict) -> int:
    """Write ``model`` to ``path``; returns the file size. Input "luma" (1, 1, H, W), 0..1."""
    model.eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notices
        torch.onnx.export(
            onnx_ready(model),
            torch.zeros(1, 1, 64, 64),
            buffer,
            input_names=["luma"],
            output_names=["luma_out"],
            dynamic_axes={"luma": {2: "height", 3: "width"}, "luma_out": {2: "H", 3: "W"}},
            opset_version=OPSET,
            dynamo=False,
        )
    proto = onnx.load_from_string(buffer.getvalue())
    meta = {
        "scale": model.scale,
        "receptive_radius": model.receptive_radius,
        "parameters": parameter_count(model),
        **extra,
    }
    entry = proto.metadata_props.add()
    entry.key, entry.value = "detailer", json.dumps(meta, sort_keys=True)
    proto.producer_name = "detailer engine_train"
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def load_onnx_weights(path: Path) -> dict[str, torch.Tensor]:
    """The trained parameters of a network :func:`export_onnx` wrote, named as in the model.

    Its inverse, for starting one network from another. Read from the graph's nodes, whose
    names carry the module paths, rather than from the initializers' names, which the exporter
    may rename (a PReLU's slope) or share (equal tensors): a :class:`DepthwisePReLU` is two
    depthwise convolutions, and its slope is the one summed, not the one behind the ReLU.
    """
    graph = onnx.load(str(path)).graph
    values = {item.name: numpy_helper.to_array(item) for item in graph.initializer}
    consumers: dict[str, set[str]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, set()).add(node.op_type)
    state = {}
    for node in graph.node:
        parts = node.name.rsplit("/", 2)  # "/body/body.0/Conv" -> module "body.0"
        if len(parts) < 3 or not parts[-2] or node.op_type not in ("Conv", "PRelu"):
            continue  # the graph's own steps, such as the built-in bicubic
        module, weight = parts[-2], values[node.input[1]]
        if node.op_type == "PRelu":
            state[f"{module}.weight"] = weight.reshape(-1)
        elif weight.shape[1:] == (1, 1, 1):  # half of a DepthwisePReLU
            if "Add" in consumers[node.output[0]]:
                state[f"{module}.weight"] = weight.reshape(-1)
        else:
            state[f"{module}.weight"] = weight
            if len(node.input) > 2:
                state[f"{module}.bias"] = values[node.input[2]]
    return {name: torch.from_numpy(value.copy()) for name, value in state.items()}
