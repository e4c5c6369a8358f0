"""Job cards, rendered once per look: the dashboard and the gallery show 24 at a time.

Rendering a card through the template engine cost about half a millisecond, most of a page's
time. A finished card is remembered, in this process, under everything it shows (status,
title, settings, sizes, messages, sender, and its "3 days ago" as text), so a remembered card is
by construction the card that would be rendered now: nothing ever has to be invalidated, and
another web host's memory cannot be wrong either. A running job's card shows its elapsed
seconds, so those are in its key too: remembered for the second they are right, which on a
busy page is many requests. Membership and permissions are never remembered: the views check
them first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.db import connections, router
from django.template.defaultfilters import floatformat
from django.template.loader import get_template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from enhancer.fragments import Remembered
from enhancer.models import Job
from enhancer.models.jobs import CARD_FIELDS, CHECK_WAIT
from enhancer.prepared import prepared_cursor
from enhancer.rows import converted

TEMPLATE = "partials/job_card.html"
# About 1.5 KB each: a few megabytes per process at most.
REMEMBERED = 3000

_cards = Remembered(REMEMBERED)


def card_key(job: Job, oob: bool) -> tuple:
    """Every value the card shows, or that decides what it shows."""
    return (
        job.pk,
        oob,
        job.status,
        job.title,
        job.original_name,
        job.scale,
        job.details,
        job.modification,
        job.made_for,
        job.result_width,
        job.result_height,
        job.retry_note,
        job.error_message,
        bool(job.original or job.thumbnail),
        job.fit_message,
        tuple(job.check_warnings or ()),
        job.approval,
        getattr(job, "versions_count", None),  # annotated in the gallery
        job.created_by.get_username() if job.created_by_id else None,
        naturaltime(job.created_at),
        # As the card shows it ("for 12 s"); nothing for a finished job.
        floatformat(job.elapsed_seconds, 0) if job.is_pending else None,
    )


def render_card(job: Job, *, oob: bool = False) -> SafeString:
    key = card_key(job, oob)
    # The elapsed seconds of the key, not read again: a second may have passed since.
    context = {"job": job, "oob": oob, "elapsed": key[-1]}
    return _cards.get(key, lambda: get_template(TEMPLATE).render(context))


# The cards of each page in use, about 40 KB each: a few megabytes per process at most.
_lists = Remembered(200)


@dataclass(frozen=True)
class CardList:
    """A list of rendered cards and what the page needs to know of them."""

    html: SafeString
    count: int
    poll: bool  # a card is still pending or waiting for its result check

    def __bool__(self) -> bool:
        return bool(self.count)


@cache
def card_fields() -> tuple:
    """The card's fields in the model's order (which Model.from_db expects)."""
    return tuple(field for field in Job._meta.concrete_fields if field.attname in CARD_FIELDS)


def card_columns(quote: Callable[[str], str], job: str = "j", user: str = "u") -> str:
    """The SELECT list of a CardRow: the card's columns, then its creator's name (LEFT JOIN
    the user table as `user`)."""
    model = get_user_model()
    name = model._meta.get_field(model.USERNAME_FIELD).column
    return ", ".join(
        [f"{job}.{quote(field.column)}" for field in card_fields()] + [f"{user}.{quote(name)}"]
    )


class CardRow:
    """A job's card as read by plain SQL: the card's columns as the database gave them, its
    creator's name and, in the gallery, its number of versions. Only the values that decide
    how the card ages are converted; the whole job is made only to render a new card."""

    __slots__ = (
        "alias",
        "checked_at",
        "created_at",
        "finished_at",
        "hashable",
        "pk",
        "raw",
        "status",
    )
    TIMES = ("id", "created_at", "finished_at", "checked_at")

    def __init__(self, connection, raw: tuple) -> None:
        fields = card_fields()
        positions = _positions()
        self.raw, self.alias = raw, connection.alias
        self.pk, self.created_at, self.finished_at, self.checked_at = converted(
            connection, [fields[i] for i in positions], [raw[i] for i in positions]
        )
        self.status = raw[fields.index(Job._meta.get_field("status"))]
        # The row as a key. Only the JSON columns can hold something unhashable (a driver
        # that decodes them into a list), so only they are looked at: testing all 25 values
        # of each card against Hashable cost a tenth of the gallery's Python time.
        values = list(raw)
        for position in _json_positions():
            if isinstance(values[position], (list, dict)):
                values[position] = repr(values[position])
        self.hashable = tuple(values)

    def key(self, now: datetime) -> tuple:
        pending = self.status in Job.PENDING_STATUSES
        return (
            self.hashable,
            age_key(self.created_at, now),
            # The running card's "for 12 s"; a finished job's result check waits a while.
            round((now - self.created_at).total_seconds()) if pending else None,
            self.status == Job.Status.SUCCEEDED
            and self.checked_at is None
            and self.finished_at is not None
            and now - self.finished_at < CHECK_WAIT,
        )

    def job(self) -> Job:
        """The job as for_cards() loads it (the other fields deferred)."""
        fields = card_fields()
        connection = connections[self.alias]
        values = converted(connection, fields, self.raw[: len(fields)])
        job = Job.from_db(self.alias, [field.attname for field in fields], values)
        if job.created_by_id is not None:
            user = get_user_model()
            names = ["id", user.USERNAME_FIELD]
            job.created_by = user.from_db(
                self.alias, names, [job.created_by_id, self.raw[len(fields)]]
            )
        if len(self.raw) > len(fields) + 1:
            job.versions_count = self.raw[len(fields) + 1]
        return job


@cache
def _json_positions() -> tuple[int, ...]:
    return tuple(
        position
        for position, field in enumerate(card_fields())
        if field.get_internal_type() == "JSONField"
    )


@cache
def _positions() -> list[int]:
    fields = card_fields()
    return [fields.index(Job._meta.get_field(name)) for name in CardRow.TIMES]


def cards_of(rows: list[CardRow]) -> CardList:
    """The rows' cards, remembered under everything they show.

    The key is every column the cards show, as read, with the times the cards' words depend
    on. So a remembered list is by construction the list that would be rendered now (an
    added, deleted or changed job, or a renamed member, makes a new key), and another web
    host's memory cannot be wrong either. On a new key the cards are made from the very rows
    read: no second query."""
    now = timezone.now()
    key = tuple(row.key(now) for row in rows)
    return _lists.get_value(key, lambda: _card_list([row.job() for row in rows]))


def newest_cards(team_id: int, size: int) -> CardList:
    """The team's newest `size` cards: the dashboard's."""
    connection = connections[router.db_for_read(Job)]
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {card_columns(quote)} FROM {quote(Job._meta.db_table)} j"  # noqa: S608  (the models' own tables and columns)
        f" LEFT JOIN {quote(get_user_model()._meta.db_table)} u ON u.id = j.created_by_id"
        " WHERE j.team_id = %s AND j.parent_id IS NULL"
        f" ORDER BY j.created_at DESC, j.id DESC LIMIT {int(size)}"
    )
    # Kept prepared on PostgreSQL (enhancer/prepared.py): the plan is the same for any team.
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [team_id])
        rows = [CardRow(connection, row) for row in cursor.fetchall()]
    return cards_of(rows)


def age_key(created_at: datetime, now: datetime) -> tuple:
    """When the card's "3 hours ago" (humanize's naturaltime) can next change: its words
    count whole seconds under a minute, whole minutes under an hour, and beyond that hours or
    coarser units, which all turn over on whole hours since the job was made."""
    seconds = int((now - created_at).total_seconds())
    if seconds < 60:
        return ("s", seconds)
    if seconds < 3600:
        return ("m", seconds // 60)
    return ("h", seconds // 3600)


def _card_list(jobs: list[Job]) -> CardList:
    return CardList(
        html=mark_safe("".join(render_card(job) for job in jobs)),  # noqa: S308  (our own cards)
        count=len(jobs),
        poll=any(job.is_pending or job.awaiting_check for job in jobs),
    )
