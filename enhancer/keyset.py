"""Keyset pagination for lists newest first: pages as fast at the millionth row as at the first.

An offset makes the database walk past every row before the page; a cursor (the created_at and
id of the last card shown) lets it start right there, through the (team, -created_at) index.
The price: no "page 7 of 40 000", only newer and older. Counting is bounded for the same
reason (`bounded_count`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q, QuerySet

COUNT_LIMIT = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    pk: uuid.UUID

    def __str__(self) -> str:
        micros = (self.created_at - EPOCH) // MICROSECOND  # exact, unlike a float timestamp
        return f"{micros}-{self.pk.hex}"

    @classmethod
    def of(cls, obj) -> Cursor:
        return cls(obj.created_at, obj.pk)

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        """A cursor from a link; anything malformed is no cursor (the newest page)."""
        micros, _, hex_id = (value or "").partition("-")
        try:
            when = EPOCH + int(micros) * MICROSECOND
            return cls(when, uuid.UUID(hex=hex_id))
        except (ValueError, OverflowError, OSError):
            return None


@dataclass
class Page:
    items: list
    newer: Cursor | None  # link to the page before (newer items), if any
    older: Cursor | None  # link to the page after (older items), if any
    is_first: bool


def page(jobs: QuerySet, size: int, *, before: str | None, after: str | None) -> Page:
    """One page of `jobs` (ordered -created_at, -pk): the newest, older than `before`, or newer
    than `after`. One query, `size + 1` rows at most."""
    newer_than = Cursor.parse(after) if not before else None
    older_than = Cursor.parse(before)
    if newer_than is not None:
        rows = list(
            jobs.filter(
                Q(created_at__gt=newer_than.created_at)
                | Q(created_at=newer_than.created_at, pk__gt=newer_than.pk)
            ).order_by("created_at", "pk")[: size + 1]
        )
        more_newer = len(rows) > size
        items = rows[:size][::-1]
        return Page(
            items,
            newer=Cursor.of(items[0]) if more_newer else None,
            older=Cursor.of(items[-1]) if items else None,
            is_first=not more_newer,
        )
    if older_than is not None:
        jobs = jobs.filter(
            Q(created_at__lt=older_than.created_at)
            | Q(created_at=older_than.created_at, pk__lt=older_than.pk)
        )
    rows = list(jobs.order_by("-created_at", "-pk")[: size + 1])
    items = rows[:size]
    return Page(
        items,
        newer=Cursor.of(items[0]) if older_than is not None and items else None,
        older=Cursor.of(items[-1]) if len(rows) > size else None,
        is_first=older_than is None,
    )


def bounded_count(jobs: QuerySet, limit: int = COUNT_LIMIT) -> tuple[int, bool]:
    """How many, counting no further than `limit`: (count, whether there are more)."""
    counted = jobs.order_by().values("pk")[: limit + 1].count()
    return min(counted, limit), counted > limit
