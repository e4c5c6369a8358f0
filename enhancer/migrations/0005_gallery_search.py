"""Trigram indexes for the gallery's search, on PostgreSQL.

The search is a case-insensitive "contains" on the title and the file name, which Django writes
as UPPER(column::text) LIKE UPPER('%…%'); GIN trigram indexes on exactly those expressions let
PostgreSQL find rare words without reading the team's every job. SQLite has no such index and
keeps its plain scan, which is fine at the sizes SQLite serves. Without the right to create the
pg_trgm extension the migration says so and leaves the search unindexed.
"""

from __future__ import annotations

from django.db import DatabaseError, migrations, transaction

INDEXES = {
    "enhancer_job_title_trgm": "title",
    "enhancer_job_original_name_trgm": "original_name",
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        print(f"\n  Gallery search stays unindexed: cannot create the pg_trgm extension ({exc}).")
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON enhancer_job USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("enhancer", "0004_provenance_checks_previews_approval")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
