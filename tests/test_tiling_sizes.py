"""What a job will produce: the Enlarge a "Made for" target needs, the final size, and the
largest Enlarge a format and the pixel cap allow."""

from __future__ import annotations

import pytest

from enhancer.tiling.sizes import (
    MAX_PIXELS,
    MAX_SIDE,
    OUTPUT_MAX_PIXELS,
    TARGETS,
    OutputTooLarge,
    cover_size,
    largest_scale,
    plan_output,
    scale_for_target,
)

A4, A3, UHD, FULL_HD = TARGETS["a4"], TARGETS["a3"], TARGETS["4k"], TARGETS["fullhd"]


def test_an_800_x_600_photo_for_a4_covers_the_page_as_a_print_shop_trims():
    assert cover_size(800, 600, A4) == (3508, 2631)
    assert scale_for_target(800, 600, A4) == 8  # 4x makes 3200 x 2400: short of 3508


def test_a_portrait_photo_is_fitted_in_its_own_orientation():
    assert cover_size(600, 800, A4) == (2631, 3508)
    assert scale_for_target(600, 800, A4) == 8
    assert cover_size(2480, 3508, A4) == (2480, 3508)  # exactly A4 already


def test_the_height_binds_for_a_wide_photo():
    width, height = cover_size(3000, 1000, A4)  # 3:1, wider than A4's 1.41:1
    assert height == 2480 and width == 7440
    assert width >= 3508


@pytest.mark.parametrize("target", [A4, A3, UHD, FULL_HD], ids=lambda t: t.key)
@pytest.mark.parametrize("size", [(800, 600), (600, 800), (1000, 1000), (4000, 3000), (333, 777)])
def test_the_cover_is_the_smallest_size_with_the_photos_proportions(target, size):
    width, height = size
    cover = cover_size(width, height, target)
    wanted = (
        (target.long_side, target.short_side)
        if width >= height
        else (
            target.short_side,
            target.long_side,
        )
    )
    assert cover[0] >= wanted[0] and cover[1] >= wanted[1]
    assert cover[0] == wanted[0] or cover[1] == wanted[1]  # one side is exactly the target's
    assert abs(cover[0] / cover[1] - width / height) < 2 / min(cover)


def test_the_smallest_enlarge_that_reaches_the_target():
    assert scale_for_target(1920, 1080, FULL_HD) == 1
    assert scale_for_target(1000, 600, FULL_HD) == 2
    assert scale_for_target(1000, 600, UHD) == 4  # 2x: 2000 x 1200, short of 3840 x 2160
    assert scale_for_target(1000, 500, UHD) == 8  # 4x: 4000 x 2000, still 160 px short
    assert scale_for_target(100, 100, A3) == 8  # even 8x falls short: the largest, then resized


def test_a_print_target_plans_the_enlarge_the_resize_and_300_dpi():
    plan = plan_output(800, 600, scale=2, made_for="a4", fmt="jpeg")
    assert plan.scale == 8
    assert plan.enlarged == (6400, 4800)
    assert plan.final == (3508, 2631)
    assert plan.dpi == 300 and plan.resized and plan.note == ""


def test_a_screen_target_has_no_dpi():
    plan = plan_output(1000, 600, scale=8, made_for="fullhd", fmt="webp")
    assert (plan.scale, plan.final, plan.dpi) == (2, (1920, 1152), None)


def test_any_use_keeps_the_enlarge_chosen():
    plan = plan_output(3000, 2000, scale=2, made_for="", fmt="webp")
    assert (plan.scale, plan.enlarged, plan.final, plan.note) == (2, (6000, 4000), (6000, 4000), "")
    assert not plan.resized


def test_a_webp_too_large_gets_the_largest_enlarge_that_fits_with_a_note():
    plan = plan_output(6000, 4000, scale=4, made_for="", fmt="webp")

    assert plan.scale == 2
    assert plan.enlarged == plan.final == (12000, 8000)
    assert "4x would make 24,000 x 16,000 pixels" in plan.note
    assert "16,383 pixels a side" in plan.note and "enlarged 2x" in plan.note


def test_png_and_jpeg_take_the_same_photo_at_4x():
    for fmt in ("png", "jpeg"):
        plan = plan_output(6000, 4000, scale=4, made_for="", fmt=fmt)
        assert (plan.scale, plan.note) == (4, "")


def test_the_pixel_cap_binds_png_and_jpeg():
    # 50 MP at 4x is 800 MP: over the cap, so 2x (200 MP).
    plan = plan_output(8660, 5774, scale=4, made_for="", fmt="png")
    assert plan.scale == 2 and "megapixels in all" in plan.note
    assert largest_scale(8660, 5774, "jpeg") == 2


def test_the_webp_pixel_cap_binds_a_square_below_the_side_limit():
    side = int((MAX_PIXELS["webp"] ** 0.5) // 2) + 1  # 2x is just over the pixel cap
    assert side * 2 <= MAX_SIDE["webp"]
    assert largest_scale(side, side, "webp") == 1


def test_the_caps_are_within_the_output_cap():
    assert MAX_PIXELS["png"] == MAX_PIXELS["jpeg"] == OUTPUT_MAX_PIXELS
    assert MAX_PIXELS["webp"] <= MAX_SIDE["webp"] ** 2


def test_an_image_no_webp_can_hold_is_refused_in_plain_words():
    with pytest.raises(OutputTooLarge, match="Choose PNG or JPEG"):
        plan_output(17_000, 1_000, scale=1, made_for="", fmt="webp")
