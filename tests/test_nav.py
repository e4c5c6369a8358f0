"""The remembered navigation (enhancer/templatetags/nav.py) is always the one that would be
rendered now, and its log-out form carries each session's own CSRF token."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from enhancer.models import Membership, Team

pytestmark = pytest.mark.django_db


def nav_of(client) -> str:
    html = client.get(reverse("dashboard")).content.decode()
    return html[html.index('<nav class="nav"') : html.index("</nav>")]


def test_each_session_logs_out_with_its_own_token(admin_user_, team):
    sessions = []
    for _ in range(2):  # the same person in two browsers: one remembered navigation
        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user_, backend="enhancer.auth_backend.ModelBackend")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', nav_of(client))[1]
        sessions.append((client, token))
    assert sessions[0][1] != sessions[1][1]
    for client, token in sessions:
        response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})
        assert response.status_code == 302
    client, token = sessions[0]
    assert client.get(reverse("dashboard")).status_code == 302  # logged out


def test_the_navigation_follows_the_team_the_role_and_the_page(owner_client, teammate, team):
    nav = nav_of(owner_client)
    assert "Studio Alice" in nav and "Team settings" in nav and "alice" in nav
    Team.objects.filter(pk=team.pk).update(name="Studio Renamed")  # another host's doing
    assert "Studio Renamed" in nav_of(owner_client)

    bob = Client()
    bob.force_login(teammate, backend="enhancer.auth_backend.ModelBackend")
    assert "Team settings" not in nav_of(bob) and ">bob<" in nav_of(bob)
    Membership.objects.filter(user=teammate).update(role=Membership.Role.ADMIN)
    assert "Team settings" in nav_of(bob)

    gallery = owner_client.get(reverse("gallery")).content.decode()
    assert f'<a href="{reverse("gallery")}" aria-current="page">' in gallery
    assert (
        f'<a href="{reverse("dashboard")}" aria-current="page">'
        in owner_client.get(reverse("dashboard")).content.decode()
    )
