"""Run again reuses the stored original: a new version linked to the earlier job, listed on the
job page; deleting one version keeps the original while another still uses it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser import steps


def test_run_again_makes_a_new_version_of_the_same_image(page, test_images):
    steps.new_account_with_team(page, "again")
    steps.submit_files(page, [test_images.photo], enlarge="2x", detail="High")
    steps.expect_done(steps.card(page, "harbour.jpg", list_name="Sent from this page"))
    steps.card(page, "harbour.jpg").get_by_role("link", name="harbour.jpg").click()
    first_url = page.url

    page.get_by_role("link", name="Run again").click()
    expect(page.get_by_role("heading", name="New enhancement")).to_be_visible()
    # The stored original is shown by name and picture; nothing needs choosing again.
    expect(page.get_by_text("Using the same image again: harbour.jpg, 240 x 160")).to_be_visible()
    thumb = page.locator(".again-thumb")
    expect(thumb).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", thumb.element_handle()) == 240
    expect(page.get_by_role("button", name="Choose another image instead")).to_be_visible()
    page.get_by_label("Detail").select_option(label="Low")
    page.get_by_role("button", name="Enhance").click()

    # The new job's page lists both versions, the earlier one as a link.
    expect(page.get_by_role("heading", name="harbour.jpg", level=1)).to_be_visible()
    assert page.url != first_url
    versions = page.get_by_role("list", name="Versions of this image").get_by_role("listitem")
    expect(versions).to_have_count(2)
    expect(versions.nth(0).get_by_role("link", name="harbour.jpg")).to_have_attribute(
        "href", re.compile(re.escape(first_url.split("/", 3)[3]))
    )
    expect(versions.nth(1)).to_contain_text("This version")
    expect(versions.nth(1)).to_contain_text("Detail: Low")
    steps.expect_done(page.locator("#job-status"))
    second_url = page.url

    # Deleting the first version keeps the original the second one uses.
    page.goto(first_url)
    page.get_by_role("link", name="Delete this enhancement").click()
    page.get_by_role("button", name=re.compile("Delete")).click()
    page.goto(second_url)
    expect(page.get_by_role("list", name="Versions of this image")).to_have_count(0)
    response = page.request.get(second_url + "original/?inline=1")
    assert response.status == 200 and response.body()[:2] == b"\xff\xd8"


def test_choosing_another_image_instead_uploads_that_one(page, test_images):
    steps.new_account_with_team(page, "again2")
    steps.submit_files(page, [test_images.photo])
    steps.card(page, "harbour.jpg").get_by_role("link", name="harbour.jpg").click()
    page.get_by_role("link", name="Run again").click()
    page.get_by_role("button", name="Choose another image instead").click()
    expect(page.get_by_text("Using the same image again")).to_have_count(0)
    expect(page.get_by_label("Image file")).to_be_focused()
    page.get_by_role("button", name="Enhance").click()
    # With the earlier image let go, the form asks for one, as for any new enhancement.
    expect(page.get_by_role("alert")).to_contain_text("Choose an image file or paste an image URL")
