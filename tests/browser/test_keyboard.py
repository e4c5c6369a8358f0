"""Journey 7: journey 1 with the keyboard alone (Tab, Enter, Space, arrow keys and typing)."""

from __future__ import annotations

from PIL import Image
from playwright.sync_api import Locator, Page, expect

from tests.browser import steps


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the target has the focus, as a keyboard user would; each
    stop on the way must show where the focus is."""
    target.wait_for()
    handle = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focus = page.evaluate(
            """(target) => {
                const el = document.activeElement;
                if (!el || el === document.body) return { reached: false, visible: true };
                const style = getComputedStyle(el);
                const outlined = style.outlineStyle !== "none"
                    && parseFloat(style.outlineWidth) > 0;
                const visible = outlined || style.boxShadow !== "none";
                return { reached: el === target, visible,
                         what: el.outerHTML.slice(0, 120) };
            }""",
            handle,
        )
        assert focus["visible"], f"no visible focus indicator on {focus['what']}"
        if focus["reached"]:
            return
    raise AssertionError(f"Tab never reached {target}")


def type_into(page: Page, field: Locator, text: str) -> None:
    tab_to(page, field)
    page.keyboard.type(text)


def choose_with_arrows(page: Page, select: Locator, label: str) -> None:
    tab_to(page, select)
    for _ in range(10):
        if select.evaluate("(el) => el.options[el.selectedIndex].text") == label:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"{label} not reached with the arrow keys")


def test_journey_one_with_the_keyboard_alone(new_context, test_images):
    context, _ = new_context()
    page = context.new_page()
    page.goto("/")
    username = steps.unique("keys")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    type_into(page, page.get_by_label("Username"), username)
    type_into(page, page.get_by_label("Email"), f"{username}@example.com")
    type_into(page, page.get_by_label("Password", exact=True), steps.PASSWORD)
    type_into(page, page.get_by_label("Password confirmation"), steps.PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Create your team")).to_be_visible()
    type_into(page, page.get_by_label("Team name"), "Keyboard Club")
    tab_to(page, page.get_by_role("button", name="Create team"))
    page.keyboard.press("Space")
    expect(page.get_by_role("heading", name="Keyboard Club", level=1)).to_be_visible()

    nav = page.get_by_role("navigation", name="Main")
    tab_to(page, nav.get_by_role("link", name="New enhancement"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="New enhancement")).to_be_visible()
    steps.mark_page(page)
    # The file chooser is intercepted by a listener registered, and confirmed by a round trip,
    # before the key press: Playwright turns interception on without waiting for an answer, so
    # `expect_file_chooser` around a key press can lose the race on a busy machine.
    page.on("filechooser", lambda chooser: chooser.set_files(test_images.photo))
    page.evaluate("0")
    tab_to(page, page.get_by_label("Image file"))
    page.keyboard.press("Space")
    expect(page.get_by_text("240 x 160 becomes")).to_be_visible()
    choose_with_arrows(page, page.get_by_label("Enlarge"), "2x")
    choose_with_arrows(page, page.get_by_label("Detail"), "High")
    tab_to(page, page.get_by_role("button", name="Enhance"))
    page.keyboard.press("Enter")

    card = steps.card(page, "harbour.jpg", list_name="Sent from this page")
    expect(card.get_by_text("Checking", exact=True)).to_be_visible()  # by a worker, not the request
    steps.expect_done(card)
    steps.expect_not_reloaded(page)
    tab_to(page, card.get_by_role("link", name="harbour.jpg"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="harbour.jpg", level=1)).to_be_visible()

    slider = page.get_by_role("slider", name="Before / after")
    tab_to(page, slider)
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    expect(slider).to_have_value("45")
    expect(slider).to_have_attribute("aria-valuetext", "55% after")
    page.keyboard.press("ArrowRight")
    expect(slider).to_have_value("46")

    tab_to(page, page.get_by_role("link", name="Download", exact=True), backwards=True)
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    with Image.open(download_info.value.path()) as result:
        assert result.size == (480, 320)
