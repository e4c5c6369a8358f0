"""Rows read with plain SQL, given the values the ORM would give.

The pages every person asks for most often read a few rows with one plain statement: building
the same query as a queryset costs the web process several times what running it costs. The
values still pass through the very converters the ORM applies (dates on SQLite, UUIDs,
decrypted secrets), so what a view gets is what a queryset would have given it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

from django.db import connections, models


def converted(connection, fields: Sequence[models.Field], values: Iterable) -> list:
    """Each raw column value as its field's Python value."""
    out = []
    for field, value in zip(fields, values, strict=True):
        column, functions = _converters(connection.alias, field)
        for function in functions:
            value = function(value, column, connection)
        out.append(value)
    return out


@cache
def _converters(alias: str, field: models.Field) -> tuple:
    connection = connections[alias]
    column = field.get_col(field.model._meta.db_table)
    return column, (
        *connection.ops.get_db_converters(column),
        *column.get_db_converters(connection),
    )


def instance(connection, model: type[models.Model], fields: Sequence[models.Field], values):
    """A model instance from its raw column values, as a queryset would have made it."""
    return model.from_db(
        connection.alias, [field.attname for field in fields], converted(connection, fields, values)
    )


def columns(quote, alias: str, fields: Sequence[models.Field]) -> str:
    """The select list for `fields` of the table aliased `alias`."""
    return ", ".join(f"{alias}.{quote(field.column)}" for field in fields)
