"""Export a trained network to ONNX with the metadata the runtime core reads."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import onnx
import torch

from .model import Upscaler, parameter_count

OPSET = 17


def export_onnx(model: Upscaler, path: Path, extra: dict) -> int:
    """Write ``model`` to ``path``; returns the file size. Input "luma" (1, 1, H, W), 0..1."""
    model.eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notices
        torch.onnx.export(
            model,
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
