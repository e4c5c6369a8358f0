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

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

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


# The newest cards of each team, about 40 KB each: a few megabytes per process at most.
_lists = Remembered(100)


@dataclass(frozen=True)
class CardList:
    """A list of rendered cards and what the page needs to know of them."""

    html: SafeString
    count: int
    poll: bool  # a card is still pending or waiting for its result check

    def __bool__(self) -> bool:
        return bool(self.count)


def newest_cards(team_id: int, size: int) -> CardList:
    """The team's newest `size` cards (the dashboard's), remembered under everything they show.

    One plain statement reads every column the cards show and their creators' names; those
    values, with the times the cards' words depend on, are the key. So a remembered list is
    by construction the list that would be rendered now (an added, deleted or changed job, or
    a renamed member, makes a new key), and another web host's memory cannot be wrong either.
    On a new key the cards are made from the very rows read: no second query.
    """
    connection = connections[router.db_for_read(Job)]
    # In the model's order, which Model.from_db expects.
    fields = [field for field in Job._meta.concrete_fields if field.attname in CARD_FIELDS]
    user = get_user_model()
    name_field = user._meta.get_field(user.USERNAME_FIELD)
    quote = connection.ops.quote_name
    sql = (
        "SELECT "  # noqa: S608  (the models' own tables and columns; values are parameters)
        + ", ".join(f"j.{quote(field.column)}" for field in fields)
        + f", u.{quote(name_field.column)}"
        f" FROM {quote(Job._meta.db_table)} j"
        f" LEFT JOIN {quote(user._meta.db_table)} u ON u.id = j.created_by_id"
        " WHERE j.team_id = %s AND j.parent_id IS NULL"
        " ORDER BY j.created_at DESC, j.id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [team_id, size])
        rows = [converted(connection, [*fields, name_field], row) for row in cursor.fetchall()]
    now = timezone.now()
    names = [field.attname for field in fields]
    key = (team_id, tuple(_row_key(dict(zip(names, row, strict=False)), row, now) for row in rows))
    return _lists.get_value(key, lambda: _render_list(connection.alias, fields, rows))


def cards_of(jobs: list[Job]) -> CardList:
    """The cards of jobs already loaded (for_cards(), with the gallery's `versions_count`),
    remembered under the same values as `newest_cards` reads: cheaper than each card's key."""
    now = timezone.now()
    key = ("loaded", tuple(_job_key(job, now) for job in jobs))
    return _lists.get_value(key, lambda: _card_list(jobs))


def _job_key(job: Job, now: datetime) -> tuple:
    values = {name: getattr(job, name) for name in CARD_FIELDS}
    shown = (
        *values.values(),
        job.created_by.get_username() if job.created_by_id else None,
        getattr(job, "versions_count", None),
    )
    return _row_key(values, shown, now)


def _row_key(values: dict, shown, now: datetime) -> tuple:
    """`shown`: every value the card shows; `values`: the fields, by name."""
    created_at, status = values["created_at"], values["status"]
    return (
        *(value if isinstance(value, Hashable) else repr(value) for value in shown),
        age_key(created_at, now),
        # The running card's "for 12 s"; a finished job's result check waits a while.
        round((now - created_at).total_seconds()) if status in Job.PENDING_STATUSES else None,
        status == Job.Status.SUCCEEDED
        and values["checked_at"] is None
        and values["finished_at"] is not None
        and now - values["finished_at"] < CHECK_WAIT,
    )


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


def _render_list(alias: str, fields: list, rows: list[list]) -> CardList:
    user = get_user_model()
    attnames = [field.attname for field in fields]
    jobs = []
    for row in rows:
        job = Job.from_db(alias, attnames, row[:-1])  # the rest deferred, as for_cards() does
        if job.created_by_id is not None:
            job.created_by = user.from_db(
                alias, ["id", user.USERNAME_FIELD], [job.created_by_id, row[-1]]
            )
        jobs.append(job)
    return _card_list(jobs)


def _card_list(jobs: list[Job]) -> CardList:
    return CardList(
        html=mark_safe("".join(render_card(job) for job in jobs)),  # noqa: S308  (our own cards)
        count=len(jobs),
        poll=any(job.is_pending or job.awaiting_check for job in jobs),
    )
