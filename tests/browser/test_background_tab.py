"""A job that finishes while its tab is in the background shows in the tab's title, and the
browser's notification says so when the person allowed it; a batch says its time left."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser import steps

# Headless Chromium's Notification does nothing visible: record what the page shows instead.
RECORD_NOTIFICATIONS = """
    window.__notifications = [];
    const Real = window.Notification;
    class Recorded extends Real {
        constructor(title, options) {
            super(title, options);
            window.__notifications.push({ title, body: (options || {}).body || "" });
        }
    }
    window.Notification = Recorded;
"""

# Headless, the tab never goes to the background by itself: switch what the page reads.
SET_VISIBILITY = """(hidden) => {
    const state = hidden ? "hidden" : "visible";
    Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_job_done_in_a_background_tab_shows_in_the_title_and_a_notification(
    new_context, test_images
):
    context, _ = new_context(permissions=["notifications"])
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    steps.new_account_with_team(page, "away")
    steps.open_new_enhancement(page)
    expect(page.get_by_text("You will be notified when jobs finish")).to_be_visible()
    page.get_by_label("Image file").set_input_files([test_images.photo, test_images.second])
    page.get_by_role("button", name="Enhance").click()
    expect(steps.sent_cards(page)).to_have_count(2)
    page.evaluate(SET_VISIBILITY, True)  # the person switches to another tab

    expect(page).to_have_title("✓ 2 done · Detailer", timeout=steps.JOB_TIMEOUT_MS)
    notes = page.evaluate("() => window.__notifications")
    assert notes, "no notification"
    bodies = " ".join(note["body"] for note in notes)
    assert "harbour.jpg" in bodies and "meadow.png" in bodies, notes

    page.evaluate(SET_VISIBILITY, False)  # back to the tab: the title is the page's own again
    expect(page).to_have_title("New enhancement · Detailer")


def test_the_notify_button_asks_for_permission(new_context):
    context, _ = new_context()
    page = context.new_page()
    steps.new_account_with_team(page, "asker")
    page.goto("/dashboard/")
    button = page.get_by_role("button", name="Notify me when jobs finish")
    expect(button).to_be_visible()
    context.grant_permissions(["notifications"])
    button.click()
    expect(page.get_by_text(re.compile("You will be notified"))).to_be_visible()


def test_the_job_page_says_its_job_finished_while_away(new_context, cloud_server, test_images):
    """The job page reloads itself when the job ends: the title still says so afterwards."""
    import io
    import uuid

    from tests.browser.images import landscape
    from tests.browser.test_cloud import CREATE, artwork, save_cloud_settings

    artwork_id, state = str(uuid.uuid4()), {"done": False}
    result = io.BytesIO()
    landscape(400, 300, seed=5).save(result, "WEBP", quality=90)
    result_url = f"{cloud_server.url}/files/{artwork_id}.webp"
    cloud_server.reset()
    cloud_server.script("POST", CREATE, (202, artwork(artwork_id, "starting")))
    cloud_server.script(
        "GET",
        f"/v2/artworks/{artwork_id}",
        lambda request: (
            200,
            artwork(artwork_id, "succeeded", [result_url])
            if state["done"]
            else artwork(artwork_id, "processing"),
        ),
    )
    cloud_server.script(
        "GET", f"/files/{artwork_id}.webp", (200, result.getvalue(), {"Content-Type": "image/webp"})
    )
    context, _ = new_context(permissions=["notifications"])
    # Hidden from the start, and after the page's own reload too (an init script runs on every
    # page the context opens).
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    steps.new_account_with_team(page, "awayjob")
    save_cloud_settings(page, "tk_live_away_5678")
    steps.submit_files(page, [test_images.second])
    steps.card(page, "meadow.png").get_by_role("link", name="meadow.png").click()
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    context.add_init_script(
        """Object.defineProperty(document, "hidden", { configurable: true, get: () => true });"""
    )
    page.evaluate(SET_VISIBILITY, True)
    state["done"] = True
    expect(page).to_have_title("✓ 1 done · Detailer", timeout=steps.JOB_TIMEOUT_MS)
    expect(page.get_by_role("slider", name="Before / after")).to_be_visible()
    notes = page.evaluate("() => window.__notifications")
    assert notes and notes[0]["body"] == "meadow.png", notes
