"""The open pages' poll, answered with one small SQL query when nothing changed.

Every open page asks every two seconds whether its cards changed, so this is the product's
hottest path. Most answers are "no": one hand-written query (built once per scope shape, no
querysets) checks, in one round trip, that the user is still a member of the team the page shows
and whether any of the page's jobs changed since the last answer or are still pending. The
membership is read from the database on every poll, never remembered between requests, so a
member removed from the team is refused on the very next poll on every web host.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection
from django.utils import timezone

from enhancer.models import Job, Membership
from enhancer.models.jobs import CHECK_WAIT


@dataclass(frozen=True)
class Scope:
    """Which jobs a page shows: the team's (`team`), a batch's, or the listed cards only."""

    kind: str  # "team", "batch" or "shown"
    batch_id: uuid.UUID | None = None
    shown: frozenset[uuid.UUID] = frozenset()

    @classmethod
    def parse(cls, value: str, shown: set[uuid.UUID]) -> Scope:
        if value == "shown":
            return cls("shown", shown=frozenset(shown))
        if value.startswith("batch:"):
            try:
                return cls("batch", batch_id=uuid.UUID(value.removeprefix("batch:")))
            except ValueError:
                return cls("shown")  # no such batch: no jobs at all
        return cls("team")

    def filter(self, jobs):
        """The same restriction for the ORM, when the changed cards are loaded."""
        if self.kind == "shown":
            return jobs.filter(pk__in=self.shown)
        if self.kind == "batch":
            return jobs.filter(batch_id=self.batch_id)
        return jobs


@dataclass(frozen=True)
class PollState:
    changed: bool
    pending: bool


@cache
def state_sql(kind: str, shown_count: int) -> str:
    job = Job._meta.db_table
    member = Membership._meta.db_table
    scope = ""
    if kind == "batch":
        scope = " AND j.batch_id = %s"
    elif kind == "shown":
        scope = f" AND j.id IN ({', '.join(['%s'] * shown_count)})" if shown_count else " AND 0=1"
    statuses = ", ".join(["%s"] * len(Job.PENDING_STATUSES))
    # Both EXISTS use the (team, status) and (team, updated_at) indexes and stop at the first row.
    return (
        "SELECT "  # noqa: S608  (table names from the models; every value is a parameter)
        f"EXISTS (SELECT 1 FROM {job} j WHERE j.team_id = m.team_id{scope}"
        " AND j.updated_at > %s), "
        f"EXISTS (SELECT 1 FROM {job} j WHERE j.team_id = m.team_id{scope}"
        f" AND (j.status IN ({statuses}) OR (j.status = %s AND j.checked_at IS NULL"
        " AND j.finished_at > %s))) "
        f"FROM {member} m WHERE m.user_id = %s AND m.team_id = %s"
    )


def poll_state(user_id: int, team_id: int, since: datetime, scope: Scope) -> PollState | None:
    """Whether the page's jobs changed after `since` or are pending; None for a non-member."""
    pk = Job._meta.pk
    scope_params: list = []
    if scope.kind == "batch":
        scope_params = [pk.get_db_prep_value(scope.batch_id, connection)]
    elif scope.kind == "shown":
        scope_params = [pk.get_db_prep_value(value, connection) for value in scope.shown]
    params = [
        *scope_params,
        connection.ops.adapt_datetimefield_value(since),
        *scope_params,
        *(status.value for status in Job.PENDING_STATUSES),  # plain str for every driver
        # Just succeeded, its automatic checks still to come (Job.awaiting_check): followed
        # too, so a check's warning appears without a reload.
        Job.Status.SUCCEEDED.value,
        connection.ops.adapt_datetimefield_value(timezone.now() - CHECK_WAIT),
        user_id,
        team_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(state_sql(scope.kind, len(scope.shown)), params)
        row = cursor.fetchone()
    if row is None:
        return None
    return PollState(changed=bool(row[0]), pending=bool(row[1]))
