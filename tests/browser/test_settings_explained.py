"""Detail and Change are explained on the form: a line for the level chosen, the same example
crop at each level, and which setting is the most faithful."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import steps


def test_detail_and_change_are_explained_with_examples(page, audit):
    steps.new_account_with_team(page, "explain")
    steps.open_new_enhancement(page)
    detail = page.get_by_label("Detail")
    expect(detail).to_have_accessible_description(
        "Medium: brings out fine detail and sharpens edges a little."
    )
    detail.select_option(label="High")
    expect(detail).to_have_accessible_description(
        "High: sharpens strongly; fine textures such as wood grain can turn into hard lines."
    )
    change = page.get_by_label("Change")
    change.select_option(label="Subtle")
    expect(change).to_have_accessible_description(
        "Subtle: colours and contrast stay as they were. The most faithful."
    )

    page.get_by_text("What Detail and Change do, on an example").click()
    expect(page.get_by_text("Most faithful: Detail Low with Change Subtle.")).to_be_visible()
    for name in ("Detail Low", "Detail Medium", "Detail High", "Change Subtle", "Change Strong"):
        picture = page.get_by_role("img", name=name)
        expect(picture).to_be_visible()
        picture.scroll_into_view_if_needed()
        expect(picture).to_have_js_property("naturalWidth", 160)
    assert not audit(page, "new enhancement with the examples open")
