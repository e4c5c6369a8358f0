"""The engine's own records: its API keys and the artworks it processes.

The engine is a separate service in all but process: it shares no tables with the product,
so a team's cloud and built-in jobs go through exactly the same client code.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.utils import timezone

from enhancer.crypto import EncryptedTextField

KEY_PREFIX = "dtl_"


def hash_key(raw_key: str) -> str:
    # Keys are 256 random bits, so a plain SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(raw_key.encode()).hexdigest()


class EngineKeyQuerySet(models.QuerySet["EngineKey"]):
    def authenticate(self, raw_key: str) -> EngineKey | None:
        if not raw_key:
            return None
        return self.filter(key_hash=hash_key(raw_key), is_active=True).first()


class EngineKey(models.Model):
    """A bearer key for the engine. Only its hash is stored: it is shown once, at creation."""

    label = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        max_length=12, editable=False, help_text="The last characters, to recognise a key."
    )
    is_active = models.BooleanField(default=True)
    max_in_flight = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Jobs this key may have waiting or running at once; empty = the site default.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = EngineKeyQuerySet.as_manager()

    class Meta:
        ordering = ["label"]
        verbose_name = "engine API key"

    def __str__(self) -> str:
        return f"{self.label} (…{self.hint})"

    def issue(self) -> str:
        """Give this (unsaved) key a fresh secret and return its plaintext, never stored."""
        raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
        self.key_hash = hash_key(raw_key)
        self.hint = raw_key[-4:]
        return raw_key

    @classmethod
    def generate(cls, label: str, **fields) -> tuple[EngineKey, str]:
        """Create a key and return it with its plaintext."""
        key = cls(label=label, **fields)
        raw_key = key.issue()
        key.save()
        return key, raw_key

    @property
    def in_flight_limit(self) -> int:
        return self.max_in_flight or settings.DETAILER_ENGINE_MAX_IN_FLIGHT


class Artwork(models.Model):
    class Status(models.TextChoices):
        STARTING = "starting"
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELED = "canceled"

    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.ForeignKey(EngineKey, on_delete=models.CASCADE, related_name="artworks")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.STARTING)
    # The request as the contract names it: imageUrl, scaleFactor, details, modification,
    # seed, webhook, outputFormat (only what was given, plus the defaults applied). The webhook
    # URL is a credential (its path carries the caller's token): here it is masked, and the
    # real one, which deliveries and their retries need, is kept encrypted in webhook_url.
    parameters = models.JSONField()
    webhook_url = EncryptedTextField(blank=True, editable=False)
    # Where this artwork's result URLs point: the engine's address as its caller reached it.
    public_base_url = models.URLField(max_length=300)
    input_file = models.CharField(max_length=200, blank=True)
    result_files = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, help_text="Why it failed, in plain words.")
    duration = models.FloatField(default=0, help_text="Seconds of processing.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    webhook_attempts = models.PositiveSmallIntegerField(default=0)
    webhook_delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["key", "status"]), models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    def advance(self, to: str, *, allowed_from: tuple[str, ...], **fields) -> bool:
        """Move to `to` only from one of `allowed_from`, in one conditional UPDATE.

        Returns whether this call made the change, so two workers can never both act on it.
        """
        changed = Artwork.objects.filter(pk=self.pk, status__in=allowed_from).update(
            status=to, **fields
        )
        if changed:
            self.status = to
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(changed)


def mask_url(url: str) -> str:
    """A webhook URL as it may be shown: its origin and the last 4 characters of the rest, like
    a key's hint. Enough to recognise it, useless to call."""
    parts = urlsplit(url)
    rest = (parts.path + ("?" + parts.query if parts.query else "")).rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/…{rest[-4:]}"
