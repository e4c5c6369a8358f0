"""The ledger of API jobs: one row for every artwork the product asked an API to make.

A row is written where the job is submitted, once the API has accepted it (and may bill it),
and is never edited or deleted with the job: monthly limits and the Usage page count these
rows, so deleting or canceling jobs cannot give a month's allowance back. Both read them
through their monthly roll-up (`UsageMonth`), which grows in the same transaction as the ledger.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from enhancer.models.jobs import Job
from enhancer.models.teams import Team
from enhancer.models.usage import UsageMonth, month_of


class ApiJob(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_jobs")
    # SET_NULL: the row outlives the job (and the person) it was made for.
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    provider = models.CharField(max_length=10, choices=Team.Provider.choices)
    upstream_id = models.CharField(max_length=64)
    scale = models.PositiveSmallIntegerField()
    width = models.PositiveIntegerField(help_text="Of the image sent.")
    height = models.PositiveIntegerField(help_text="Of the image sent.")
    sent_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = "API job (ledger)"
        verbose_name_plural = "API jobs (ledger)"
        indexes = [
            models.Index(fields=["team", "sent_at"]),
            models.Index(fields=["team", "created_by", "sent_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "provider", "upstream_id"], name="one_row_per_artwork"
            )
        ]

    def __str__(self) -> str:
        return f"{self.upstream_id} ({self.provider}) at {self.sent_at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(cls, job: Job, upstream_id: str) -> None:
        """Write the row for `job`'s artwork once (a retry that finds the same artwork, or a
        task run twice, writes nothing more)."""
        fields = {
            "created_by_id": job.created_by_id,
            "scale": job.scale,
            "width": job.original_width,
            "height": job.original_height,
        }
        try:
            with transaction.atomic():
                row, created = cls.objects.get_or_create(
                    team_id=job.team_id,
                    provider=job.provider,
                    upstream_id=upstream_id,
                    defaults={**fields, "job_id": job.pk},
                )
                if created:
                    row.count_in_month()
        except IntegrityError:
            # The job was deleted in the moment since it was sent: the row stays, unlinked.
            with transaction.atomic():
                row, created = cls.objects.get_or_create(
                    team_id=job.team_id,
                    provider=job.provider,
                    upstream_id=upstream_id,
                    defaults=fields,
                )
                if created:
                    row.count_in_month()

    @classmethod
    def record_preview(cls, preview, upstream_id: str) -> None:
        """A cell of a Try settings grid sent to the cloud: a billed API job like any other."""
        with transaction.atomic():
            row, created = cls.objects.get_or_create(
                team_id=preview.team_id,
                provider=preview.provider,
                upstream_id=upstream_id,
                defaults={
                    "created_by_id": preview.created_by_id,
                    "scale": preview.scale,
                    "width": preview.crop_side,
                    "height": preview.crop_side,
                },
            )
            if created:
                row.count_in_month()

    def count_in_month(self) -> None:
        UsageMonth.add(
            team_id=self.team_id,
            month=month_of(self.sent_at),
            member_id=self.created_by_id,
            provider=self.provider,
            api_jobs=1,
            pixels_in=self.width * self.height,
        )

    @classmethod
    def record_outcome(cls, job_id) -> None:
        """The job ended done or failed: count it in the month of its latest ledger row (the
        API job that made, or failed to make, the result). A job never sent counts nowhere."""
        row = (
            cls.objects.filter(job_id=job_id)
            .order_by("-sent_at", "-pk")
            .values(
                "team_id",
                "sent_at",
                "created_by_id",
                "provider",
                "job__status",
                "job__result_width",
                "job__result_height",
                "job__duration",
            )
            .first()
        )
        if row is None:
            return
        if row["job__status"] == Job.Status.SUCCEEDED:
            counts = {
                "succeeded": 1,
                "pixels_out": (row["job__result_width"] or 0) * (row["job__result_height"] or 0),
                "seconds": row["job__duration"] or 0,
                "timed": int(row["job__duration"] is not None),
            }
        elif row["job__status"] == Job.Status.FAILED:
            counts = {"failed": 1}
        else:
            return
        with transaction.atomic():
            UsageMonth.add(
                team_id=row["team_id"],
                month=month_of(row["sent_at"]),
                member_id=row["created_by_id"],
                provider=row["provider"],
                **counts,
            )
