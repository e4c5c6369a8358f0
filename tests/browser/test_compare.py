"""The comparison people can use: the divider on the picture is dragged (mouse and touch) and
keyboard operable with its handle on the image; side by side panes pan and zoom together;
zoom levels fit, 100% and 200%, and a click zooms in at the pointer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import steps


@pytest.fixture(scope="module")
def finished_job(browser, site, test_images, tmp_path_factory):
    """An account with one finished job: (storage state, the job's path)."""
    context = browser.new_context(base_url=site.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    steps.new_account_with_team(page, "compare")
    steps.submit_files(page, [test_images.photo], enlarge="2x")
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)
    card.get_by_role("link", name="harbour.jpg").click()
    expect(page.get_by_role("heading", name="harbour.jpg", level=1)).to_be_visible()
    path = page.url.removeprefix(site.url)
    state = tmp_path_factory.mktemp("compare") / "state.json"
    context.storage_state(path=str(state))
    context.close()
    return str(state), path


def open_job(new_context, finished_job, **options):
    state, path = finished_job
    context, _ = new_context(storage_state=state, **options)
    page = context.new_page()
    page.goto(path)
    expect(page.get_by_role("slider", name="Before / after")).to_be_visible()
    return page


def inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"] - 1
        and inner["y"] >= outer["y"] - 1
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
    )


def test_the_divider_on_the_picture_is_dragged_and_keyboard_operable(new_context, finished_job):
    page = open_job(new_context, finished_job)
    slider = page.get_by_role("slider", name="Before / after")
    picture = page.get_by_role("img", name="After: enhanced, 480 x 320")
    picture.scroll_into_view_if_needed()
    box = picture.bounding_box()
    # The slider lies on the picture, not below it.
    assert inside(slider.bounding_box(), box), (slider.bounding_box(), box)
    handle = page.locator(".compare-handle")
    assert inside(handle.bounding_box(), box)

    # Drag the divider itself, from the middle of the picture to a quarter of its width.
    middle_y = box["y"] + box["height"] * 0.4
    page.mouse.move(box["x"] + box["width"] / 2, middle_y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.25, middle_y, steps=8)
    page.mouse.up()
    value = int(slider.input_value())
    assert 22 <= value <= 28, value
    expect(slider).to_have_attribute("aria-valuetext", f"{100 - value}% after")
    clip = page.locator("[data-after]").evaluate("(el) => el.style.clipPath")
    assert clip.startswith("inset(0px 0px 0px "), clip

    # The keyboard moves the same divider.
    slider.focus()
    page.keyboard.press("End")
    expect(slider).to_have_value("100")
    page.keyboard.press("ArrowLeft")
    expect(slider).to_have_value("99")
    expect(page.get_by_role("button", name="Fit")).to_have_attribute("aria-pressed", "true")


def test_the_divider_follows_a_finger(new_context, finished_job):
    page = open_job(new_context, finished_job, phone=True)
    slider = page.get_by_role("slider", name="Before / after")
    divider = page.locator("[data-divider]")
    divider.scroll_into_view_if_needed()
    box = page.locator("[data-stage]").bounding_box()
    start = divider.bounding_box()
    x0, y = start["x"] + start["width"] / 2, box["y"] + box["height"] / 2
    x1 = box["x"] + box["width"] * 0.8
    # A real touch drag, through Chromium's touch input (as a finger on a phone).
    cdp = page.context.new_cdp_session(page)
    for kind, x in (("touchStart", x0), ("touchMove", (x0 + x1) / 2), ("touchMove", x1)):
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    value = int(slider.input_value())
    assert 76 <= value <= 84, value


def test_side_by_side_panes_pan_and_zoom_together(new_context, finished_job):
    page = open_job(new_context, finished_job)
    page.get_by_role("button", name="Side by side").click()
    page.get_by_role("button", name="200%").click()
    expect(page.get_by_role("button", name="200%")).to_have_attribute("aria-pressed", "true")
    before, after = page.locator(".compare-before"), page.locator(".compare-after")
    widths = page.locator(".compare img").evaluate_all("(imgs) => imgs.map((i) => i.width)")
    assert widths == [960, 960], widths
    # Drag to pan in the before pane: the after pane shows the same part.
    box = before.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2, steps=6)
    page.mouse.up()
    left = before.evaluate("(el) => el.scrollLeft")
    assert left > 50, left
    assert after.evaluate("(el) => el.scrollLeft") == left
    # Scrolling the after pane (wheel, scrollbar) moves the before pane too.
    after.evaluate("(el) => { el.scrollLeft = 10; }")
    expect(before).to_have_js_property("scrollLeft", 10)
    # So do the arrow keys in a focused pane.
    pane = page.get_by_role("group", name="Before, zoomed: use the arrow keys to look around")
    pane.focus()
    page.keyboard.press("ArrowRight")
    # The key scrolls smoothly: wait for both panes to come to rest at the same place.
    page.wait_for_function(
        """() => {
            const b = document.querySelector('.compare-before');
            const a = document.querySelector('.compare-after');
            return b.scrollLeft > 10 && Math.abs(a.scrollLeft - b.scrollLeft) < 1;
        }"""
    )


def test_zoom_levels_and_click_to_zoom_at_the_pointer(new_context, finished_job):
    page = open_job(new_context, finished_job)
    images = page.locator(".compare img")
    page.get_by_role("button", name="100%").click()
    assert images.evaluate_all("(imgs) => imgs.map((i) => i.width)") == [480, 480]
    page.get_by_role("button", name="Fit").click()
    fit_width = images.first.evaluate("(img) => img.width")
    assert fit_width > 480  # fit fills the page's width

    # A click on the picture zooms in there: the point under the pointer stays under it.
    picture = page.locator("[data-stage]")
    box = picture.bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.click(x, y)
    expect(page.get_by_role("button", name="200%")).to_have_attribute("aria-pressed", "true")
    assert images.first.evaluate("(img) => img.width") == 960
    # At 200% a click goes back to fit.
    page.mouse.click(x, y)
    expect(page.get_by_role("button", name="Fit")).to_have_attribute("aria-pressed", "true")
