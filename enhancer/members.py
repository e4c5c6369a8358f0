"""Changing who is in a team and what they may do. A team always keeps at least one admin.

Each change locks the team's admin memberships first, so two admins demoting each other at
the same moment cannot leave the team with none. Every change is written to the audit log.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from enhancer.models import AuditEvent, Invitation, Membership, Team


class LastAdmin(Exception):
    message = "A team always keeps at least one admin. Make someone else an admin first."


def _lock_admins(team: Team) -> list[int]:
    return list(
        Membership.objects.select_for_update()
        .filter(team=team, role=Membership.Role.ADMIN)
        .values_list("pk", flat=True)
    )


def _is_last_admin(membership: Membership) -> bool:
    admins = _lock_admins(membership.team)
    return admins == [membership.pk]


def change_role(membership: Membership, role: str, actor: AbstractBaseUser) -> bool:
    """Returns whether the role changed. Raises LastAdmin for the team's only admin."""
    if role not in Membership.Role.values:
        raise ValueError(role)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("user", "team")
            .get(pk=membership.pk)
        )
        if membership.role == role:
            return False
        if membership.is_admin and _is_last_admin(membership):
            raise LastAdmin
        before = membership.get_role_display()
        membership.role = role
        membership.save(update_fields=["role"])
        AuditEvent.record(
            membership.team,
            actor,
            AuditEvent.Action.ROLE_CHANGED,
            f"{membership.user.get_username()}: {before} → {membership.get_role_display()}",
        )
    return True


def remove_member(membership: Membership, actor: AbstractBaseUser) -> None:
    """An admin removes someone, or (actor == the member) someone leaves."""
    leaving = membership.user_id == actor.pk
    with transaction.atomic():
        # Read again under the lock, as change_role does: a promotion a moment ago counts.
        membership = (
            Membership.objects.select_for_update()
            .select_related("user", "team")
            .get(pk=membership.pk)
        )
        if membership.is_admin and _is_last_admin(membership):
            raise LastAdmin
        membership.delete()
        AuditEvent.record(
            membership.team,
            actor,
            AuditEvent.Action.MEMBER_LEFT if leaving else AuditEvent.Action.MEMBER_REMOVED,
            membership.user.get_username(),
        )


def join(invitation: Invitation, user: AbstractBaseUser) -> Membership:
    """Accept an invitation (raises InvitationUnusable) and log the newcomer."""
    with transaction.atomic():
        membership = invitation.accept(user)
        who = f" (invited as {invitation.email})" if invitation.email else ""
        AuditEvent.record(
            invitation.team,
            user,
            AuditEvent.Action.MEMBER_ADDED,
            f"{user.get_username()} joined as {membership.get_role_display()}{who}",
        )
    return membership
