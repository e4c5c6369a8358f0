"""Journey 5: the team switches to the cloud, pointed at a scripted cloud server on loopback.
A key the server refuses shows the key message on the card and marks the key invalid in the
settings; with a good key, a 429 followed by success ends Done."""

from __future__ import annotations

import io
import uuid

from PIL import Image
from playwright.sync_api import expect

from tests.browser import steps
from tests.browser.images import landscape

BAD_KEY = "tk_live_revoked_0000"
GOOD_KEY = "tk_live_working_4242"
CREATE = "/v2/artworks/detailer-upscaler"


def artwork(artwork_id: str, status: str, results: list[str] | None = None) -> dict:
    return {
        "id": artwork_id,
        "artworkType": "detailer_upscaler",
        "parameters": {"imageUrl": "x", "scaleFactor": 2, "details": 3, "modification": 2},
        "duration": 2.5 if status == "succeeded" else 0,
        "results": results or [],
        "status": status,
        "createdAt": "2026-11-24T10:00:00.000Z",
    }


def script_cloud(server) -> dict[str, int]:
    """The cloud: refuses BAD_KEY; for GOOD_KEY, first 429 (retry after 1 s), then accepts,
    and the artwork is done at once with a 480 x 320 result."""
    artwork_id = str(uuid.uuid4())
    result = io.BytesIO()
    landscape(480, 320, seed=7).save(result, "WEBP", quality=90)
    result_url = f"{server.url}/files/{artwork_id}.webp"
    calls = {"good": 0, "bad": 0}

    def create(request):
        if request.headers.get("Authorization") != f"Bearer {GOOD_KEY}":
            calls["bad"] += 1
            return (401, {"message": "Invalid API key", "statusCode": 401, "error": "Unauthorized"})
        calls["good"] += 1
        if calls["good"] == 1:
            return (
                429,
                {"message": "Too many requests", "statusCode": 429, "error": "Too Many Requests"},
                {"Retry-After": "1"},
            )
        return (202, artwork(artwork_id, "starting"))

    server.reset()
    server.script("POST", CREATE, create)
    done = artwork(artwork_id, "succeeded", [result_url])
    server.script("GET", f"/v2/artworks/{artwork_id}", (200, done))
    image = (200, result.getvalue(), {"Content-Type": "image/webp"})
    server.script("GET", f"/files/{artwork_id}.webp", image)
    return calls


def save_cloud_settings(page, key: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team settings").click()
    expect(page.get_by_role("heading", name="Team settings")).to_be_visible()
    page.get_by_role("radio", name="Tengr.ai cloud").check()
    page.get_by_label("API key for the Tengr.ai cloud").or_(
        page.get_by_label("Replace the API key")
    ).fill(key)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Saved:")).to_be_visible()


def test_the_cloud_with_a_refused_key_then_a_rate_limit(page, cloud_server, test_images):
    calls = script_cloud(cloud_server)
    steps.new_account_with_team(page, "cloudy")
    save_cloud_settings(page, BAD_KEY)
    expect(page.get_by_text(f"••••{BAD_KEY[-4:]}")).to_be_visible()

    steps.submit_files(page, [test_images.photo])
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    expect(card.get_by_text("Failed", exact=True)).to_be_visible(timeout=steps.JOB_TIMEOUT_MS)
    expect(card).to_contain_text(
        "The team's API key was refused. Ask a team admin to update it in Team settings."
    )
    assert calls["bad"] == 1

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team settings").click()
    key_section = page.get_by_role("region", name="Tengr.ai cloud")
    expect(key_section.get_by_text("Refused", exact=True)).to_be_visible()
    expect(key_section.get_by_role("alert")).to_contain_text("The cloud refused this key")
    # Where images are sent, the page warns before the next one fails too.
    steps.open_new_enhancement(page)
    warning = page.get_by_role("alert").filter(has_text="The team's API key was refused")
    expect(warning).to_be_visible()

    save_cloud_settings(page, GOOD_KEY)
    key_section = page.get_by_role("region", name="Tengr.ai cloud")
    expect(key_section.get_by_text("Refused", exact=True)).to_have_count(0)
    steps.submit_files(page, [test_images.photo])
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)
    expect(card).to_contain_text("480 x 320")
    assert calls["good"] == 2  # the 429, then the accepted retry
    card.get_by_role("link", name="harbour.jpg").click()
    # exact: the Provenance section names the cloud API too ("Tengr.ai cloud: Tengr.ai ... v2").
    expect(page.get_by_text("Tengr.ai cloud", exact=True)).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download", exact=True).click()
    with Image.open(download_info.value.path()) as result:
        assert result.size == (480, 320)
