"""Invitations: a single-use link, valid for 7 days, that lets one person join a team.

The token is looked up by its hash. A copy is also kept encrypted at rest (like API keys), so
a team admin can copy an open invitation's link again: on a server without e-mail, copying the
link is the only way it reaches anyone. The copy is dropped when the invitation is used or
revoked.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from enhancer.crypto import EncryptedTextField
from enhancer.models.teams import Membership, Team
from enhancer.tokens import hash_token, new_token

VALID_FOR = timedelta(days=7)


class InvitationUnusable(Exception):
    """The invitation was used, revoked or has expired in the meantime."""


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(blank=True, help_text="Where the link was sent, if anywhere.")
    role = models.CharField(
        max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token = EncryptedTextField(blank=True, editable=False, help_text="While open, encrypted.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation to {self.team} ({self.email or 'link'})"

    @classmethod
    def create(
        cls, *, team: Team, created_by, email: str = "", role: str = Membership.Role.MEMBER
    ) -> tuple[Invitation, str]:
        """A new invitation and its token (the only time the token exists in the clear)."""
        token, now = new_token(), timezone.now()
        invitation = cls.objects.create(
            team=team,
            email=email,
            role=role,
            token_hash=hash_token(token),
            token=token,
            created_by=created_by,
            created_at=now,
            expires_at=now + VALID_FOR,
        )
        return invitation, token

    @classmethod
    def find(cls, token: str) -> Invitation | None:
        """The pending invitation for a token, or None however it is unusable."""
        if not token or len(token) > 100:
            return None
        return (
            cls.objects.pending()
            .select_related("team")
            .filter(token_hash=hash_token(token))
            .first()
        )

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "Used"
        if self.revoked_at:
            return "Revoked"
        if self.expires_at <= timezone.now():
            return "Expired"
        return "Pending"

    def link(self) -> str:
        """The link to pass on, while the invitation is open (else "")."""
        from django.urls import reverse

        if not self.token or self.status != "Pending":
            return ""
        return settings.SITE_URL + reverse("invitation_accept", args=[self.token])

    def revoke(self) -> bool:
        return bool(
            Invitation.objects.pending()
            .filter(pk=self.pk)
            .update(revoked_at=timezone.now(), token="")
        )

    def accept(self, user) -> Membership:
        """Join the team, using the invitation up. Raises InvitationUnusable when someone else
        used it first, or it was revoked or expired meanwhile (one conditional UPDATE)."""
        with transaction.atomic():
            used = (
                Invitation.objects.pending()
                .filter(pk=self.pk)
                .update(accepted_at=timezone.now(), accepted_by=user, token="")
            )
            if not used:
                raise InvitationUnusable
            try:
                with transaction.atomic():
                    return Membership.objects.create(
                        team=self.team, user=user, role=self.role, last_selected_at=timezone.now()
                    )
            except IntegrityError as exc:  # already a member: keep the invitation for someone
                raise InvitationUnusable from exc
