"""Try settings: after choosing an image, a grid of its most detailed part at all nine Detail x
Change levels; a click on one sets the form, a click on the picture tries another part."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import steps


def test_try_settings_renders_nine_versions_and_sets_the_form(page, test_images, shoot, audit):
    steps.new_account_with_team(page, "trier")
    steps.open_new_enhancement(page)
    try_button = page.get_by_role("button", name="Try settings")
    expect(try_button).to_be_hidden()  # nothing to try before an image is chosen
    page.get_by_label("Image file").set_input_files([test_images.photo])
    expect(try_button).to_be_visible()
    expect(page.get_by_text("Free: it does not count against the team's limits.")).to_be_visible()
    try_button.click()

    grid = page.get_by_role("region", name="Try settings")
    expect(grid.get_by_text("Choose the version you like")).to_be_visible(
        timeout=steps.JOB_TIMEOUT_MS
    )
    cells = grid.get_by_role("button", name="Use Detail")
    expect(cells).to_have_count(9)
    expect(grid.get_by_role("button", name="Use Detail Low · Change Subtle")).to_be_visible()
    expect(grid.locator(".try-cell img")).to_have_count(9)
    for image in grid.locator(".try-cell img").all():
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0
    expect(grid).to_contain_text("The most detailed part")
    shoot(page, "try-settings-light-desktop")
    assert audit(page, "New enhancement with the Try settings grid") == []

    grid.get_by_role("button", name="Use Detail High · Change Strong").click()
    expect(page.get_by_label("Detail", exact=True)).to_have_value("3")
    expect(page.get_by_label("Change", exact=True)).to_have_value("3")
    expect(grid.get_by_role("status")).to_contain_text("Chosen: Detail High · Change Strong")

    # Another part: click the top left of the whole picture.
    grid.get_by_role("img", name="The whole image").click(position={"x": 5, "y": 5})
    expect(grid).to_contain_text("The part you chose")
    expect(grid.get_by_text("Choose the version you like")).to_be_visible(
        timeout=steps.JOB_TIMEOUT_MS
    )
    # The form kept the image: Enhance sends it with the chosen levels.
    page.get_by_role("button", name="Enhance").click()
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    expect(card).to_contain_text("Detail: High · Change: Strong")
