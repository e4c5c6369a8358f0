"""The learned core: shipped ONNX models, seamless tiles, quality, no PyTorch at run time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from enhancer.engine import learned, pipeline
from enhancer.engine.cores import get_core, luma
from enhancer.engine.management.commands.engine_benchmark import synthetic_photo
from enhancer.engine.pipeline import EnhanceSettings, enhance_image
from enhancer.engine.quality import downscale, psnr
from enhancer.engine.training import data

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def photo_rgb() -> np.ndarray:
    return np.asarray(synthetic_photo(160, seed=11), dtype=np.float32) / 255


def test_default_core_is_learned(settings):
    del settings.DETAILER_ENGINE_CORE
    assert get_core().name == "learned"


def test_classical_core_stays_selectable(settings):
    settings.DETAILER_ENGINE_CORE = "classical"
    assert get_core().name == "classical"


def test_shipped_models_are_small_and_described():
    files = [learned.WEIGHTS_DIR / f"x{s}.onnx" for s in learned.NETWORK_SCALES]
    assert sum(f.stat().st_size for f in files) < 5 * 1024 * 1024
    assert (learned.WEIGHTS_DIR / "MODEL_CARD.md").exists()
    for scale in learned.NETWORK_SCALES:
        info = learned.model_info(scale)
        assert info["scale"] == scale
        # The pipeline's strip context and the tile overlap must cover what a pixel can see.
        assert info["receptive_radius"] <= learned.LearnedCore.context


@pytest.mark.parametrize("scale", learned.NETWORK_SCALES)
def test_tiles_leave_no_seams(photo_rgb, scale):
    y = luma(photo_rgb[:150, :130])
    whole = learned.upscale_luma(y, scale, tile=4096)
    tiled = learned.upscale_luma(y, scale, tile=48)  # 3 x 4 tiles, seams everywhere
    assert whole.shape == (150 * scale, 130 * scale)
    assert np.abs(tiled - whole).max() < 1e-4  # float rounding only, far below one level


@pytest.mark.parametrize("scale", [1, 2, 4, 8])
def test_every_scale_enlarges(photo_rgb, scale):
    image = Image.fromarray((photo_rgb[:30, :20] * 255).astype(np.uint8))
    result = enhance_image(image, EnhanceSettings(scale, 1, 1), get_core("learned"))
    assert result.size == (20 * scale, 30 * scale)


def test_8x_in_strips_matches_one_pass(photo_rgb, monkeypatch):
    # At 8x the core answers with a Pillow image, which the pipeline cuts into strips.
    image = Image.fromarray(np.rint(photo_rgb[:40, :24] * 255).astype(np.uint8))
    direct = learned.LearnedCore().upscale(np.asarray(image, dtype=np.float32) / 255, 8)
    monkeypatch.setattr(pipeline, "STRIP_PIXELS", 24 * 64 * 9)  # 9 input rows a strip
    in_strips = np.asarray(enhance_image(image, EnhanceSettings(8, 1, 1)), np.int16)
    assert in_strips.shape == (320, 192, 3)
    assert np.abs(in_strips - np.asarray(direct, np.int16)).max() <= 1  # float rounding only


def test_details_1_modification_1_is_the_network_itself(photo_rgb):
    image = Image.fromarray(np.rint(photo_rgb * 255).astype(np.uint8))
    through_pipeline = np.asarray(enhance_image(image, EnhanceSettings(2, 1, 1)))
    direct = learned.LearnedCore().upscale(np.asarray(image, dtype=np.float32) / 255, 2)
    assert np.array_equal(through_pipeline, direct)


def test_higher_levels_still_change_the_result(photo_rgb):
    image = Image.fromarray(np.rint(photo_rgb * 255).astype(np.uint8))
    faithful = np.asarray(enhance_image(image, EnhanceSettings(2, 1, 1, seed=1)), np.int16)
    punchy = np.asarray(enhance_image(image, EnhanceSettings(2, 3, 3, seed=1)), np.int16)
    assert np.abs(punchy - faithful).mean() > 2


@pytest.mark.parametrize(("scale", "at_least_db"), [(2, 1.5), (4, 0.8)])
def test_learned_core_beats_bicubic_on_a_held_out_photo(scale, at_least_db):
    skimage_data = pytest.importorskip("skimage.data")
    assert "astronaut" in data.HELD_OUT_SKIMAGE  # never trained on
    original, small = downscale(np.asarray(skimage_data.astronaut())[:256, :256], scale)
    size = (original.shape[1], original.shape[0])
    bicubic = np.asarray(Image.fromarray(small).resize(size, Image.Resampling.BICUBIC))
    ours = np.asarray(
        enhance_image(Image.fromarray(small), EnhanceSettings(scale, 1, 1), get_core("learned"))
    )
    gain = psnr(original, ours, scale) - psnr(original, bicubic, scale)
    assert gain >= at_least_db


def test_missing_model_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.setattr(learned, "WEIGHTS_DIR", tmp_path)
    learned.reset_sessions()
    try:
        with pytest.raises(learned.ModelMissing, match="engine_train"):
            learned.upscale_luma(np.zeros((8, 8), np.float32), 2)
    finally:
        monkeypatch.undo()
        learned.reset_sessions()


def test_the_site_runs_the_learned_core_without_pytorch():
    # A fresh interpreter, as a worker is: enlarging must not pull PyTorch (or ONNX) in.
    code = (
        "import sys, numpy as np\n"
        "from enhancer.engine.learned import LearnedCore\n"
        "out = LearnedCore().upscale(np.full((20, 30, 3), 0.5, np.float32), 4)\n"
        "assert out.shape == (80, 120, 3), out.shape\n"
        "heavy = sorted(m for m in ('torch', 'onnx') if m in sys.modules)\n"
        "print(','.join(heavy) or 'none')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "none"


# --- the data split --------------------------------------------------------------------------


def test_held_out_photos_are_never_trained_on():
    held = {w.name for w in data.held_out_wallpapers()}
    splittable = [w for w in data.WALLPAPERS if not w.added_later]
    assert len(held) == -(-len(splittable) // data.HOLD_OUT_EVERY)
    assert held < {w.name for w in splittable}
    assert not set(data.HELD_OUT_SKIMAGE) & set(data.TRAIN_SKIMAGE)
    assert len({w.name for w in data.WALLPAPERS}) == len(data.WALLPAPERS)
    assert len({w.file_name for w in data.WALLPAPERS}) == len(data.WALLPAPERS)
    for wallpaper in data.WALLPAPERS:
        assert wallpaper.package in data.PACKAGES and wallpaper.licence


def test_adding_training_photos_leaves_the_held_out_set_unchanged():
    # Every published figure was measured on exactly these six; more training data must not
    # move a photo between the sets.
    assert {w.name for w in data.held_out_wallpapers()} == {
        "aitzgorri_by_Aitzol_Berasategi",
        "picosdeeuropa_by_Aitzol_Berasategi",
        "Dune",
        "GreenMeadow",
        "Storm",
        "YellowFlower",
    }
    assert {w.package for w in data.WALLPAPERS if w.added_later} == {
        "lxqt-themes",
        "plasma-workspace-wallpapers",
    }


def test_a_model_can_train_without_the_added_photos():
    pixel = np.zeros((1, 1, 3), np.uint8)
    added = next(w.name for w in data.WALLPAPERS if w.added_later)
    original = next(w.name for w in data.WALLPAPERS if not w.added_later)
    photos = data.PhotoSet(train={added: pixel, original: pixel, "rocket": pixel}, held_out={})
    assert set(photos.training()) == {added, original, "rocket"}
    assert set(photos.training(with_added=False)) == {original, "rocket"}


# --- system checks ---------------------------------------------------------------------------


def test_check_reports_an_unknown_core(settings):
    from enhancer.engine.checks import check_engine_core

    settings.DETAILER_ENGINE_CORE = "magic"
    assert [m.id for m in check_engine_core()] == ["engine.E001"]


def test_check_reports_missing_models(settings, monkeypatch, tmp_path):
    from enhancer.engine.checks import check_engine_core

    settings.DETAILER_ENGINE_CORE = "learned"
    assert check_engine_core() == []
    monkeypatch.setattr(learned, "WEIGHTS_DIR", tmp_path)
    (message,) = check_engine_core()
    assert message.id == "engine.E002" and "make train" in message.hint
    settings.DETAILER_ENGINE_CORE = "classical"
    assert check_engine_core() == []
