"""Invitations: single use, 7 days, revocable, through sign-up or login into the team."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from enhancer.models import AuditEvent, Invitation, Membership
from tests.conftest import PASSWORD, logged_in, make_user

pytestmark = pytest.mark.django_db


def invite(client, **data) -> str:
    """Create an invitation on the Team page; returns the link shown (path only)."""
    response = client.post(reverse("invitation_create"), {"role": "member", **data})
    assert response.status_code == 200
    found = re.search(r'value="http://[^/"]+(/invite/[^"]+/)"', response.content.decode())
    assert found, "the new link is shown"
    return found.group(1)


def test_an_admin_creates_a_link_that_is_stored_only_as_a_hash(owner_client, team):
    path = invite(owner_client)
    token = path.split("/")[2]
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert AuditEvent.objects.filter(action="invitation_created", team=team).exists()
    # The copy kept for the admin is encrypted at rest.
    stored = Invitation.objects.filter(pk=invitation.pk).values_list("token", flat=True)
    raw = connection_raw_token(invitation.pk)
    assert stored[0] == token and token not in raw
    # The team admin can copy the open invitation's link again; a member never sees it.
    assert path in owner_client.get(reverse("team_members")).content.decode()


def connection_raw_token(pk: int) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM enhancer_invitation WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_members_never_see_invitation_links(owner_client, teammate_client):
    path = invite(owner_client)
    assert path not in teammate_client.get(reverse("team_members")).content.decode()


def test_a_used_or_revoked_invitation_forgets_its_link(owner_client, team):
    path = invite(owner_client)
    invitation = Invitation.objects.get()
    owner_client.post(reverse("invitation_revoke", args=[invitation.pk]))
    assert connection_raw_token(invitation.pk) == ""
    assert path not in owner_client.get(reverse("team_members")).content.decode()


def test_without_email_set_up_nothing_is_said_to_be_sent(owner_client, team):
    """locmem (like the console backend of a fresh install) delivers to nobody."""
    response = owner_client.post(
        reverse("invitation_create"), {"role": "member", "email": "carol@example.com"}
    )
    html = response.content.decode()
    assert len(mail.outbox) == 0
    assert "No e-mail was sent" in html and "was e-mailed" not in html
    assert "/invite/" in html


def test_an_invitation_for_an_address_is_emailed(owner_client, team, settings):
    settings.EMAIL_BACKEND = "tests.mail.DeliveringBackend"
    path = invite(owner_client, email="Carol@Example.com")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["carol@example.com"]
    assert "Studio Alice" in message.subject + message.body
    assert path in message.body


def test_the_htmx_form_swaps_only_the_invitations_region(owner_client):
    response = owner_client.post(
        reverse("invitation_create"), {"role": "member"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="invitations"')
    assert "/invite/" in html and "<html" not in html


def test_a_logged_out_visitor_signs_up_and_joins(owner_client, client, team):
    path = invite(owner_client)

    page = client.get(path)
    assert page.status_code == 200
    assert page["X-Robots-Tag"].startswith("noindex")
    html = page.content.decode()
    assert "Join “Studio Alice”" in html
    signup = f"{reverse('signup')}?next={path}"
    assert f'href="{signup}"' in html

    response = client.post(
        signup,
        {
            "username": "carol",
            "email": "carol@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": path,
        },
    )
    assert response.url == path
    response = client.post(path)
    assert response.url == reverse("dashboard")
    carol = Membership.objects.get(user__username="carol")
    assert (carol.team, carol.role) == (team, "member")
    assert client.get(reverse("dashboard")).context["current_team"] == team
    assert AuditEvent.objects.get(action="member_added").actor_name == "carol"


def test_a_logged_out_visitor_logs_in_and_joins(owner_client, client, team):
    path = invite(owner_client, role="admin")
    make_user("dave")
    response = client.post(
        f"{reverse('login')}?next={path}",
        {"username": "dave", "password": PASSWORD, "next": path},
    )
    assert response.url == path
    client.post(path)
    assert Membership.objects.get(user__username="dave", team=team).role == "admin"


def test_an_invitation_is_single_use(owner_client, team):
    path = invite(owner_client)
    first, second = logged_in(make_user("carol")), logged_in(make_user("dave"))
    first.post(path)
    assert second.get(path).status_code == 404
    assert second.post(path).status_code == 404
    assert not Membership.objects.filter(user__username="dave").exists()


def test_an_invitation_expires_after_7_days(owner_client, team):
    path = invite(owner_client)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    carol = logged_in(make_user("carol"))
    assert carol.get(path).status_code == 404
    assert carol.post(path).status_code == 404
    assert not Membership.objects.filter(user__username="carol").exists()


def test_a_revoked_invitation_stops_working(owner_client, team):
    path = invite(owner_client)
    invitation = Invitation.objects.get()
    owner_client.post(reverse("invitation_revoke", args=[invitation.pk]))
    carol = logged_in(make_user("carol"))
    assert carol.get(path).status_code == 404
    assert carol.post(path).status_code == 404
    assert AuditEvent.objects.filter(action="invitation_revoked").exists()


def test_a_bad_token_is_a_plain_404(client, team):
    for token in ("nope", "x" * 43, "x" * 500):
        response = client.get(reverse("invitation_accept", args=[token]))
        assert response.status_code == 404
        assert "Studio Alice" not in response.content.decode()


def test_an_existing_member_opening_it_does_not_use_it_up(owner_client, teammate_client, team):
    path = invite(owner_client)
    assert "already in this team" in teammate_client.get(path).content.decode()
    teammate_client.post(path)
    assert Invitation.objects.pending().count() == 1


def test_only_admins_invite_and_revoke(owner_client, teammate_client):
    invite(owner_client)
    invitation = Invitation.objects.get()
    assert teammate_client.post(reverse("invitation_create"), {"role": "admin"}).status_code == 404
    assert (
        teammate_client.post(reverse("invitation_revoke", args=[invitation.pk])).status_code == 404
    )
    assert Invitation.objects.count() == 1 and Invitation.objects.pending().exists()


def test_it_checks_team_on_revoke(owner_client, outsider_client):
    invite(owner_client)
    invitation = Invitation.objects.get()
    response = outsider_client.post(reverse("invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 404
    assert Invitation.objects.pending().exists()


def test_joining_needs_post(owner_client, team):
    path = invite(owner_client)
    carol = logged_in(make_user("carol"))
    carol.get(path)  # opening the link (or a link preview fetching it) joins nobody
    assert not Membership.objects.filter(user__username="carol").exists()
