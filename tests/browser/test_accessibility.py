"""Every main page, light and dark, desktop and phone: no serious or critical axe-core violation,
nothing wider than a phone screen, and (with SAVE_SCREENSHOTS=1) a screenshot for the README."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import steps
from tests.browser.conftest import Problems, horizontal_overflow


@dataclass(frozen=True)
class Showcase:
    """A team with finished work to look at, made through the pages once per session."""

    storage_state: Path
    job_path: str
    batch_path: str
    share_url: str
    invitation_url: str


@pytest.fixture(scope="session")
def showcase(browser, site, test_images, tmp_path_factory) -> Showcase:
    context = browser.new_context(base_url=site.url)
    context.set_default_timeout(15_000)
    problems = Problems()
    problems.attach(context)
    page = context.new_page()
    steps.sign_up(page, "maria")
    steps.create_team(page, "Harbour Design")

    steps.submit_files(page, [test_images.photo])
    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)

    page.get_by_label("Image file").set_input_files([test_images.second, test_images.too_large])
    page.get_by_role("button", name="Enhance").click()
    page.get_by_role("link", name="Open the batch page").click()
    batch_path = page.url.removeprefix(site.url)
    cards = page.get_by_role("list", name="Images in this batch").get_by_role("listitem")
    expect(cards).to_have_count(2)
    for index in range(2):
        steps.expect_done(cards.nth(index))

    page.goto("/dashboard/")
    steps.card(page, "harbour.jpg").get_by_role("link", name="harbour.jpg").click()
    expect(page.get_by_role("heading", name="harbour.jpg", level=1)).to_be_visible()
    job_path = page.url.removeprefix(site.url)
    page.get_by_role("button", name="Create share link").click()
    share_url = page.get_by_label("Share link").first.input_value()
    assert share_url.startswith(site.url + "/s/"), share_url
    invitation_url = steps.create_invitation(page)

    state = tmp_path_factory.mktemp("showcase") / "state.json"
    context.storage_state(path=str(state))
    context.close()
    problems.check()
    return Showcase(state, job_path, batch_path, share_url, invitation_url)


def is_dark(page) -> bool:
    """Whether the page's background is dark: the colour scheme really switched."""
    return page.evaluate(
        """() => {
            const [r, g, b] = getComputedStyle(document.body).backgroundColor
                .match(/\\d+/g).map(Number);
            return (0.2126 * r + 0.7152 * g + 0.0722 * b) < 100;
        }"""
    )


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_main_pages_are_accessible(new_context, showcase, audit, shoot, scheme, device):
    dark, phone = scheme == "dark", device == "phone"
    # Every page is checked and photographed even when an earlier one has a problem; the test
    # fails at the end with all of them.
    found: list[str] = []

    def check(page, name: str) -> None:
        shoot(page, f"{name}-{scheme}-{device}")
        assert is_dark(page) == dark, f"{name} is not in the {scheme} colour scheme"
        found.extend(audit(page, f"{name} ({scheme}, {device})"))
        if phone and (overflow := horizontal_overflow(page)):
            found.append(overflow)

    visitor_context, _ = new_context(dark=dark, phone=phone)
    visitor = visitor_context.new_page()
    visitor.goto("/accounts/signup/")
    expect(visitor.get_by_role("heading", name="Create your account")).to_be_visible()
    check(visitor, "signup")
    # A form with its errors shown.
    visitor.get_by_role("button", name="Sign up").click()
    expect(visitor.get_by_text("This field is required.").first).to_be_visible()
    found.extend(audit(visitor, f"signup with errors ({scheme}, {device})"))
    # A share link opens for anyone, logged out.
    visitor.goto(showcase.share_url)
    expect(visitor.get_by_role("heading", name="harbour.jpg")).to_be_visible()
    expect(visitor.get_by_role("slider", name="Before / after")).to_be_visible()
    check(visitor, "share")
    # So does an invitation, for someone who has no account yet.
    visitor.goto(showcase.invitation_url)
    expect(visitor.get_by_role("heading", name="Join “Harbour Design”")).to_be_visible()
    check(visitor, "invitation")

    context, problems = new_context(
        dark=dark, phone=phone, storage_state=str(showcase.storage_state)
    )
    page = context.new_page()
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Harbour Design")).to_be_visible()
    check(page, "dashboard")

    page.goto("/enhance/")
    expect(page.get_by_role("heading", name="New enhancement")).to_be_visible()
    # With Detail and Change explained: the examples open, their pictures loaded.
    page.get_by_text("What Detail and Change do, on an example").click()
    for picture in page.locator(".example img").all():
        picture.scroll_into_view_if_needed()
        expect(picture).to_have_js_property("complete", True)
    page.evaluate("() => window.scrollTo(0, 0)")
    check(page, "new-enhancement")
    page.get_by_role("button", name="Enhance").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose an image file or paste an image URL")
    found.extend(audit(page, f"new enhancement with an error ({scheme}, {device})"))

    page.goto(showcase.job_path)
    expect(page.get_by_role("slider", name="Before / after")).to_be_visible()
    check(page, "job")
    # Side by side at 200%: two panes showing the same part.
    page.get_by_role("button", name="Side by side").click()
    page.get_by_role("button", name="200%").click()
    expect(page.get_by_role("button", name="200%")).to_have_attribute("aria-pressed", "true")
    check(page, "job-side-by-side")

    page.goto(showcase.batch_path)
    expect(page.get_by_text("2 of 2 done")).to_be_visible()
    check(page, "batch")

    page.goto("/gallery/")
    expect(page.get_by_role("heading", name="Gallery")).to_be_visible()
    check(page, "gallery")

    page.goto("/usage/")
    expect(page.get_by_role("heading", name="Usage", level=1)).to_be_visible()
    check(page, "usage")

    page.goto("/team/members/")
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    check(page, "team")
    # A new invitation on this server without e-mail: the link to copy, "no e-mail was sent".
    invitations = page.get_by_role("region", name="Invite colleagues")
    invitations.get_by_label("Email address (optional)").fill("bob@example.com")
    invitations.get_by_role("button", name="Create invitation").click()
    expect(invitations.get_by_text("No e-mail was sent")).to_be_visible()
    check(page, "invitation-link")

    page.goto("/team/settings/")
    expect(page.get_by_role("heading", name="Team settings")).to_be_visible()
    check(page, "team-settings")

    page.goto("/team/activity/")
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    check(page, "team-activity")

    problems.expect_status(404, r"/no-such-page/$")
    page.goto("/no-such-page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    found.extend(audit(page, f"404 page ({scheme}, {device})"))
    assert not found, "\n\n".join(found)
