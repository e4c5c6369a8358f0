"""The numbers of the Usage page: API jobs per month and per member, and a small bar chart.

Read from the ledger's monthly roll-up (`UsageMonth`): a dozen small rows whatever the team's
history, and deleting jobs changes nothing, as for the monthly limits. "Jobs" are API jobs, the
artworks the product asked an API for (a tile, a preview, a retry the API accepted), in the
month each was sent. Outcomes are counted once per job when it ends done or failed; the time
shown is the mean processing time of the results made (a roll-up of sums cannot keep a median).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import connections, router
from django.utils import timezone

from enhancer.models import Team, UsageMonth
from enhancer.quotas import month_start
from enhancer.rows import converted

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
    seconds: float = 0.0
    timed: int = 0

    @property
    def success_rate(self) -> float | None:
        """Of the jobs that ended done or failed; canceled and running ones are left out."""
        ended = self.succeeded + self.failed
        return 100 * self.succeeded / ended if ended else None

    @property
    def mean_duration(self) -> float | None:
        return self.seconds / self.timed if self.timed else None

    @property
    def megapixels_in(self) -> float:
        return self.pixels_in / 1_000_000

    @property
    def megapixels_out(self) -> float:
        return self.pixels_out / 1_000_000

    @property
    def cells(self) -> list[str]:
        """The table's numbers as text, formatted here rather than by template filters, which
        cost about a third of the page (partials/usage_cells.html)."""
        rate, mean = self.success_rate, self.mean_duration
        return [
            str(self.jobs),
            "—" if rate is None else f"{fixed(rate, 0)}%",
            "—" if mean is None else f"{fixed(mean, 1)} s",
            fixed(self.megapixels_in, 1),
            fixed(self.megapixels_out, 1),
        ]


def fixed(value: float, places: int) -> str:
    """As `floatformat:places` writes it in English: half up from the shortest decimal."""
    return str(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def month_starts(count: int, now: datetime | None = None) -> list[datetime]:
    """The first moments of the last `count` months, oldest first, this month last."""
    starts = [month_start(now)]
    for _ in range(count - 1):
        previous = starts[-1].replace(day=1) - timezone.timedelta(days=1)
        starts.append(month_start(previous))
    return starts[::-1]


NUMBERS = ("api_jobs", "succeeded", "failed", "pixels_in", "pixels_out", "seconds", "timed")


@dataclass(frozen=True)
class Counted:
    """A roll-up row as read: its month, member (name; None for a former member) and numbers."""

    month: date
    member_id: int | None
    username: str | None
    numbers: tuple


def read(team_id: int, first: date, last: date, also: date | None = None) -> list[Counted]:
    """The team's roll-up rows of the months from `first` to `last`, and of the month `also`:
    a few rows a month, read by one plain statement (as querysets grouped twice, building the
    queries cost the web process ten times running them)."""
    connection = connections[router.db_for_read(UsageMonth)]
    quote = connection.ops.quote_name
    user = get_user_model()
    fields = [UsageMonth._meta.get_field(name) for name in ("month", "member", *NUMBERS)]
    columns = ", ".join(f"r.{quote(field.column)}" for field in fields)
    name = quote(user._meta.get_field(user.USERNAME_FIELD).column)
    sql = (
        f"SELECT {columns}, u.{name} FROM {quote(UsageMonth._meta.db_table)} r"  # noqa: S608  (the models' own tables)
        f" LEFT JOIN {quote(user._meta.db_table)} u ON u.id = r.member_id"
        " WHERE r.team_id = %s AND ((r.month >= %s AND r.month <= %s) OR r.month = %s)"
    )
    dates = [connection.ops.adapt_datefield_value(day) for day in (first, last, also or last)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [team_id, *dates])
        rows = cursor.fetchall()
    read_rows = []
    for row in rows:
        month, member_id, *numbers = converted(connection, fields, row[:-1])
        read_rows.append(Counted(month, member_id, row[-1], tuple(numbers)))
    return read_rows


def add(row: Row, numbers: tuple) -> Row:
    for name, value in zip(ROW_NUMBERS, numbers, strict=True):
        setattr(row, name, getattr(row, name) + (value or 0))
    return row


# Row's names for the roll-up's NUMBERS, in order.
ROW_NUMBERS = ("jobs", "succeeded", "failed", "pixels_in", "pixels_out", "seconds", "timed")


def monthly(
    team: Team, now: datetime | None = None, counted: list[Counted] | None = None
) -> list[Row]:
    """The last twelve months, oldest first (from `counted`, or read)."""
    starts = month_starts(MONTHS_SHOWN, now)
    if counted is None:
        counted = read(team.pk, starts[0].date(), starts[-1].date())
    rows = {start.date(): Row(label=f"{start:%b %Y}", key=f"{start:%Y-%m}") for start in starts}
    for entry in counted:
        if entry.month in rows:
            add(rows[entry.month], entry.numbers)
    return list(rows.values())


def by_member(team: Team, start: datetime, counted: list[Counted] | None = None) -> list[Row]:
    """The month's numbers per member, most jobs first (from `counted`, or read)."""
    if counted is None:
        counted = read(team.pk, start.date(), start.date())
    rows: dict[str, Row] = {}
    # Grouped by the name shown: two former members are one "A former member".
    for entry in counted:
        if entry.month == start.date():
            label = entry.username or "A former member"
            add(rows.setdefault(label, Row(label=label)), entry.numbers)
    return sorted(rows.values(), key=lambda row: (-row.jobs, row.label))


def page_numbers(team: Team, month: datetime) -> tuple[list[Row], list[Row]]:
    """The Usage page's twelve months and the chosen month's members, from one statement."""
    starts = month_starts(MONTHS_SHOWN)
    counted = read(team.pk, starts[0].date(), starts[-1].date(), month.date())
    return monthly(team, counted=counted), by_member(team, month, counted=counted)


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
    """Bar geometry for jobs per month: done on the bottom, failed, then the rest on top. Every
    number is text already: the template only places it."""
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
                parts.append(
                    {"css": css, "y": str(round(base - height, 1)), "height": str(round(height, 1))}
                )
            base -= height
        jobs = f"{row.jobs} job{'' if row.jobs == 1 else 's'}"
        bars.append(
            {
                "x": str(round(x, 1)),
                "width": str(round(slot * 0.7, 1)),
                "label_x": str(round(x + slot * 0.35, 1)),
                "parts": parts,
                "row": row,
                "title": f"{row.label}: {jobs}, {row.succeeded} done, {row.failed} failed",
                "short_label": row.label[:3],
            }
        )
    ticks = [
        {"value": str(value), "y": str(round(HEIGHT - BOTTOM - plot * value / scale_max, 1))}
        for value in sorted({0, scale_max // 2, scale_max})
    ]
    return {
        "width": str(WIDTH),
        "height": str(HEIGHT),
        "left": str(LEFT),
        "tick_label_x": str(LEFT - 6),
        "label_y": str(HEIGHT - BOTTOM + 18),
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
