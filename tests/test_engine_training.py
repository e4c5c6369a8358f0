"""The training code (needs the optional train extra: PyTorch and ONNX; skipped without it)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from enhancer.engine.learned import LearnedCore  # noqa: E402
from enhancer.engine.management.commands.engine_benchmark import synthetic_photo  # noqa: E402
from enhancer.engine.training.export import (  # noqa: E402
    DepthwisePReLU,
    export_onnx,
    load_onnx_weights,
    onnx_ready,
)
from enhancer.engine.training.model import Upscaler  # noqa: E402
from enhancer.engine.training.train import (  # noqa: E402
    CONFIGS,
    DivergenceGuard,
    TrainConfig,
    luma_psnr_gains,
    make_pairs,
    train,
)


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    return {f"synthetic{i}": np.asarray(synthetic_photo(288, seed=i)) for i in range(3)}


@pytest.mark.parametrize("scale", [2, 4])
def test_silent_network_is_exactly_pillows_bicubic(scale):
    # With the residual branch silenced, the graph's built-in bicubic is all there is.
    y = np.random.default_rng(0).random((40, 52), dtype=np.float32)
    model = Upscaler(scale).eval()
    torch.nn.init.zeros_(model.tail.weight)
    with torch.no_grad():
        out = model(torch.from_numpy(y)[None, None])[0, 0].numpy()
    size = (52 * scale, 40 * scale)
    pillow = np.asarray(Image.fromarray(y, "F").resize(size, Image.Resampling.BICUBIC))
    inner = (slice(2 * scale, -2 * scale),) * 2  # Pillow and replicate padding differ at edges
    assert np.abs(out[inner] - pillow[inner]).max() < 1e-5


def _tiny(scale: int) -> TrainConfig:
    return TrainConfig(scale=scale, channels=8, layers=2, steps=60, batch=4, patch=24, warmup=5)


def test_training_is_reproducible_and_learns(photos):
    pairs = make_pairs(photos, 2, (1.0,))
    first = train(_tiny(2), pairs, pairs[:1], lambda _: None)
    second = train(_tiny(2), pairs, pairs[:1], lambda _: None)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert np.mean(luma_psnr_gains(first, pairs)) > 0.05  # 60 tiny steps: a start


def test_a_blow_up_is_rolled_back_and_the_learning_rate_halved():
    model = Upscaler(2, channels=4, layers=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    guard = DivergenceGuard(model, optimizer)
    for step in range(guard.STRETCH):
        assert guard.after_step(step, 0.01) is None
    with torch.no_grad():
        model.head.weight.add_(1.0)  # what the blow-up did to the weights
    assert guard.after_step(100, 0.025) is None  # an ordinary bad batch
    assert guard.rate_factor == 1.0
    message = guard.after_step(101, 0.5)  # fifty times the recent mean
    assert message is not None and "back to step 0" in message
    assert guard.rate_factor == 0.5
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert guard.after_step(102, float("nan")) is not None  # a NaN is a blow-up too
    assert guard.rate_factor == 0.25


def test_export_runs_in_onnxruntime_like_in_pytorch(tmp_path, photos):
    import onnxruntime as ort

    model = train(_tiny(4), make_pairs(photos, 4, (1.0,)), [], lambda _: None)
    path = tmp_path / "x4.onnx"
    export_onnx(model, path, {"note": "test"})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    y = np.random.default_rng(1).random((1, 1, 37, 45), dtype=np.float32)
    (ours,) = session.run(None, {"luma": y})
    with torch.no_grad():
        reference = model(torch.from_numpy(y)).numpy()
    assert ours.shape == (1, 1, 148, 180)
    assert np.abs(ours - reference).max() < 1e-4
    meta = session.get_modelmeta().custom_metadata_map["detailer"]
    assert '"receptive_radius": 5' in meta and '"scale": 4' in meta
    # PReLU leaves onnxruntime's blocked layout; the export writes it as depthwise convolutions.
    assert "PRelu" not in {node.op_type for node in onnx.load(str(path)).graph.node}


def test_a_network_starts_from_another_scales_exported_weights(tmp_path, photos):
    x2 = train(_tiny(2), make_pairs(photos, 2, (1.0,)), [], lambda _: None)
    with torch.no_grad():
        x2.body[1].weight[0] = 1.5  # one PReLU the export cannot rewrite: it stays a PRelu
    export_onnx(x2, tmp_path / "x2.onnx", {})
    x4 = Upscaler(4, channels=8, layers=3)
    fresh = {name: value.clone() for name, value in x4.named_parameters()}
    copied = x4.start_from(load_onnx_weights(tmp_path / "x2.onnx"))
    assert set(copied) == {
        "head.weight", "head.bias", "head_act.weight",
        "body.0.weight", "body.0.bias", "body.1.weight",
        "body.2.weight", "body.2.bias", "body.3.weight",
    }  # fmt: skip
    trained = dict(x2.named_parameters())
    for name, value in x4.named_parameters():
        # The tail predicts x4's phases and body.4 has no x2 counterpart: both keep their start.
        expected = trained[name] if name in copied else fresh[name]
        assert torch.equal(value, expected), name


def test_prelu_is_rewritten_only_where_that_is_exact():
    model = Upscaler(2, channels=8, layers=2).eval()
    with torch.no_grad():
        model.head_act.weight[3] = 1.5  # a slope above 1: relu((1 - a) x) would be wrong
        model.body[1].weight.uniform_(-0.3, 0.9)
    ready = onnx_ready(model)
    assert isinstance(ready.head_act, torch.nn.PReLU)
    assert isinstance(ready.body[1], DepthwisePReLU)
    x = torch.randn(2, 8, 9, 11)
    with torch.no_grad():
        assert torch.allclose(ready.body[1](x), model.body[1](x), atol=1e-6)
    assert isinstance(model.body[1], torch.nn.PReLU)  # the trained model itself is untouched


def test_shipped_configs_fit_the_runtime():
    for scale, config in CONFIGS.items():
        assert config.scale == scale
        radius = Upscaler(scale, config.channels, config.layers).receptive_radius
        assert radius <= LearnedCore.context
        # A network starts from one trained before it (engine_train goes in ascending order).
        assert config.start_from is None or config.start_from in CONFIGS
        assert (config.start_from or 0) < scale


def test_engine_train_refuses_a_network_whose_starting_network_is_missing(tmp_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=r"x4 starts from the x2 network.*--scales 2,4"):
        call_command("engine_train", "--scales", "4", "--output", str(tmp_path))
    with pytest.raises(CommandError, match=r"x4 starts from the x2 network.*a bound run writes"):
        call_command(
            "engine_train", "--scales", "2,4", "--held-out-bound", "--output", str(tmp_path)
        )
    with pytest.raises(CommandError, match="no x3 network"):
        call_command("engine_train", "--scales", "3", "--output", str(tmp_path))


def test_engine_train_measures_the_held_out_bound_without_writing(tmp_path, photos, monkeypatch):
    """The ceiling run trains on the held-out photos and leaves the output untouched."""
    from io import StringIO

    from django.core.management import call_command

    from enhancer.engine.management.commands import engine_train
    from enhancer.engine.training.data import PhotoSet

    names = sorted(photos)
    photo_set = PhotoSet(
        train={names[0]: photos[names[0]]},
        held_out={name: photos[name] for name in names[1:]},
    )
    monkeypatch.setattr(engine_train, "load_photos", lambda cache: photo_set)
    out = StringIO()
    call_command(
        "engine_train",
        "--scales", "2", "--steps", "40", "--held-out-bound", "--output", str(tmp_path),
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "Training x2 on 2 photos" in text
    assert "x2 bound: " in text and "nothing written" in text
    assert list(tmp_path.iterdir()) == []
