"""Django's ModelBackend, with the user of each request read by one plain SQL statement.

Every request of a logged-in person loads its user (the open pages poll every two seconds);
as a queryset that cost about three times the query. Logging in, permissions and the checks
(inactive users are refused, a changed password ends other sessions) are Django's own.
Sessions made with Django's ModelBackend keep working: it stays listed after this one.
"""

from __future__ import annotations

from django.contrib.auth import backends, get_user_model
from django.db import connections


class ModelBackend(backends.ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        manager = model._default_manager
        quote = connections[manager.db].ops.quote_name
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        sql = f"SELECT * FROM {table} WHERE {pk} = %s"  # noqa: S608  (the model's own table)
        user = next(iter(manager.raw(sql, [user_id])), None)
        return user if user is not None and self.user_can_authenticate(user) else None
