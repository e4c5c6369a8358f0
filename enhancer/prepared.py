"""Cursors whose statements PostgreSQL keeps prepared on the connection.

The poll's two statements are the product's most frequent. On PostgreSQL, planning its state
statement took longer than running it; psycopg prepares a statement once it has run five times
on a connection (its `prepare_threshold`) when the cursor binds its parameters on the server,
and Django's connections persist between requests, so each connection plans it a few times and
then only runs it. Everywhere else (SQLite, or with `DATABASE_PREPARED_STATEMENTS=0`, for a
connection pooler that cannot keep them), a plain cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings


@contextmanager
def prepared_cursor(connection) -> Iterator:
    # While queries are logged (DEBUG, or a test counting them), plainly: Django logs a query
    # by composing it on the client, which a statement bound on the server cannot give.
    plain = connection.vendor != "postgresql" or connection.queries_logged
    if plain or not settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors:
        # Django's own wrapper (query logging, error translation), around psycopg's cursor
        # that binds on the server, not the client-binding one Django makes by default.
        cursor = connection._prepare_cursor(psycopg.Cursor(connection.connection))
    with cursor:
        yield cursor
