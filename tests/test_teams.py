from __future__ import annotations

import pytest
from django.urls import reverse

from enhancer.models import Membership, Team
from enhancer.teams import create_team
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db


def test_creating_a_team_makes_its_creator_admin(client, admin_user_):
    client = logged_in(admin_user_)

    response = client.post(reverse("team_new"), {"name": "  Photo desk "})

    assert response.status_code == 302
    team = Team.objects.get(name="Photo desk")
    assert Membership.objects.get(team=team, user=admin_user_).role == "admin"
    assert "Photo desk" in client.get(reverse("dashboard")).content.decode()


def test_team_name_is_required(owner_client):
    response = owner_client.post(reverse("team_new"), {"name": "   "})
    assert response.status_code == 200
    assert Team.objects.count() == 1


def test_switching_teams_is_remembered_across_sessions(admin_user_, team):
    other = create_team(admin_user_, "Second studio")
    client = logged_in(admin_user_)
    client.post(reverse("team_switch", args=[team.id]))
    assert client.get(reverse("dashboard")).context["current_team"] == team

    client.post(reverse("team_switch", args=[other.id]))
    assert client.get(reverse("dashboard")).context["current_team"] == other

    # A new session (another browser) lands in the team last switched to.
    fresh = logged_in(admin_user_)
    assert fresh.get(reverse("dashboard")).context["current_team"] == other


def test_team_list_shows_every_team_of_the_user(admin_user_, team):
    create_team(admin_user_, "Second studio")
    page = logged_in(admin_user_).get(reverse("team_list")).content.decode()
    assert "Studio Alice" in page and "Second studio" in page


def test_it_checks_team_on_switch(outsider_client, team):
    response = outsider_client.post(reverse("team_switch", args=[team.id]))
    assert response.status_code == 404
    assert outsider_client.get(reverse("dashboard")).context["current_team"] != team


def test_switch_needs_post(owner_client, team):
    assert owner_client.get(reverse("team_switch", args=[team.id])).status_code == 405


def test_members_page_lists_only_the_current_team(owner_client, teammate, outsider):
    page = owner_client.get(reverse("team_members")).content.decode()
    assert "bob" in page
    assert "mallory" not in page


def test_team_pages_need_login(client, team):
    for name in ("dashboard", "team_list", "team_new", "team_members"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
