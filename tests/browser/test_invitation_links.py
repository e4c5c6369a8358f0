"""On a server without e-mail (the console backend of a fresh install) an invitation never
says "sent": it shows the link with a Copy button, and the admin can copy it again later."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import steps


def test_invitation_link_is_shown_to_copy_when_email_is_not_set_up(new_context, audit):
    context, _ = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    steps.new_account_with_team(page, "inviter")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team", exact=True).click()
    invitations = page.get_by_role("region", name="Invite colleagues")
    invitations.get_by_label("Email address (optional)").fill("bob@example.com")
    invitations.get_by_role("button", name="Create invitation").click()

    notice = invitations.get_by_role("status").filter(has_text="No e-mail was sent")
    expect(notice).to_contain_text("Copy this link and send it to bob@example.com yourself")
    expect(invitations).not_to_contain_text("was e-mailed")
    link = invitations.get_by_label("Invitation link").input_value()
    assert "/invite/" in link
    invitations.get_by_role("button", name="Copy", exact=True).click()
    expect(invitations.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == link

    # Later, the open invitation's link can be copied again from the list.
    page.reload()
    waiting = page.get_by_role("region", name="Invite colleagues").get_by_role("listitem")
    expect(waiting).to_have_count(1)
    expect(waiting.get_by_label("Link of the invitation for bob@example.com")).to_have_value(link)
    waiting.get_by_role("button", name="Copy link for bob@example.com").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    assert not audit(page, "team page with an open invitation")

    # Revoked, the link is gone from the page.
    waiting.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The invitation was revoked")).to_be_visible()
    expect(page.get_by_label("Link of the invitation for bob@example.com")).to_have_count(0)
