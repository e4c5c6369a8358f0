"""The audit log: who changed something that matters for a team's security, and when.

Entries are written by plain calls at the point of change (`AuditEvent.record`), never by
signals, so reading a view tells you what it logs. They are never edited: Django admin shows
them read-only, and team admins read their own team's on the Activity page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from enhancer.models.teams import Team


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        KEY_SET = "key_set", "API key set"
        KEY_REMOVED = "key_removed", "API key removed"
        WEBHOOK_SECRET_SET = "webhook_secret_set", "Webhook secret set"
        WEBHOOK_SECRET_REMOVED = "webhook_secret_removed", "Webhook secret removed"
        PROVIDER_CHANGED = "provider_changed", "Engine changed"
        QUOTA_CHANGED = "quota_changed", "Quota changed"
        ROLE_CHANGED = "role_changed", "Role changed"
        MEMBER_ADDED = "member_added", "Member added"
        MEMBER_REMOVED = "member_removed", "Member removed"
        MEMBER_LEFT = "member_left", "Member left"
        INVITATION_CREATED = "invitation_created", "Invitation created"
        INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
        SHARE_CREATED = "share_created", "Share link created"
        SHARE_REVOKED = "share_revoked", "Share link revoked"
        SHARE_APPROVED = "share_approved", "Approved by the client"
        SHARE_CHANGES_REQUESTED = "share_changes", "Changes requested by the client"
        SHARE_REOPENED = "share_reopened", "Approval reopened"
        JOB_CANCELED = "job_canceled", "Enhancement canceled"
        JOB_DELETED = "job_deleted", "Enhancement deleted"

    # SET_NULL, with names copied into the row: the record outlives the team and the people.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    team_name = models.CharField(max_length=80, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=30, choices=Action.choices, db_index=True)
    detail = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_name or 'someone'}"

    @classmethod
    def record(cls, team: Team | None, actor, action: str, detail: str = "") -> AuditEvent:
        return cls.objects.create(
            team=team,
            team_name=team.name if team else "",
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_name=actor.get_username() if actor is not None and actor.is_authenticated else "",
            action=action,
            detail=detail[:255],
        )
