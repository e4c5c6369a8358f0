"""The Team page: members and their roles, invitations, leaving; and accepting an invitation."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.mail import send_mail
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enhancer.members import LastAdmin, change_role, join, remove_member
from enhancer.models import AuditEvent, Invitation, InvitationUnusable, Membership
from enhancer.team_forms import InvitationForm, RoleForm
from enhancer.teams import (
    SESSION_KEY,
    current_membership,
    get_team_object,
    require_membership,
    switch_team,
)

logger = logging.getLogger(__name__)


def members_page(
    request: HttpRequest,
    membership: Membership,
    *,
    invite_form: InvitationForm | None = None,
    template: str = "teams/members.html",
    **extra,
) -> HttpResponse:
    team = membership.team
    context = {
        "members": team.memberships.select_related("user").order_by("role", "joined_at"),
        "is_admin": membership.is_admin,
        "me": membership,
        "roles": Membership.Role.choices,
    }
    if membership.is_admin:
        context.update(
            email_delivers=email_delivers(),
            invite_form=invite_form or InvitationForm(),
            invitations=team.invitations.pending().select_related("created_by"),
            **extra,
        )
    return render(request, template, context)


@login_required
@require_GET
def team_members(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return redirect("team_new")
    return members_page(request, membership)


def load_member(request: HttpRequest, membership_id: int) -> Membership:
    require_membership(request, admin=True)
    return get_team_object(
        request, Membership.objects.select_related("user", "team"), pk=membership_id
    )


@require_POST
@login_required
def member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    member = load_member(request, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose Admin or Member.")
        return redirect("team_members")
    try:
        if change_role(member, form.cleaned_data["role"], request.user):
            member.refresh_from_db()
            messages.success(
                request, f"{member.user.get_username()} is now {member.get_role_display()}."
            )
    except LastAdmin as exc:
        messages.error(request, exc.message)
    return redirect("team_members")


@require_POST
@login_required
def member_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    member = load_member(request, membership_id)
    try:
        remove_member(member, request.user)
    except LastAdmin as exc:
        messages.error(request, exc.message)
        return redirect("team_members")
    if member.user_id == request.user.pk:
        return left_team(request, member)
    messages.success(request, f"{member.user.get_username()} was removed from the team.")
    return redirect("team_members")


@require_POST
@login_required
def team_leave(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    try:
        remove_member(membership, request.user)
    except LastAdmin:
        messages.error(
            request,
            "You are the team's only admin, and a team always keeps one. "
            "Make someone else an admin first.",
        )
        return redirect("team_members")
    return left_team(request, membership)


def left_team(request: HttpRequest, membership: Membership) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    if hasattr(request, "_current_membership"):
        del request._current_membership
    messages.success(request, f"You left “{membership.team.name}”.")
    return redirect("dashboard")


# --- Invitations ------------------------------------------------------------------------------


@require_POST
@login_required
def invitation_create(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request, admin=True)
    template = "teams/members.html#invitations" if request.htmx else "teams/members.html"
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return members_page(request, membership, invite_form=form, template=template)
    email, role = form.cleaned_data["email"], form.cleaned_data["role"]
    invitation, _token = Invitation.create(
        team=membership.team, created_by=request.user, email=email, role=role
    )
    AuditEvent.record(
        membership.team,
        request.user,
        AuditEvent.Action.INVITATION_CREATED,
        f"{email or 'A link'} as {invitation.get_role_display()}",
    )
    link = invitation.link()
    # Only a configured mail server delivers: the console and in-memory backends of a fresh
    # install send nothing anyone reads, so the page must not say "sent".
    sent = send_invitation(request, invitation, link) if email and email_delivers() else None
    # Rendered, not redirected: the link exists only now, and must not travel in a cookie.
    return members_page(
        request, membership, template=template, new_link=link, new_invitation=invitation, sent=sent
    )


# Backends that deliver to nobody: what a fresh install (EMAIL_URL=console://) and tests use.
UNDELIVERED_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


def email_delivers() -> bool:
    """Whether this site sends real e-mail (EMAIL_URL set to an SMTP server)."""
    return settings.EMAIL_BACKEND not in UNDELIVERED_BACKENDS


def send_invitation(request: HttpRequest, invitation: Invitation, link: str) -> bool:
    inviter = request.user.get_username()
    body = (
        f"{inviter} invites you to join the team “{invitation.team.name}” on Detailer, where "
        "the team sharpens and enlarges images together.\n\n"
        f"Open this link within 7 days to join:\n{link}\n\n"
        "The link works once. If you did not expect this, you can ignore this email."
    )
    try:
        send_mail(
            f"{inviter} invites you to {invitation.team.name} on Detailer",
            body,
            None,  # DEFAULT_FROM_EMAIL
            [invitation.email],
        )
    except (smtplib.SMTPException, OSError):
        logger.exception("Sending the invitation %s failed", invitation.pk)
        return False
    return True


@require_POST
@login_required
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    membership = require_membership(request, admin=True)
    invitation = get_team_object(request, Invitation.objects.all(), pk=invitation_id)
    revoked = invitation.revoke()
    if revoked:
        AuditEvent.record(
            membership.team,
            request.user,
            AuditEvent.Action.INVITATION_REVOKED,
            invitation.email or "A link",
        )
    if request.htmx:
        return members_page(
            request, membership, template="teams/members.html#invitations", revoked=revoked
        )
    if revoked:
        messages.success(request, "The invitation was revoked; its link no longer works.")
    return redirect("team_members")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Open to anyone holding the link; logged-out visitors sign up or log in, then join."""
    invitation = Invitation.find(token)
    if invitation is None:
        raise Http404("No such invitation")
    team = invitation.team
    already = (
        request.user.is_authenticated
        and Membership.objects.filter(team=team, user=request.user).exists()
    )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        if not already:
            try:
                join(invitation, request.user)
            except InvitationUnusable as exc:
                raise Http404("No such invitation") from exc
            messages.success(request, f"Welcome to “{team.name}”!")
        switch_team(request, team.id)
        return redirect("dashboard")
    response = render(
        request,
        "teams/invitation.html",
        {"invitation": invitation, "team": team, "already": already, "next": request.path},
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
