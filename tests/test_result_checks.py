"""The automatic result checks: real engine results pass, broken ones warn in plain words."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageEnhance

from enhancer.engine.pipeline import EnhanceSettings, enhance_image
from enhancer.result_checks import (
    MESSAGES,
    Limits,
    builtin_limits,
    check_files,
    check_result,
    limits_for,
    ssim,
)
from tests.conftest import run_tasks
from tests.factories import make_job, photo

LIMITS = builtin_limits(1, 1)  # the strictest: Detail Low, Change Subtle


def encoded(image: Image.Image, fmt: str = "PNG") -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    buffer.seek(0)
    return buffer


def check(original: Image.Image, result: Image.Image, scale: int = 2, limits: Limits = LIMITS):
    return check_files(
        encoded(original),
        encoded(result),
        target=(original.width * scale, original.height * scale),
        limits=limits,
    )


@pytest.fixture(scope="module")
def real_photo() -> Image.Image:
    skimage_data = pytest.importorskip("skimage.data")
    return Image.fromarray(skimage_data.coffee()).resize((200, 133))


@pytest.mark.parametrize("details", [1, 2, 3])
@pytest.mark.parametrize("change", [1, 2, 3])
def test_engine_results_pass_at_every_level(real_photo, details, change):
    settings = EnhanceSettings(scale=2, details=details, modification=change, seed=1)
    result = enhance_image(real_photo, settings)

    outcome = check(real_photo, result, limits=builtin_limits(details, change))

    assert outcome.failed == [], outcome.figures


def test_a_result_of_the_wrong_size_warns(real_photo):
    outcome = check(
        real_photo, real_photo.resize((real_photo.width * 2 - 2, real_photo.height * 2))
    )
    assert outcome.failed == ["size"]


def test_a_flat_result_warns(real_photo):
    outcome = check(real_photo, Image.new("RGB", (400, 266), (120, 110, 100)))
    assert "flat" in outcome.failed


def test_a_blank_result_warns(real_photo):
    outcome = check(real_photo, Image.new("RGB", (400, 266), "white"))
    assert "flat" in outcome.failed and "colour" in outcome.failed


def test_a_grey_result_of_a_colourful_original_warns(real_photo):
    grey = real_photo.resize((400, 266), Image.Resampling.LANCZOS).convert("L").convert("RGB")
    outcome = check(real_photo, grey)
    assert "grey" in outcome.failed


def test_a_colour_cast_warns_and_names_no_other_problem(real_photo):
    big = real_photo.resize((400, 266), Image.Resampling.LANCZOS)
    r, g, b = big.split()
    cast = Image.merge("RGB", (r.point(lambda v: min(255, v + 30)), g, b))
    outcome = check(real_photo, cast)
    assert outcome.failed == ["colour"], outcome.figures


def test_a_darker_result_warns(real_photo):
    big = real_photo.resize((400, 266), Image.Resampling.LANCZOS)
    outcome = check(real_photo, ImageEnhance.Brightness(big).enhance(0.7))
    assert "colour" in outcome.failed


def test_lost_structure_warns(real_photo):
    big = np.asarray(real_photo.resize((400, 266), Image.Resampling.LANCZOS))
    rng = np.random.default_rng(1)
    # Same colours and tones, scrambled in 20-pixel blocks: the picture is gone.
    blocks = [
        big[y : y + 19, x : x + 20] for y in range(0, 266 - 18, 19) for x in range(0, 400, 20)
    ]
    order = rng.permutation(len(blocks))
    rows = [
        np.hstack([blocks[i] for i in order[r * 20 : (r + 1) * 20]])
        for r in range(len(blocks) // 20)
    ]
    scrambled = Image.fromarray(np.vstack(rows)).resize((400, 266))
    outcome = check(real_photo, scrambled)
    assert "structure" in outcome.failed


def test_a_huge_result_is_compared_through_reduced_copies_with_the_same_verdicts(real_photo):
    settings = EnhanceSettings(scale=2, details=1, modification=1, seed=1)
    result = enhance_image(real_photo, settings)
    target = (real_photo.width * 2, real_photo.height * 2)

    whole = check_files(encoded(real_photo), encoded(result), target=target, limits=LIMITS)
    reduced = check_files(
        encoded(real_photo), encoded(result), target=target, limits=LIMITS, reduce_above=1000
    )

    assert reduced.failed == whole.failed == []
    assert reduced.figures["width"] == result.width
    assert abs(reduced.figures["ssim"] - whole.figures["ssim"]) < 0.05
    assert abs(reduced.figures["colour_shift"] - whole.figures["colour_shift"]) < 1.0
    darker = ImageEnhance.Brightness(result).enhance(0.6)
    failed = check_files(
        encoded(real_photo), encoded(darker), target=target, limits=LIMITS, reduce_above=1000
    )
    assert "colour" in failed.failed


def test_transparent_images_are_compared_on_their_visible_part():
    original = photo(40, 30, mode="RGBA")
    outcome = check(original, original.resize((80, 60), Image.Resampling.LANCZOS))
    assert outcome.failed == []


def test_ssim_matches_scikit_image():
    metrics = pytest.importorskip("skimage.metrics")
    a = np.asarray(photo(90, 70, seed=1).convert("L"), dtype=np.float32)
    b = np.asarray(photo(90, 70, seed=2).convert("L"), dtype=np.float32)
    expected = metrics.structural_similarity(a, b, data_range=255)
    assert ssim(a, b) == pytest.approx(expected, abs=1e-4)


def test_cloud_limits_are_settings_defaulting_to_the_measured_ones(settings):
    from enhancer.models import Job

    cloud = Job(provider="cloud", details=3, modification=2)
    assert limits_for(cloud) == builtin_limits(3, 2)
    settings.DETAILER_CHECK_CLOUD_MAX_COLOUR_SHIFT = 2.5
    settings.DETAILER_CHECK_CLOUD_MIN_SSIM = 0.9
    assert limits_for(cloud) == Limits(2.5, 0.9)
    assert limits_for(Job(provider="builtin", details=3, modification=2)) == builtin_limits(3, 2)


@pytest.mark.django_db(transaction=True)
def test_a_failed_check_shows_on_the_card_and_the_page(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="succeeded", finished_at=timezone.now())
    # A grey-brown flat result: the checks must say so, never pass it silently.
    job.result.save(
        f"{job.id}-flat.png",
        ContentFile(encoded(Image.new("RGB", (60, 40), (90, 80, 70))).getvalue()),
    )
    page = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "Checking the result" in page and "seen=checking" in page

    check_result.enqueue(str(job.id))
    run_tasks()
    job.refresh_from_db()

    assert job.checked_at is not None
    assert MESSAGES["flat"] in job.check_warnings
    page = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert MESSAGES["flat"] in page and "Checking the result" not in page
    dashboard = owner_client.get(reverse("dashboard")).content.decode()
    assert MESSAGES["flat"] in dashboard


@pytest.mark.django_db(transaction=True)
def test_a_passed_check_says_so(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="succeeded", finished_at=timezone.now())
    with job.original.open("rb") as handle:
        original = Image.open(handle)
        original.load()
    job.result.save(
        f"{job.id}-ok.png",
        ContentFile(encoded(original.resize((60, 40), Image.Resampling.LANCZOS)).getvalue()),
    )
    check_result.enqueue(str(job.id))
    run_tasks()
    job.refresh_from_db()
    assert job.check_warnings == [], job.check_figures
    page = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "Automatic checks passed" in page


@pytest.mark.django_db(transaction=True)
def test_a_result_the_checks_cannot_read_is_flagged_not_passed(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="succeeded", finished_at=timezone.now())
    job.result.save(f"{job.id}-broken.png", ContentFile(b"\x89PNG\r\n\x1a\n broken"))
    check_result.enqueue(str(job.id))
    run_tasks()
    job.refresh_from_db()
    assert job.check_warnings == [MESSAGES["unreadable"]]
