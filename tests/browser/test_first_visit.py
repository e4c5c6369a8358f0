"""Journey 1: a first visitor signs up, becomes site admin, creates a team, enhances a photo at
2x / High, watches it finish live, compares before and after, and downloads a result twice the
size. The same journey on a phone, with touch."""

from __future__ import annotations

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser import steps
from tests.browser.conftest import no_horizontal_overflow


def enhance_and_download(page: Page, test_images, *, phone: bool = False) -> None:
    """From the dashboard of a new team: the photo at 2x / High, to its downloaded result."""
    act = (lambda locator: locator.tap()) if phone else (lambda locator: locator.click())
    check_page = no_horizontal_overflow if phone else (lambda page: None)

    act(page.get_by_role("navigation", name="Main").get_by_role("link", name="New enhancement"))
    expect(page.get_by_role("heading", name="New enhancement")).to_be_visible()
    check_page(page)
    steps.mark_page(page)
    page.get_by_label("Image file").set_input_files(test_images.photo)
    # The page tells what the result will be before anything is sent.
    expect(page.get_by_text("240 x 160 becomes 480 x 320")).to_be_visible()
    steps.choose_settings(page, enlarge="2x", detail="High")
    act(page.get_by_role("button", name="Enhance"))

    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    expect(card.get_by_text("Checking", exact=True)).to_be_visible()  # by a worker, not the request
    expect(card).to_contain_text("2x")
    expect(card).to_contain_text("High")
    steps.expect_done(card)
    expect(card).to_contain_text("480 x 320")
    steps.expect_not_reloaded(page)
    check_page(page)

    act(card.get_by_role("link", name="harbour.jpg"))
    expect(page.get_by_role("heading", name="harbour.jpg", level=1)).to_be_visible()
    expect(page.get_by_text("Done", exact=True)).to_be_visible()
    check_page(page)

    slider = page.get_by_role("slider", name="Before / after")
    expect(slider).to_have_value("50")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None
    if phone:
        # A tap on the track moves the handle there.
        slider.tap(position={"x": box["width"] * 0.2, "y": box["height"] / 2})
    else:
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
    expect(slider).not_to_have_value("50")
    value = int(slider.input_value())
    assert 10 <= value <= 30, value
    expect(slider).to_have_attribute("aria-valuetext", f"{100 - value}% after")

    with page.expect_download() as download_info:
        act(page.get_by_role("link", name="Download", exact=True))
    download = download_info.value
    with Image.open(download.path()) as result:
        assert result.size == (480, 320)
    assert download.suggested_filename.endswith((".webp", ".png"))


@pytest.mark.first_visitor
def test_a_first_visitor_enhances_a_photo(new_context, test_images):
    context, _ = new_context()
    page = context.new_page()
    steps.sign_up(page, "ada", first=True)
    # The first account runs the site.
    expect(page.get_by_text("you are the site administrator")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_be_visible()
    steps.create_team(page, "Northwind Studio")
    expect(page.get_by_role("heading", name="No enhancements yet")).to_be_visible()
    enhance_and_download(page, test_images)


def test_journey_one_on_a_phone(new_context, test_images):
    context, _ = new_context(phone=True)
    page = context.new_page()
    page.goto("/")
    no_horizontal_overflow(page)
    steps.sign_up(page, steps.unique("phone"), path=None)
    no_horizontal_overflow(page)
    steps.create_team(page, f"Pocket {steps.unique('')}")
    no_horizontal_overflow(page)
    enhance_and_download(page, test_images, phone=True)
