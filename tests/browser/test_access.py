"""Journey 6: what people outside a team, or without its admin role, cannot reach."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import steps


def test_an_outsiders_direct_job_url_gives_the_404_page(new_context, test_images):
    owner_context, _ = new_context()
    owner = owner_context.new_page()
    steps.new_account_with_team(owner, "owner")
    steps.submit_files(owner, [test_images.photo])
    card = steps.card(owner, "harbour.jpg", list_name="Sent from this page")
    steps.expect_done(card)
    card.get_by_role("link", name="harbour.jpg").click()
    expect(owner.get_by_role("heading", name="harbour.jpg")).to_be_visible()

    outsider_context, problems = new_context()
    outsider = outsider_context.new_page()
    steps.new_account_with_team(outsider, "outsider")
    problems.expect_status(404, r"/jobs/[0-9a-f-]+/")
    response = outsider.goto(owner.url)
    assert response is not None and response.status == 404
    expect(outsider.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(outsider.get_by_text("it belongs to a team you are not in")).to_be_visible()
    expect(outsider.get_by_text("harbour.jpg")).to_have_count(0)
    # Nor can the files be fetched directly.
    for part in ("result/", "original/", "thumbnail/"):
        assert outsider.request.get(owner.url + part).status == 404


def test_a_member_cannot_reach_team_settings(new_context):
    admin_context, _ = new_context()
    admin = admin_context.new_page()
    _, team = steps.new_account_with_team(admin, "boss")
    nav = admin.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Team settings")).to_be_visible()
    link = steps.create_invitation(admin)

    member_context, problems = new_context()
    member = member_context.new_page()
    steps.join_by_invitation(member, link, steps.unique("member"), team)
    nav = member.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Team", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Team settings")).to_have_count(0)
    nav.get_by_role("link", name="Team", exact=True).click()
    expect(member.get_by_role("heading", name="Members")).to_be_visible()
    expect(member.get_by_role("link", name="Team settings")).to_have_count(0)
    expect(member.get_by_role("region", name="Invite colleagues")).to_have_count(0)

    # Typing the address does not help either.
    problems.expect_status(404, r"/team/settings/$")
    response = member.goto("/team/settings/")
    assert response is not None and response.status == 404
    expect(member.get_by_role("heading", name="Page not found")).to_be_visible()
