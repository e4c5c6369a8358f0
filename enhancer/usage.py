"""The numbers of the Usage page: jobs per month and per member, and a small bar chart.

Rows are grouped in Python rather than in SQL: months must follow the site's time zone on
SQLite and PostgreSQL alike, and the median has no portable SQL aggregate. A year of one
team's jobs is a few columns per job, which is cheap.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

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
    durations: list[float] = field(default_factory=list)

    def add(self, status: str, duration, width, height, result_width, result_height) -> None:
        self.jobs += 1
        self.pixels_in += width * height
        if status == Job.Status.SUCCEEDED:
            self.succeeded += 1
            self.pixels_out += (result_width or 0) * (result_height or 0)
            if duration is not None:
                self.durations.append(duration)
        elif status == Job.Status.FAILED:
            self.failed += 1

    @property
    def success_rate(self) -> float | None:
        """Of the jobs that ended done or failed; canceled and running ones are left out."""
        ended = self.succeeded + self.failed
        return 100 * self.succeeded / ended if ended else None

    @property
    def median_duration(self) -> float | None:
        return statistics.median(self.durations) if self.durations else None

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


COLUMNS = (
    "created_at",
    "created_by__username",
    "status",
    "duration",
    "original_width",
    "original_height",
    "result_width",
    "result_height",
)


def monthly(team: Team, now: datetime | None = None) -> list[Row]:
    starts = month_starts(MONTHS_SHOWN, now)
    rows = {f"{s:%Y-%m}": Row(label=f"{s:%b %Y}", key=f"{s:%Y-%m}") for s in starts}
    jobs = Job.objects.filter(
        team=team, created_at__gte=starts[0], created_at__lt=next_month_start(now)
    ).values_list(*COLUMNS)
    for created_at, _user, *values in jobs.iterator():
        key = f"{timezone.localtime(created_at):%Y-%m}"
        if key in rows:
            rows[key].add(*values)
    return list(rows.values())


def by_member(team: Team, start: datetime) -> list[Row]:
    rows: dict[str, Row] = defaultdict(lambda: Row(label=""))
    jobs = Job.objects.filter(
        team=team, created_at__gte=start, created_at__lt=next_month_start(start)
    ).values_list(*COLUMNS)
    for _created_at, username, *values in jobs.iterator():
        name = username or "A former member"
        rows[name].label = name
        rows[name].add(*values)
    return sorted(rows.values(), key=lambda row: (-row.jobs, row.label))


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
