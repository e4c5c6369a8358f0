"""The open pages' poll, answered with one small SQL query when nothing changed.

Every open page asks every two seconds whether its cards changed, so this is the product's
hottest path. Most answers are "no": after the session, one hand-written query (built once per
scope shape, no querysets) reads, in one round trip, the user's row, that they are still a
member of the team the page shows, and whether any of the page's jobs changed since the last
answer or are still pending. The user is verified from that row as Django verifies the user of
a session (`session_verified`: active, and the session's hash of the password), so the poll
needs no query of its own for the user. Nothing about access is remembered between requests
(only the session hash each password hash gives, under that hash): a member removed from the
team is refused on the very next poll on every web host, and a deactivated user or a changed
password ends the session on the next poll too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, get_user_model
from django.contrib.auth import SESSION_KEY as USER_SESSION_KEY
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from enhancer.fragments import Remembered
from enhancer.models import Job, Membership
from enhancer.models.jobs import CHECK_WAIT
from enhancer.prepared import prepared_cursor


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
    password: str  # the user's password hash, to verify the session with
    is_active: bool


@cache
def state_sql(kind: str, shown_count: int) -> str:
    job = Job._meta.db_table
    member = Membership._meta.db_table
    user = get_user_model()._meta.db_table
    # Tiles are their image's business: a failed image's tiles may still run, unseen.
    scope = " AND j.parent_id IS NULL"
    if kind == "batch":
        scope += " AND j.batch_id = %s"
    elif kind == "shown" and not shown_count:
        scope += " AND 0=1"
    elif kind == "shown" and connection.vendor == "postgresql":
        # One array, so one prepared statement whatever the number of cards shown.
        scope += " AND j.id = ANY(%s)"
    elif kind == "shown":
        scope += f" AND j.id IN ({', '.join(['%s'] * shown_count)})"
    jobs = f"FROM {job} j WHERE j.team_id = m.team_id{scope}"
    # Each test is one probe of an index, stopping at the first row. Pending and just checked
    # are two tests, not one with an OR: PostgreSQL plans such an OR as a scan of the table in
    # storage order, and a team's running jobs are its newest rows, at the end of it (a million
    # rows read on every poll).
    #
    # The statement is prepared (enhancer/prepared.py), and after a few runs PostgreSQL plans
    # it once for any values: so nothing may depend on a value's selectivity. The statuses are
    # written out (constants, matched against the column's statistics, and the
    # job_awaiting_check index's condition); a team's newest change is its first row in the
    # (team, updated_at) index, compared after, since "updated after a parameter" planned for
    # any value became a scan of the whole table.
    if kind == "team":
        changed = f"(SELECT j.updated_at {jobs} ORDER BY j.updated_at DESC LIMIT 1) > %s"
    else:  # a few jobs by id or batch: "updated after" is tested on those few rows
        changed = f"EXISTS (SELECT 1 {jobs} AND j.updated_at > %s)"
    pending = ", ".join(f"'{status.value}'" for status in Job.PENDING_STATUSES)
    succeeded = Job.Status.SUCCEEDED.value
    return (
        f"SELECT {changed}, "  # noqa: S608  (table names and statuses from the models; every value is a parameter)
        f"EXISTS (SELECT 1 {jobs} AND j.status IN ({pending}))"
        f" OR (SELECT MAX(j.finished_at) {jobs}"
        f" AND j.status = '{succeeded}' AND j.checked_at IS NULL) > %s,"
        " u.password, u.is_active "
        f"FROM {member} m JOIN {user} u ON u.id = m.user_id"
        " WHERE m.user_id = %s AND m.team_id = %s"
    )


def poll_state(user_id: int, team_id: int, since: datetime, scope: Scope) -> PollState | None:
    """Whether the page's jobs changed after `since` or are pending; None for a non-member."""
    pk = Job._meta.pk
    scope_params: list = []
    if scope.kind == "batch":
        scope_params = [pk.get_db_prep_value(scope.batch_id, connection)]
    elif scope.kind == "shown" and scope.shown:
        ids = [pk.get_db_prep_value(value, connection) for value in scope.shown]
        scope_params = [ids] if connection.vendor == "postgresql" else ids
    params = [
        *scope_params,
        connection.ops.adapt_datetimefield_value(since),
        *scope_params,
        *scope_params,
        # Just succeeded, its automatic checks still to come (Job.awaiting_check): followed
        # too, so a check's warning appears without a reload.
        connection.ops.adapt_datetimefield_value(timezone.now() - CHECK_WAIT),
        user_id,
        team_id,
    ]
    with prepared_cursor(connection) as cursor:
        cursor.execute(state_sql(scope.kind, len(scope.shown)), params)
        row = cursor.fetchone()
    if row is None:
        return None
    return PollState(
        changed=bool(row[0]), pending=bool(row[1]), password=row[2], is_active=bool(row[3])
    )


def claimed_user_id(request: HttpRequest) -> int | None:
    """The user id the session names, not verified yet (see `session_verified`)."""
    try:
        return int(request.session[USER_SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


# The backends whose users are plain rows of the user table, verified as below.
PLAIN_BACKENDS = {
    "enhancer.auth_backend.ModelBackend",
    "django.contrib.auth.backends.ModelBackend",
}


def session_verified(request: HttpRequest, state: PollState) -> bool:
    """What `django.contrib.auth.get_user` checks, from the row the poll's query read: a
    backend still configured, an active user, the session's hash of the current password
    under the current SECRET_KEY. Anything else (a session under a fallback key that Django
    would renew, say) is left to Django's own way, which the caller then takes."""
    backend = request.session.get(BACKEND_SESSION_KEY)
    if backend not in PLAIN_BACKENDS or backend not in settings.AUTHENTICATION_BACKENDS:
        return False
    if not state.is_active:
        return False
    session_hash = request.session.get(HASH_SESSION_KEY)
    key = (settings.SECRET_KEY, state.password)
    expected = _auth_hashes.get_value(key, lambda: session_auth_hash(state.password))
    return bool(session_hash) and constant_time_compare(session_hash, expected)


# The session hash of each password hash in use, as Django derives it: remembered under the
# password hash itself and the secret key, all it is made from, so a changed password is a new
# key, never a stale answer.
_auth_hashes = Remembered(10_000)


def session_auth_hash(password: str) -> str:
    return get_user_model()(password=password).get_session_auth_hash()
