"""Monthly limits read the ledger of jobs sent: deleting a job gives nothing back, the
deletion and cancels are in the activity log, and a lowered limit is said plainly."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser import steps
from tests.browser.test_cloud import CREATE, artwork, save_cloud_settings


def set_limits(page, *, team: str = "", member: str = "") -> None:
    page.goto("/team/settings/")
    page.get_by_label("Jobs per month for the whole team").fill(team)
    page.get_by_label("Jobs per month for each member").fill(member)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Saved:")).to_be_visible()


def test_deleting_jobs_does_not_dodge_the_limit(page, test_images):
    steps.new_account_with_team(page, "limits")
    for image, name in ((test_images.photo, "harbour.jpg"), (test_images.second, "meadow.png")):
        steps.submit_files(page, [image])
        steps.expect_done(steps.card(page, name, list_name="Sent from this page"))
    set_limits(page, team="3")

    # Both jobs are deleted: the month's allowance stays used.
    for name in ("harbour.jpg", "meadow.png"):
        page.goto("/dashboard/")
        steps.card(page, name).get_by_role("link", name=name).click()
        page.get_by_role("link", name="Delete this enhancement").click()
        page.get_by_role("button", name="Delete", exact=True).click()
        expect(page.get_by_text(f"“{name}” and its files were deleted.")).to_be_visible()
    page.goto("/usage/")
    summary = page.get_by_role("region", name="This month's limits")
    expect(summary).to_contain_text("The team has sent 2 of 3 jobs.")

    page.goto("/team/activity/")
    expect(page.get_by_text("Enhancement deleted")).to_have_count(2)
    expect(page.get_by_text("“harbour.jpg”, sent by")).to_be_visible()

    # A limit lowered below what was sent is said in words that add up, never "2 of 1".
    set_limits(page, team="1")
    page.goto("/usage/")
    expect(summary).to_contain_text("The team has sent 2 jobs, more than its limit of 1")
    expect(summary).not_to_contain_text("2 of 1")
    steps.submit_files(page, [test_images.photo])
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your team has sent 2 jobs this month, more than its limit of 1")
    expect(alert).not_to_contain_text("2 of its 1")


def test_a_cancel_is_in_the_activity_log(page, cloud_server, test_images):
    """A job the (scripted) cloud keeps working on, so it is surely still running when
    canceled; the built-in engine would either finish first or be kept busy for later tests."""
    artwork_id = str(uuid.uuid4())
    cloud_server.reset()
    cloud_server.script("POST", CREATE, (202, artwork(artwork_id, "starting")))
    cloud_server.script(
        "GET", f"/v2/artworks/{artwork_id}", (200, artwork(artwork_id, "processing"))
    )
    steps.new_account_with_team(page, "cancels")
    save_cloud_settings(page, "tk_live_cancel_1234")
    steps.submit_files(page, [test_images.second])
    steps.card(page, "meadow.png").get_by_role("link", name="meadow.png").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("“meadow.png” was canceled.")).to_be_visible()
    page.goto("/team/activity/")
    expect(page.get_by_text("Enhancement canceled")).to_be_visible()
    expect(page.get_by_text("“meadow.png”, sent by")).to_be_visible()
