"""The monthly roll-up of the ledger: a team's API jobs per month, member and provider.

The Usage page and the monthly limits read these few rows instead of counting a year of jobs
(a million rows at 3,000 jobs a day). A row grows in the transaction that writes a ledger row
(`ApiJob.record`, `ApiJob.record_preview`), so it is exact, and when the job that ledger row was
made for ends done or failed (`Job.advance`), so the page can say how the work went. Nothing
here is ever decreased: like the ledger, deleting or canceling jobs gives nothing back.

A month is a calendar month in the site's time zone (TIME_ZONE), stored as its first day.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from enhancer.models.teams import Team


def month_of(moment: datetime) -> date:
    return timezone.localtime(moment).date().replace(day=1)


class UsageMonth(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="usage_months")
    month = models.DateField(help_text="The month's first day, in the site's time zone.")
    # SET_NULL: a former member's work still counts (shown as "A former member").
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    provider = models.CharField(max_length=10, choices=Team.Provider.choices)
    api_jobs = models.PositiveIntegerField(default=0, help_text="Ledger rows: artworks sent.")
    pixels_in = models.BigIntegerField(default=0, help_text="Of the images sent.")
    # Outcomes, counted once per job, on its latest ledger row (a retry's, if any).
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    pixels_out = models.BigIntegerField(default=0, help_text="Of the results made.")
    seconds = models.FloatField(default=0, help_text="Processing time of the results made.")
    timed = models.PositiveIntegerField(default=0, help_text="Results whose time is known.")

    class Meta:
        verbose_name = "usage month (ledger roll-up)"
        constraints = [
            models.UniqueConstraint(
                fields=["team", "month", "member", "provider"], name="one_usage_row_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team_id} {self.month:%Y-%m}: {self.api_jobs} API jobs"

    @classmethod
    def add(
        cls, *, team_id: int, month: date, member_id: int | None, provider: str, **counts: float
    ) -> None:
        """Add `counts` to the month's row, creating it if needed: one UPDATE when the row
        exists, which is every time but the month's first. Call inside a transaction."""
        rows = cls.objects.filter(
            team_id=team_id, month=month, member_id=member_id, provider=provider
        )
        if member_id is None:
            # NULLs are never equal to a unique constraint: two former members' rows of one
            # month may both exist. Add to one of them, or the count would double.
            first = rows.order_by("pk").values_list("pk", flat=True).first()
            rows = cls.objects.filter(pk=first)
        increments = {name: F(name) + value for name, value in counts.items()}
        if rows.update(**increments):
            return
        try:
            with transaction.atomic():
                cls.objects.create(
                    team_id=team_id, month=month, member_id=member_id, provider=provider, **counts
                )
        except IntegrityError:  # created by another request a moment ago
            rows.update(**increments)


def rebuild(api_job_model, usage_month_model, team_ids=None) -> int:
    """Fill the roll-up from the ledger, in the database: for the data migration (with its
    historical models) and the web benchmark's seed. Returns the rows written."""
    ledger = api_job_model.objects.all()
    months = usage_month_model.objects.all()
    if team_ids is not None:
        ledger, months = ledger.filter(team_id__in=team_ids), months.filter(team_id__in=team_ids)
    latest = (
        api_job_model.objects.filter(job_id=OuterRef("job_id"))
        .order_by("-sent_at", "-pk")
        .values("pk")[:1]
    )
    # As Job.advance counts them: once per job, on its latest ledger row.
    last = Q(job__isnull=False, pk=Subquery(latest))
    done = last & Q(job__status="succeeded")
    groups = (
        ledger.annotate(start=TruncMonth("sent_at", tzinfo=timezone.get_current_timezone()))
        .values("team_id", "start", "created_by_id", "provider")
        .annotate(
            api_jobs=Count("pk"),
            pixels_in=Sum(F("width") * F("height")),
            succeeded=Count("pk", filter=done),
            failed=Count("pk", filter=last & Q(job__status="failed")),
            pixels_out=Sum(F("job__result_width") * F("job__result_height"), filter=done),
            seconds=Sum("job__duration", filter=done),
            timed=Count("job__duration", filter=done),
        )
        .order_by()
    )
    rows = [
        usage_month_model(
            team_id=group["team_id"],
            month=timezone.localtime(group["start"]).date().replace(day=1),
            member_id=group["created_by_id"],
            provider=group["provider"],
            api_jobs=group["api_jobs"],
            pixels_in=group["pixels_in"] or 0,
            succeeded=group["succeeded"],
            failed=group["failed"],
            pixels_out=group["pixels_out"] or 0,
            seconds=group["seconds"] or 0,
            timed=group["timed"],
        )
        for group in groups
    ]
    with transaction.atomic():
        months.delete()
        usage_month_model.objects.bulk_create(rows, batch_size=500)
    return len(rows)
