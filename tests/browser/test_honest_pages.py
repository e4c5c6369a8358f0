"""Pages that used to mislead: a withdrawn share link, a name this offline server cannot look
up, the SITE_URL hint, a refusal that cleared the chosen file, a weak password's error."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser import steps


def test_a_withdrawn_share_link_says_so(new_context, page, test_images):
    steps.new_account_with_team(page, "withdraw")
    steps.submit_files(page, [test_images.photo])
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)
    card.get_by_role("link", name="harbour.jpg").click()
    shares = page.get_by_role("region", name="Share outside the team")
    shares.get_by_role("button", name="Create share link").click()
    share_url = shares.get_by_label("Share link").first.input_value()
    shares.get_by_role("button", name=re.compile("Revoke")).first.click()
    expect(shares.get_by_label("Share link")).to_have_count(0)

    stranger_context, problems = new_context()
    problems.expect_status(410, r"/s/")
    stranger = stranger_context.new_page()
    stranger.goto(share_url)
    expect(stranger.get_by_role("heading", name="This link was withdrawn")).to_be_visible()
    expect(stranger.get_by_text("ask the person who sent you the link")).to_be_visible()
    expect(stranger.get_by_text("team you are not in")).to_have_count(0)
    expect(stranger.get_by_role("link", name="Go to your dashboard")).to_have_count(0)


def test_refusals_keep_the_file_and_blame_no_typing(page, test_images):
    steps.new_account_with_team(page, "refused")
    steps.open_new_enhancement(page)
    # A file and an address at once: refused, and the chosen file stays chosen.
    page.get_by_label("Image file").set_input_files([test_images.too_large])
    page.get_by_label("Image URL").fill("https://pictures.example.com/harbour.jpg")
    page.get_by_role("button", name="Enhance").click()
    expect(page.get_by_role("alert").first).to_contain_text("not both at once")
    files = page.get_by_label("Image file").evaluate(
        "(input) => [...input.files].map((f) => f.name)"
    )
    assert files == ["panorama.jpg"], files
    # Fixing the cause and pressing Enhance again sends it, without choosing the file again.
    page.get_by_label("Image URL").fill("")
    page.get_by_role("button", name="Enhance").click()
    expect(steps.sent_cards(page)).to_have_count(1)

    # A name this server cannot look up: no internet here, not a typing mistake. Image URLs
    # are fetched by a worker, never in the request: the card fails with the reason.
    page.get_by_label("Image URL").fill("http://pictures.nowhere.invalid/harbour.jpg")
    page.get_by_role("button", name="Enhance").click()
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    expect(card.get_by_text("Failed", exact=True)).to_be_visible()
    expect(card).to_contain_text("this server may have no internet access")
    expect(card).not_to_contain_text("typing")

    # The hint for team admins about the site's address is in their words.
    page.goto("/team/settings/")
    page.get_by_role("radio", name=re.compile("^Tengr.ai cloud")).check()
    note = page.get_by_role("note")
    expect(note).to_contain_text("Ask whoever runs this server to give it a public https address")
    expect(note).not_to_contain_text("set SITE_URL")


def test_a_weak_password_keeps_the_other_fields_and_says_where(new_context):
    context, _ = new_context()
    page = context.new_page()
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("weakling")
    page.get_by_label("Email").fill("weakling@example.com")
    page.get_by_label("Password", exact=True).fill("password")
    page.get_by_label("Password confirmation").fill("password")
    page.get_by_role("button", name="Sign up").click()
    first = page.locator(".field").filter(has=page.get_by_label("Password", exact=True))
    expect(first.locator(".error")).to_contain_text("This password is too common.")
    second = page.locator(".field").filter(has=page.get_by_label("Password confirmation"))
    expect(second.locator(".error")).to_have_count(0)
    expect(page.get_by_label("Username")).to_have_value("weakling")
    expect(page.get_by_label("Email")).to_have_value("weakling@example.com")
