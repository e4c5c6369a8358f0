"""What a person does on the site, step by step, found by labels and roles as they see them."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

PASSWORD = "Tangerine-lantern-4096"
# Processing on two cores takes seconds, and pages poll every 2 s: wait generously for what the
# page shows (never for a fixed time).
JOB_TIMEOUT_MS = 90_000


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def sign_up(page: Page, username: str, *, path: str | None = "/", first: bool = False) -> None:
    """Create an account, from the home page (a visitor lands on the sign-up form), or from the
    page already open when path is None."""
    if path is not None:
        page.goto(path)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    if first:
        expect(page.get_by_text("the first account becomes the site administrator")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def create_team(page: Page, name: str) -> None:
    """Right after signing up, a person without a team is asked to create one."""
    expect(page.get_by_role("heading", name="Create your team")).to_be_visible()
    page.get_by_label("Team name").fill(name)
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def new_account_with_team(page: Page, prefix: str) -> tuple[str, str]:
    username, team = unique(prefix), f"Team {unique('')}"
    sign_up(page, username)
    create_team(page, team)
    return username, team


def open_new_enhancement(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New enhancement").click()
    expect(page.get_by_role("heading", name="New enhancement")).to_be_visible()


def choose_settings(page: Page, *, enlarge: str = "2x", detail: str = "High") -> None:
    page.get_by_label("Enlarge").select_option(label=enlarge)
    page.get_by_label("Detail").select_option(label=detail)


def sent_cards(page: Page) -> Locator:
    """The cards of the jobs sent from the New enhancement page."""
    return page.get_by_role("list", name="Sent from this page").get_by_role("listitem")


def card(page: Page, title: str, *, list_name: str | None = None) -> Locator:
    cards = (
        page.get_by_role("list", name=list_name).get_by_role("listitem")
        if list_name
        else page.get_by_role("listitem")
    )
    return cards.filter(has=page.get_by_role("link", name=title, exact=True))


def expect_done(card: Locator) -> None:
    expect(card.get_by_text("Done", exact=True)).to_be_visible(timeout=JOB_TIMEOUT_MS)


def submit_files(page: Page, files: list[Path], **settings: str) -> None:
    open_new_enhancement(page)
    page.get_by_label("Image file").set_input_files(files)
    choose_settings(page, **settings)
    page.get_by_role("button", name="Enhance").click()


def mark_page(page: Page) -> None:
    """Leave a mark on the page's window: it survives htmx swaps, not a reload."""
    page.evaluate("() => { window.__notReloaded = true; }")


def expect_not_reloaded(page: Page) -> None:
    assert page.evaluate("() => window.__notReloaded === true"), "the page was reloaded"


def create_invitation(page: Page) -> str:
    """As a team admin: an invitation link for a member, from the Team page."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team", exact=True).click()
    invitations = page.get_by_role("region", name="Invite colleagues")
    invitations.get_by_label("Role").select_option(label="Member")
    invitations.get_by_role("button", name="Create invitation").click()
    link = invitations.get_by_label("Invitation link")
    expect(link).to_have_value(re.compile(r"^http://.+/invite/"))
    return link.input_value()


def join_by_invitation(page: Page, link: str, username: str, team: str) -> None:
    """A newcomer opens an invitation link, signs up through it and joins the team."""
    page.goto(link)
    expect(page.get_by_role("heading", name=f"Join “{team}”")).to_be_visible()
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    # Back on the invitation, now logged in.
    page.get_by_role("button", name=f"Join {team}").click()
    expect(page.get_by_text(f"Welcome to “{team}”!")).to_be_visible()
    expect(page.get_by_role("heading", name=team, level=1)).to_be_visible()
