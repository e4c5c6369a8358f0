"""Django's PostgreSQL backend, checking a persistent connection only after it sat idle.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request that
reuses a connection: on the poll, one of its four round trips. A connection that answered a
request moments ago is checked by that answer; one that sat idle for
`DATABASE_HEALTH_CHECK_IDLE` seconds or more (a restart of PostgreSQL happens in such a gap) is
checked as Django does. What remains uncovered: PostgreSQL closing the connection within that
short gap; the request then fails once, and Django replaces the connection after it.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    last_request_at: float | None = None

    def close_if_health_check_failed(self) -> None:
        if self.connection is not None and self.health_check_enabled:
            now, last = time.monotonic(), self.last_request_at
            if not self.health_check_done:
                self.last_request_at = now
            if (
                not self.health_check_done
                and last is not None
                and now - last < settings.DATABASE_HEALTH_CHECK_IDLE
                and not self.connection.closed
                and not self.connection.broken
            ):
                self.health_check_done = True
                return
        super().close_if_health_check_failed()

    def connect(self) -> None:
        super().connect()
        self.last_request_at = time.monotonic()
