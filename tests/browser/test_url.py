"""Journey 3: an image submitted by its URL (served on loopback, let through by the SSRF guard's
test setting), and a URL the guard refuses, with the reason shown."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import steps


def test_submit_by_url_and_a_refused_url(page, image_server):
    steps.new_account_with_team(page, "linker")
    steps.open_new_enhancement(page)
    page.get_by_label("Image URL").fill(f"{image_server.url}/pictures/harbour.jpg")
    steps.choose_settings(page, enlarge="2x", detail="High")
    page.get_by_role("button", name="Enhance").click()
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)
    expect(card).to_contain_text("480 x 320")
    assert any(r.path == "/pictures/harbour.jpg" for r in image_server.requests)

    # An address on a private network is refused before anything is fetched.
    url_field = page.get_by_label("Image URL")
    url_field.fill("http://10.20.30.40/pictures/harbour.jpg")
    page.get_by_role("button", name="Enhance").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Detailer could not reach 10.20.30.40. Check the address"
    )
    # What was typed stays, to be corrected; nothing new was sent.
    expect(page.get_by_label("Image URL")).to_have_value("http://10.20.30.40/pictures/harbour.jpg")
    expect(steps.sent_cards(page)).to_have_count(1)
