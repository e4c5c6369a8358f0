"""Test the cloud connection tests the key typed beside it (not saved yet) against the cloud,
even while the team still uses the built-in engine, and says which service answered."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import steps

TYPED_KEY = "tk_live_typed_7777"


def test_the_cloud_button_tests_the_typed_cloud_key(page, cloud_server):
    seen: list[str] = []

    def artworks(request):
        seen.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") == f"Bearer {TYPED_KEY}":
            return (200, [])
        return (401, {"message": "Invalid API key", "statusCode": 401, "error": "Unauthorized"})

    cloud_server.reset()
    cloud_server.script("GET", "/v2/artworks", artworks)
    steps.new_account_with_team(page, "conn")
    page.goto("/team/settings/")
    # The team is on the built-in engine; the key is typed in the cloud section, not saved.
    expect(page.get_by_label("Built-in engine", exact=False)).to_be_checked()
    page.get_by_label("API key for the Tengr.ai cloud").fill(TYPED_KEY)
    page.get_by_role("button", name="Test the cloud connection").click()
    result = page.locator("#connection-result")
    expect(result).to_contain_text(f"It works: The Tengr.ai cloud at {cloud_server.url} answered")
    expect(result).to_contain_text("the key you typed (not saved yet)")
    expect(result).not_to_contain_text("built-in")
    assert seen == [f"Bearer {TYPED_KEY}"]

    # A wrong key is refused by the cloud, and nothing was saved meanwhile.
    page.get_by_label("API key for the Tengr.ai cloud").fill("tk_live_wrong_0000")
    page.get_by_role("button", name="Test the cloud connection").click()
    expect(result).to_contain_text("Key refused")
    page.reload()
    expect(page.get_by_text("Saved API key")).to_be_visible()
    expect(page.locator("dd").filter(has_text="None").first).to_be_visible()
