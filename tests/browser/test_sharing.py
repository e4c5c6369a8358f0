"""Journey 4: a team admin invites a colleague, who signs up through the link, finds the admin's
result in the gallery and shares it; a logged-out browser opens the link and downloads it."""

from __future__ import annotations

from PIL import Image
from playwright.sync_api import expect

from tests.browser import steps


def test_an_invited_colleague_shares_a_result_with_the_world(new_context, site, test_images):
    admin_context, _ = new_context()
    admin = admin_context.new_page()
    _, team = steps.new_account_with_team(admin, "lead")
    steps.submit_files(admin, [test_images.photo])
    steps.expect_done(steps.card(admin, "harbour.jpg", list_name="Sent from this page"))
    link = steps.create_invitation(admin)

    colleague_context, _ = new_context()
    colleague = colleague_context.new_page()
    colleague_name = steps.unique("colleague")
    steps.join_by_invitation(colleague, link, colleague_name, team)
    # The link worked once; it is no longer waiting on the admin's Team page.
    admin.reload()
    expect(admin.get_by_role("cell", name=colleague_name, exact=True)).to_be_visible()

    nav = colleague.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Gallery").click()
    expect(colleague.get_by_role("heading", name="Gallery")).to_be_visible()
    card = steps.card(colleague, "harbour.jpg", list_name="Gallery")
    expect(card).to_contain_text("Done")
    card.get_by_role("link", name="harbour.jpg").click()
    expect(colleague.get_by_role("heading", name="harbour.jpg", level=1)).to_be_visible()
    shares = colleague.get_by_role("region", name="Share outside the team")
    shares.get_by_label("Link expires").select_option(label="After 1 day")
    shares.get_by_role("button", name="Create share link").click()
    expect(shares.get_by_text("Share link created")).to_be_visible()
    share_url = shares.get_by_label("Share link").first.input_value()
    assert share_url.startswith(f"{site.url}/s/"), share_url

    stranger_context, _ = new_context()
    stranger = stranger_context.new_page()
    stranger.goto(share_url)
    expect(stranger.get_by_role("heading", name="harbour.jpg")).to_be_visible()
    # Nothing of the team shows: no navigation, no names.
    expect(stranger.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(stranger.get_by_text(team)).to_have_count(0)
    expect(stranger.get_by_text(colleague_name)).to_have_count(0)
    expect(stranger.get_by_role("slider", name="Before / after")).to_be_visible()
    with stranger.expect_download() as download_info:
        stranger.get_by_role("link", name="Download", exact=True).click()
    with Image.open(download_info.value.path()) as result:
        assert result.size == (480, 320)
