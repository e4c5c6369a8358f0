"""The numbers of the Usage page: jobs per month and per member, and a small bar chart.

Counted by the database, never by loading a team's year of jobs into Python (1.8 million rows at
5,000 jobs a day). Months follow the site's time zone: their boundaries are computed here and
each job falls into one by plain comparisons of `created_at` (a CASE), which both SQLite and
PostgreSQL evaluate alike. The median has no portable SQL aggregate: PostgreSQL has
PERCENTILE_CONT; elsewhere the database numbers each group's processing times with window
functions and returns only the middle one or two of each group.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from enhancer.models import Job, Team
from enhancer.quotas import month_start, next_month_start

MONTHS_SHOWN = 12


@dataclass
class Row:
    label: str
    key: str = ""
    jobs: int = 0
    succeeded: int = 0
    failed: int = 0
    pixels_in: int = 0
    pixels_out: int = 0
    median_duration: float | None = None

    @property
    def success_rate(self) -> float | None:
        """Of the jobs that ended done or failed; canceled and running ones are left out."""
        ended = self.succeeded + self.failed
        return 100 * self.succeeded / ended if ended else None

    @property
    def megapixels_in(self) -> float:
        return self.pixels_in / 1_000_000

    @property
    def megapixels_out(self) -> float:
        return self.pixels_out / 1_000_000


def month_starts(count: int, now: datetime | None = None) -> list[datetime]:
    """The first moments of the last `count` months, oldest first, this month last."""
    starts = [month_start(now)]
    for _ in range(count - 1):
        previous = starts[-1].replace(day=1) - timezone.timedelta(days=1)
        starts.append(month_start(previous))
    return starts[::-1]


SUCCEEDED = Q(status=Job.Status.SUCCEEDED)
TOTALS = {
    "jobs": Count("pk"),
    "succeeded": Count("pk", filter=SUCCEEDED),
    "failed": Count("pk", filter=Q(status=Job.Status.FAILED)),
    "pixels_in": Sum(F("original_width") * F("original_height")),
    "pixels_out": Sum(F("result_width") * F("result_height"), filter=SUCCEEDED),
}


class Median(Aggregate):
    """PostgreSQL's ordered-set aggregate: one sort per group, four times as fast as the
    window functions below on a million jobs."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def grouped(jobs: QuerySet, group: str) -> dict:
    """Totals and median processing time per value of the `group` annotation: one query on
    PostgreSQL, two elsewhere."""
    if connection.vendor == "postgresql":
        median = Median("duration", filter=SUCCEEDED)  # NULL durations are left out
        rows = jobs.values(group).annotate(**TOTALS, median_duration=median).order_by()
        return {row.pop(group): row for row in rows}
    totals = {row.pop(group): row for row in jobs.values(group).annotate(**TOTALS).order_by()}
    middles = (
        jobs.filter(SUCCEEDED, duration__isnull=False)
        .annotate(
            position=Window(RowNumber(), partition_by=[F(group)], order_by=F("duration").asc()),
            of=Window(Count("pk"), partition_by=[F(group)]),
        )
        # The middle one (odd count) or two (even count) of each group, numbered from 1.
        .filter(position__gte=(F("of") + 1) / 2, position__lte=(F("of") + 2) / 2)
        .values_list(group, "duration")
    )
    medians: dict = {}
    for key, duration in middles:
        medians.setdefault(key, []).append(duration)
    for key, values in medians.items():
        totals.setdefault(key, {})["median_duration"] = sum(values) / len(values)
    return totals


def fill(row: Row, numbers: dict | None) -> Row:
    for name, value in (numbers or {}).items():
        # A SUM over no rows is NULL; a missing median stays None ("—" on the page).
        setattr(row, name, value if name == "median_duration" else value or 0)
    return row


def monthly(team: Team, now: datetime | None = None) -> list[Row]:
    starts = month_starts(MONTHS_SHOWN, now)
    ends = [*starts[1:], next_month_start(now)]
    month = Case(
        *(When(created_at__lt=end, then=Value(index)) for index, end in enumerate(ends)),
        output_field=IntegerField(),
    )
    jobs = Job.objects.filter(team=team, created_at__gte=starts[0], created_at__lt=ends[-1])
    numbers = grouped(jobs.annotate(month=month), "month")
    return [
        fill(Row(label=f"{start:%b %Y}", key=f"{start:%Y-%m}"), numbers.get(index))
        for index, start in enumerate(starts)
    ]


def by_member(team: Team, start: datetime) -> list[Row]:
    jobs = Job.objects.filter(
        team=team, created_at__gte=start, created_at__lt=next_month_start(start)
    ).annotate(member=F("created_by__username"))
    rows = [
        fill(Row(label=username or "A former member"), numbers)
        for username, numbers in grouped(jobs, "member").items()
    ]
    return sorted(rows, key=lambda row: (-row.jobs, row.label))


def parse_month(value: str | None, now: datetime | None = None) -> datetime:
    """`YYYY-MM` to that month's start; anything else is this month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
    except ValueError:
        return month_start(now)
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return month_start(now)
    return month_start(timezone.localtime(now).replace(year=year, month=month, day=1))


# The chart's drawing area, in SVG user units (it scales with the page).
WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 720, 220, 16, 34, 36


def chart(rows: list[Row]) -> dict:
    """Bar geometry for jobs per month: done on the bottom, failed, then the rest on top."""
    peak = max((row.jobs for row in rows), default=0)
    scale_max = max(1, nice_ceiling(peak))
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(1, len(rows))
    bars = []
    for index, row in enumerate(rows):
        x = LEFT + index * slot + slot * 0.15
        base = HEIGHT - BOTTOM
        parts = []
        for css, count in (
            ("bar-ok", row.succeeded),
            ("bar-failed", row.failed),
            ("bar-other", row.jobs - row.succeeded - row.failed),
        ):
            height = plot * count / scale_max
            if count:
                parts.append({"css": css, "y": round(base - height, 1), "height": round(height, 1)})
            base -= height
        bars.append(
            {
                "x": round(x, 1),
                "width": round(slot * 0.7, 1),
                "label_x": round(x + slot * 0.35, 1),
                "parts": parts,
                "row": row,
            }
        )
    ticks = [
        {"value": value, "y": round(HEIGHT - BOTTOM - plot * value / scale_max, 1)}
        for value in sorted({0, scale_max // 2, scale_max})
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "label_y": HEIGHT - BOTTOM + 18,
        "bars": bars,
        "ticks": ticks,
    }


def nice_ceiling(value: int) -> int:
    """A round number at or above `value` for the axis: 1, 2, 5, 10, 20, 50..."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10
