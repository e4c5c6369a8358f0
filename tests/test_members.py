"""Members and roles: admins change roles and remove people, members leave, one admin stays."""

from __future__ import annotations

import pytest
from django.urls import reverse

from enhancer.members import LastAdmin, change_role
from enhancer.models import AuditEvent, Membership
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db


def membership_of(user, team) -> Membership:
    return Membership.objects.get(user=user, team=team)


def test_an_admin_makes_a_member_admin_and_back(owner_client, team, teammate):
    bob = membership_of(teammate, team)

    owner_client.post(reverse("member_role", args=[bob.pk]), {"role": "admin"})
    bob.refresh_from_db()
    assert bob.role == "admin"

    owner_client.post(reverse("member_role", args=[bob.pk]), {"role": "member"})
    bob.refresh_from_db()
    assert bob.role == "member"
    details = list(
        AuditEvent.objects.filter(action="role_changed").values_list("detail", flat=True)
    )
    assert details == ["bob: Admin → Member", "bob: Member → Admin"]
    assert AuditEvent.objects.filter(action="role_changed", actor_name="alice").count() == 2


def test_a_member_cannot_change_roles_or_remove_anyone(teammate_client, team, admin_user_):
    alice = membership_of(admin_user_, team)
    assert (
        teammate_client.post(
            reverse("member_role", args=[alice.pk]), {"role": "member"}
        ).status_code
        == 404
    )
    assert teammate_client.post(reverse("member_remove", args=[alice.pk])).status_code == 404
    alice.refresh_from_db()
    assert alice.role == "admin"
    page = teammate_client.get(reverse("team_members")).content.decode()
    assert "Remove" not in page and "Invite colleagues" not in page


def test_it_checks_team_on_member_urls(outsider_client, team, teammate):
    bob = membership_of(teammate, team)
    for name in ("member_role", "member_remove"):
        response = outsider_client.post(reverse(name, args=[bob.pk]), {"role": "admin"})
        assert response.status_code == 404, name
    assert Membership.objects.filter(pk=bob.pk, role="member").exists()


def test_the_last_admin_cannot_be_demoted_or_removed(owner_client, team, admin_user_):
    alice = membership_of(admin_user_, team)
    response = owner_client.post(
        reverse("member_role", args=[alice.pk]), {"role": "member"}, follow=True
    )
    assert "always keeps at least one admin" in response.content.decode()
    owner_client.post(reverse("member_remove", args=[alice.pk]))
    alice.refresh_from_db()
    assert alice.role == "admin"


def test_with_two_admins_one_may_step_down(owner_client, team, admin_user_, teammate):
    Membership.objects.filter(user=teammate).update(role="admin")
    alice = membership_of(admin_user_, team)
    owner_client.post(reverse("member_role", args=[alice.pk]), {"role": "member"})
    alice.refresh_from_db()
    assert alice.role == "member"
    # And the other one is now the last.
    with pytest.raises(LastAdmin):
        change_role(membership_of(teammate, team), "member", teammate)


def test_an_admin_removes_a_member(owner_client, team, teammate):
    bob = membership_of(teammate, team)
    response = owner_client.post(reverse("member_remove", args=[bob.pk]), follow=True)
    assert "bob was removed" in response.content.decode()
    assert not Membership.objects.filter(pk=bob.pk).exists()
    assert AuditEvent.objects.get(action="member_removed").detail == "bob"
    # The removed member is now an outsider.
    bob_client = logged_in(teammate)
    assert bob_client.get(reverse("dashboard")).url == reverse("team_new")


def test_a_member_leaves(teammate_client, team, teammate):
    response = teammate_client.post(reverse("team_leave"), follow=True)
    assert "You left “Studio Alice”" in response.content.decode()
    assert not Membership.objects.filter(user=teammate, team=team).exists()
    event = AuditEvent.objects.get(action="member_left")
    assert (event.actor_name, event.detail) == ("bob", "bob")


def test_the_last_admin_cannot_leave(owner_client, team, admin_user_, teammate):
    response = owner_client.post(reverse("team_leave"), follow=True)
    assert "only admin" in response.content.decode()
    assert membership_of(admin_user_, team).is_admin


def test_leave_needs_post(teammate_client):
    assert teammate_client.get(reverse("team_leave")).status_code == 405


def test_admins_see_role_controls(owner_client, teammate):
    page = owner_client.get(reverse("team_members")).content.decode()
    assert 'name="role"' in page and "Remove<span" in page and "Invite colleagues" in page
