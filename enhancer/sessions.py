"""Django's database sessions, read with one plain SQL statement.

Every request of a logged-in person reads its session, and the open pages poll every two
seconds, so this read is on the hottest path. Building it as a queryset cost about ten times
the query itself; the row, the table, the expiry check and the decoding are Django's own, so
sessions stay in the database (logging out or an expired session takes effect everywhere at once)
and existing sessions keep working. Writing is left to Django.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from enhancer.prepared import prepared_cursor


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        model = self.model
        connection = connections[router.db_for_read(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        with prepared_cursor(connection) as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} "  # noqa: S608  (the model's own table)
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
