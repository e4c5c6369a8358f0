"""The gallery: select several enhancements to download as one ZIP or delete together;
versions of the same original are grouped; a search counts its matches after showing them."""

from __future__ import annotations

import zipfile

from playwright.sync_api import expect

from tests.browser import steps


def test_select_download_and_delete_several_with_versions_grouped(page, test_images):
    steps.new_account_with_team(page, "picker")
    steps.submit_files(page, [test_images.photo, test_images.second])
    for name in ("harbour.jpg", "meadow.png"):
        steps.expect_done(steps.card(page, name, list_name="Sent from this page"))
    # A second version of the harbour.
    steps.card(page, "harbour.jpg").get_by_role("link", name="harbour.jpg").click()
    page.get_by_role("link", name="Run again").click()
    page.get_by_label("Enlarge").select_option(label="4x")
    page.get_by_role("button", name="Enhance").click()
    steps.expect_done(page.locator("#job-status"))

    page.goto("/gallery/")
    cards = page.get_by_role("list", name="Gallery").get_by_role("listitem")
    expect(cards).to_have_count(2)  # the harbour's two versions show once
    harbour = steps.card(page, "harbour.jpg", list_name="Gallery")
    expect(harbour.get_by_role("link", name="2 versions of this image")).to_be_visible()
    expect(harbour).to_contain_text("Enlarge 4x")  # the newest version

    page.get_by_role("checkbox", name="Select harbour.jpg").check()
    page.get_by_role("checkbox", name="Select meadow.png").check()
    expect(page.get_by_text("2 selected.")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download selected (ZIP)").click()
    with zipfile.ZipFile(download_info.value.path()) as archive:
        assert sorted(archive.namelist()) == ["harbour-4x.webp", "meadow-2x.webp"]

    page.get_by_role("checkbox", name="Select harbour.jpg").uncheck()
    page.get_by_role("button", name="Delete selected").click()
    expect(page.get_by_role("heading", name="Delete 1 enhancement?")).to_be_visible()
    page.get_by_role("button", name="Delete 1 enhancement").click()
    expect(page.get_by_text("1 enhancement was deleted, with their files.")).to_be_visible()
    expect(page.get_by_role("list", name="Gallery").get_by_role("listitem")).to_have_count(1)

    # A search shows every match, each version too; its count follows the cards.
    page.get_by_label("Search").fill("harbour")
    expect(page.get_by_role("list", name="Gallery").get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_role("status").filter(has_text="match")).to_have_text(
        "2 enhancements match the filters."
    )
