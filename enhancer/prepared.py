"""Cursors whose statements PostgreSQL keeps prepared on the connection.

The statements every page and every poll runs (the session, the user, the membership, the
poll's state, the job read, the dashboard's cards and the unfiltered gallery's page) are few
and always the same. On PostgreSQL, planning them took as long as running them, or longer
(the poll's state: 0.35 ms against 0.1; the gallery's page: 0.7 to 0.9 ms against 1.0). psycopg
prepares a statement once it has run five times on a connection (its `prepare_threshold`)
when the cursor binds its parameters on the server, and Django's connections persist between
requests, so a connection plans each a few times and then only runs it. PostgreSQL may then
keep one plan for any values: the statements given here are written so that such a plan is
still the right one (constants written out, nothing that depends on how common a value is;
a filtered gallery and the counts, whose plans do, are planned afresh). Everywhere else
(SQLite, or with `DATABASE_PREPARED_STATEMENTS=0` for a connection pooler that cannot keep
them), a plain cursor. A connection closed after each request (`DATABASE_CONN_MAX_AGE=0`)
never runs a statement six times, so nothing is prepared on it either.

Measured with `web_benchmark` at a million jobs, the poll against the bare view, in
alternating runs: 0.55x and 0.50x prepared, 0.36x and 0.41x not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper


@contextmanager
def prepared_cursor(connection: BaseDatabaseWrapper) -> Iterator[CursorWrapper]:
    # While queries are logged (DEBUG, or a test counting them), plainly: Django logs a query
    # by composing it on the client, which a statement bound on the server cannot give.
    plain = connection.vendor != "postgresql" or connection.queries_logged
    if plain or not settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    # What connection.cursor() does, with psycopg's cursor that binds on the server instead
    # of the client-binding one Django makes by default: the health check first (a connection
    # the database closed is replaced before the request uses it), then Django's own wrapper
    # (query logging, error translation; _prepare_cursor is Django's private hook for it).
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection._prepare_cursor(psycopg.Cursor(connection.connection))
    with cursor:
        yield cursor


def plain_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """connection.cursor(), where a caller picks between the two."""
    return connection.cursor()
