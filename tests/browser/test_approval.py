"""Client approval: a member shares a result asking for approval; the client requests changes
with a comment; the member sees it on the dashboard and the job page, reopens it; the client
approves."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import steps


def test_a_client_requests_changes_then_approves(new_context, test_images, shoot, audit):
    context, _ = new_context()
    page = context.new_page()
    steps.new_account_with_team(page, "approver")
    steps.submit_files(page, [test_images.photo])
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)
    card.get_by_role("link", name="harbour.jpg").click()
    shares = page.get_by_role("region", name="Share outside the team")
    shares.get_by_label("Ask for approval").check()
    shares.get_by_role("button", name="Create share link").click()
    expect(shares.get_by_text("Asks for approval: no answer yet.")).to_be_visible()
    share_url = shares.get_by_label("Share link").first.input_value()

    client_context, _ = new_context()
    client = client_context.new_page()
    client.goto(share_url)
    approval = client.get_by_role("region", name="Your approval")
    approval.get_by_label("Comment (optional)").fill(
        "Brighter sky, please <script>alert(1)</script>"
    )
    approval.get_by_label("Your name (optional)").fill("Dana from Acme")
    shoot(client, "share-approval-light-desktop")
    assert audit(client, "share page asking for approval") == []
    approval.get_by_role("button", name="Request changes").click()
    expect(approval.get_by_role("status")).to_contain_text("Changes requested")
    expect(approval).to_contain_text("Brighter sky, please <script>alert(1)</script>")  # as text
    expect(approval.get_by_role("button", name="Approve")).to_have_count(0)  # answered once

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    answers = page.get_by_role("region", name="Answers from clients")
    expect(answers).to_contain_text("Changes requested")
    expect(answers).to_contain_text("Dana from Acme")
    expect(page.locator(".job-card").filter(has_text="harbour.jpg")).to_contain_text(
        "Changes requested"
    )
    answers.get_by_role("link", name="harbour.jpg").click()
    expect(page.locator("#job-status")).to_contain_text("Changes requested by Dana from Acme")
    page.get_by_role("button", name="Reopen for approval").click()
    expect(page.get_by_text("Approval reopened")).to_be_visible()

    client.reload()
    approval = client.get_by_role("region", name="Your approval")
    approval.get_by_role("button", name="Approve").click()
    expect(approval.get_by_role("status")).to_contain_text("Approved")
    page.reload()
    expect(page.locator("#job-status")).to_contain_text("Approved")
    assert audit(page, "job page with a client's verdict") == []
    # Dark mode too: the verdict and approval badges keep their contrast.
    dark_context, _ = new_context(dark=True)
    dark = dark_context.new_page()
    dark.goto(share_url)
    assert audit(dark, "answered share page (dark)") == []
