"""Try settings: a crop of an image rendered at all nine Detail x Change combinations."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from enhancer.models.jobs import Settings
from enhancer.models.teams import Team


class SettingsPreview(models.Model):
    """One "Try settings" grid. Not a Job: it is not counted against the team's limits and
    does not appear in the gallery; its files are small and swept with it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Rendering"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="previews")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider = models.CharField(max_length=10, choices=Team.Provider.choices)
    # The whole image (checked and cleaned as an upload is), so another crop needs no upload.
    source = models.FileField(upload_to="previews/", max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    scale = models.PositiveSmallIntegerField(choices=Settings.SCALE_CHOICES, default=2)
    seed = models.PositiveIntegerField()
    # The crop, in pixels of the source: left, top, side (a square).
    crop_left = models.PositiveIntegerField(default=0)
    crop_top = models.PositiveIntegerField(default=0)
    crop_side = models.PositiveIntegerField(default=0)
    crop_chosen = models.BooleanField(default=False, help_text="Picked by the person.")
    crop_file = models.FileField(upload_to="previews/", max_length=255, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # "details-change" -> storage name of that tile, e.g. {"1-3": "previews/<id>-1-3.webp"}.
    tiles = models.JSONField(default=dict, blank=True)
    # For the cloud: "details-change" -> the artwork id of each of the nine API jobs.
    upstream_ids = models.JSONField(default=dict, blank=True)
    error_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self) -> str:
        return f"Settings preview {self.id}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    def grid(self) -> list[dict]:
        """The nine cells in reading order: Detail down the rows, Change across."""
        cells = []
        for details, detail_word in Settings.DETAIL_CHOICES:
            for change, change_word in Settings.CHANGE_CHOICES:
                key = f"{details}-{change}"
                cells.append(
                    {
                        "key": key,
                        "details": details,
                        "change": change,
                        "label": f"Detail {detail_word} · Change {change_word}",
                        "ready": key in self.tiles,
                    }
                )
        return cells
