"""Django's ModelBackend, with the user of each request read by one plain SQL statement.

Every request of a logged-in person loads its user (the open pages poll every two seconds);
as a queryset that cost about three times the query. On PostgreSQL the statement is kept
prepared on the connection (enhancer/prepared.py). Logging in, permissions and the checks
(inactive users are refused, a changed password ends other sessions) are Django's own.
Sessions made with Django's ModelBackend keep working: it stays listed after this one.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError
from django.db import connections

from enhancer import rows
from enhancer.prepared import prepared_cursor


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        connection = connections[model._default_manager.db]
        try:
            user_id = model._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        with prepared_cursor(connection) as cursor:
            cursor.execute(user_sql(connection.alias), [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = rows.instance(connection, model, model._meta.concrete_fields, row)
        return user if self.user_can_authenticate(user) else None


@cache
def user_sql(alias: str) -> str:
    model = get_user_model()
    quote = connections[alias].ops.quote_name
    return (
        f"SELECT {rows.columns(quote, 'u', model._meta.concrete_fields)}"  # noqa: S608  (the model's own table)
        f" FROM {quote(model._meta.db_table)} u WHERE u.{quote(model._meta.pk.column)} = %s"
    )
