"""Teams and memberships: team membership is the one access rule of the product."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

from enhancer.crypto import EncryptedTextField

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class TeamQuerySet(models.QuerySet["Team"]):
    def for_user(self, user: AbstractBaseUser) -> TeamQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Team(models.Model):
    class Provider(models.TextChoices):
        BUILTIN = "builtin", "Built-in engine (this server)"
        CLOUD = "cloud", "Tengr.ai cloud"

    name = models.CharField(max_length=80)
    # New teams start on the built-in engine, so a fresh install works with no key.
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.BUILTIN)
    api_base_url = models.URLField(
        blank=True, help_text="Leave empty for the default cloud address (DETAILER_API_URL)."
    )
    api_key = EncryptedTextField(blank=True)
    api_key_hint = models.CharField(max_length=8, blank=True, editable=False)
    api_key_invalid_at = models.DateTimeField(
        null=True, blank=True, help_text="When the API last refused the key."
    )
    webhook_secret = EncryptedTextField(blank=True)
    # Monthly job quotas, set by team admins; empty means no limit (see enhancer/quotas.py).
    monthly_job_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Jobs the whole team may send per calendar month."
    )
    member_monthly_job_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Jobs each member may send per calendar month."
    )
    # Sign every result with Content Credentials (C2PA); a team may switch it off.
    content_credentials = models.BooleanField(
        default=True,
        help_text="Embed signed Content Credentials (C2PA) saying how each result was made.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def set_api_key(self, raw_key: str) -> None:
        self.api_key = raw_key
        self.api_key_hint = raw_key[-4:] if raw_key else ""
        self.api_key_invalid_at = None

    @property
    def uses_cloud(self) -> bool:
        return self.provider == self.Provider.CLOUD

    @property
    def api_key_masked(self) -> str:
        """How a saved key is shown: never the key, only its last 4 characters."""
        return f"••••{self.api_key_hint}" if self.api_key_hint else ""

    @property
    def key_needs_attention(self) -> bool:
        """Jobs sent now would fail for want of a working cloud key."""
        return self.uses_cloud and (not self.api_key or self.api_key_invalid_at is not None)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now, editable=False)
    # The team a person last switched to is where they land next time, on any device.
    last_selected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]
        ordering = ["team__name", "joined_at"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN
