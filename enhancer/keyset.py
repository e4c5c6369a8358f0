"""Keyset pagination for lists newest first: pages as fast at the millionth row as at the first.

An offset makes the database walk past every row before the page; a cursor (the created_at and
id of the last card shown) lets it start right there, through the (team, -created_at) index.
The price: no "page 7 of 40 000", only newer and older. Counting is bounded for the same
reason (`bounded_count`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
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

    def fetch(cursor: Cursor | None, *, newer: bool, limit: int) -> list:
        if cursor is None:
            return list(jobs.order_by("-created_at", "-pk")[:limit])
        if newer:
            after_cursor = Q(created_at__gt=cursor.created_at) | Q(
                created_at=cursor.created_at, pk__gt=cursor.pk
            )
            return list(jobs.filter(after_cursor).order_by("created_at", "pk")[:limit])
        before_cursor = Q(created_at__lt=cursor.created_at) | Q(
            created_at=cursor.created_at, pk__lt=cursor.pk
        )
        return list(jobs.filter(before_cursor).order_by("-created_at", "-pk")[:limit])

    return paginate(fetch, size, before=before, after=after)


def paginate(
    fetch: Callable[..., list], size: int, *, before: str | None, after: str | None
) -> Page:
    """The page logic over `fetch(cursor, newer=..., limit=...)`, which gives up to `limit`
    items older than `cursor` newest first (all, newest first, when it is None), or with
    newer=True, newer than it oldest first."""
    newer_than = Cursor.parse(after) if not before else None
    older_than = Cursor.parse(before)
    if newer_than is not None:
        rows = fetch(newer_than, newer=True, limit=size + 1)
        more_newer = len(rows) > size
        items = rows[:size][::-1]
        return Page(
            items,
            newer=Cursor.of(items[0]) if more_newer else None,
            older=Cursor.of(items[-1]) if items else None,
            is_first=not more_newer,
        )
    rows = fetch(older_than, newer=False, limit=size + 1)
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
