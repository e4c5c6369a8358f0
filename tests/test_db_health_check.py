"""PostgreSQL connections are pinged before a request only after they sat idle."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

from django.db import connections

from detailer_site.postgresql.base import DatabaseWrapper


def wrapper(settings, idle: float = 1.0) -> DatabaseWrapper:
    settings.DATABASE_HEALTH_CHECK_IDLE = idle
    db = DatabaseWrapper({**connections["default"].settings_dict, "CONN_HEALTH_CHECKS": True})
    db.connection = SimpleNamespace(closed=False, broken=False)
    db.health_check_enabled = True
    return db


def new_request(db: DatabaseWrapper, at: float, pings: mock.Mock) -> None:
    db.health_check_done = False  # what Django does when a request starts
    with mock.patch("time.monotonic", return_value=at):
        db.close_if_health_check_failed()
    assert db.health_check_done


def test_a_busy_connection_is_not_pinged_but_an_idle_one_is(settings):
    db = wrapper(settings)
    with mock.patch.object(DatabaseWrapper, "is_usable", return_value=True) as pings:
        new_request(db, 100.0, pings)  # never used before: checked
        assert pings.call_count == 1
        new_request(db, 100.4, pings)  # busy: the last request proved it
        new_request(db, 100.9, pings)
        assert pings.call_count == 1
        new_request(db, 103.0, pings)  # idle for two seconds: checked again
        assert pings.call_count == 2
        db.connection.broken = True  # psycopg knows it is gone: checked at once
        new_request(db, 103.1, pings)
        assert pings.call_count == 3


def test_zero_pings_before_every_request(settings):
    db = wrapper(settings, idle=0)
    with mock.patch.object(DatabaseWrapper, "is_usable", return_value=True) as pings:
        for at in (1.0, 1.1, 1.2):
            new_request(db, at, pings)
    assert pings.call_count == 3
