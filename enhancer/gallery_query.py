"""The gallery's page and count as plain SQL: the same rows as `Job.objects.gallery()` with
`with_versions()` (enhancer/views/gallery.py), at a fraction of the web process's time.

Built as querysets, the page and its bounded count cost the web process about 4.5 ms a
request to construct and compile, against 0.5 ms to run; the gallery is the page a team opens
most after the dashboard. The statements below are written once per set of filters in use and
follow the backend's own spelling of each lookup (the case-insensitive "contains" is the very
expression the PostgreSQL trigram indexes are built on). `tests/test_gallery_query.py` holds
them to the querysets' answers for every filter, alone and combined, and for both directions
of the keyset pagination.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import connections, router

from enhancer import keyset
from enhancer.cards import CardRow, card_columns
from enhancer.models import Job
from enhancer.models.jobs import local_midnight
from enhancer.prepared import plain_cursor, prepared_cursor


@dataclass(frozen=True)
class Filters:
    """The gallery's filters, as the form cleaned them (empty: not in use)."""

    search: str = ""
    member_id: int | None = None
    status: str = ""
    scale: int | None = None
    date_from: date | None = None
    date_to: date | None = None


class GalleryQuery:
    """One team's gallery under one set of filters."""

    def __init__(self, team_id: int, filters: Filters, *, newest_only: bool) -> None:
        self.connection = connections[router.db_for_read(Job)]
        self.quote = self.connection.ops.quote_name
        self.table = self.quote(Job._meta.db_table)
        self.team_id = team_id
        # The unfiltered gallery: its count has a cheaper form (_count_originals).
        self.versions_grouped = newest_only and filters == Filters()
        self.where, self.params = self._conditions(team_id, filters, newest_only)
        self._counted_with_page: tuple[int, bool] | None = None

    def page(self, size: int, *, before: str | None, after: str | None) -> keyset.Page:
        """One page of the jobs' CardRows (with their number of versions), as `keyset.page`
        gives it. Unfiltered, the page's statement also counts the cards (to
        keyset.COUNT_LIMIT), which bounded_count() then gives without asking again."""
        return keyset.paginate(self._fetch, size, before=before, after=after)

    def bounded_count(self, limit: int = keyset.COUNT_LIMIT) -> tuple[int, bool]:
        if self.versions_grouped:
            if limit == keyset.COUNT_LIMIT and self._counted_with_page is not None:
                return self._counted_with_page
            return self._count_originals(limit)
        sql = (
            f"SELECT COUNT(*) FROM (SELECT j.id FROM {self.table} j"  # noqa: S608  (our own SQL; values are parameters)
            f" WHERE {' AND '.join(self.where)} LIMIT %s) counted"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, limit + 1])
            counted = cursor.fetchone()[0]
        return min(counted, limit), counted > limit

    def _count_originals(self, limit: int) -> tuple[int, bool]:
        expression, params = self._count_originals_sql(limit)
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT {expression}", params)
            counted = cursor.fetchone()[0]
        return min(counted, limit), counted > limit

    def _count_originals_sql(self, limit: int) -> tuple[str, list]:
        """The unfiltered gallery's count, counting to `limit` + 1: one card per stored
        original and one per job without one, so the number of distinct originals plus the
        jobs without one, read from the (team, original) index alone. Counting the cards
        themselves tests each of a thousand jobs for a newer version (2.3 ms of the database's
        time at a million). Uncorrelated, so inside the page's statement it runs once."""
        original = self._column("original", "c")
        team_jobs = (
            f"FROM {self.table} c WHERE {self._column('team', 'c')} = %s"
            f" AND {self._column('parent', 'c')} IS NULL"
        )
        # The limits and the empty name written out (constants of ours, not values sent), so
        # a plan PostgreSQL keeps for any values (_fetch) still knows them.
        bound = int(limit) + 1
        expression = (
            f"((SELECT COUNT(*) FROM (SELECT DISTINCT {original} {team_jobs}"  # noqa: S608
            f" AND {original} <> '' LIMIT {bound}) kept)"
            f" + (SELECT COUNT(*) FROM (SELECT 1 {team_jobs} AND {original} = '' LIMIT {bound})"
            " alone))"
        )
        return expression, [self.team_id, self.team_id]

    # --- The statements ---------------------------------------------------------------------

    def _column(self, name: str, alias: str = "j") -> str:
        return f"{alias}.{self.quote(Job._meta.get_field(name).column)}"

    def _conditions(self, team_id: int, filters: Filters, newest_only: bool) -> tuple:
        ops = self.connection.ops
        where = [f"{self._column('team')} = %s", f"{self._column('parent')} IS NULL"]
        params: list = [team_id]
        if filters.search:
            # Django's icontains, spelled by the backend: UPPER(col::text) LIKE UPPER(%s) on
            # PostgreSQL (the trigram indexes' expression), LIKE %s ESCAPE '\' on SQLite.
            pattern = f"%{ops.prep_for_like_query(filters.search)}%"
            operator = self.connection.operators["icontains"]
            matches = [
                f"{ops.lookup_cast('icontains', 'CharField') % self._column(name)} {operator}"
                for name in ("title", "original_name")
            ]
            where.append(f"({' OR '.join(matches)})")
            params += [pattern, pattern]
        if filters.member_id is not None:
            where.append(f"{self._column('created_by')} = %s")
            params.append(filters.member_id)
        if filters.status:
            where.append(f"{self._column('status')} = %s")
            params.append(filters.status)
        if filters.scale:
            where.append(f"{self._column('scale')} = %s")
            params.append(filters.scale)
        # Whole local days as ranges of created_at, as Job.objects.gallery() has them.
        if filters.date_from:
            where.append(f"{self._column('created_at')} >= %s")
            params.append(self._when(local_midnight(filters.date_from)))
        if filters.date_to:
            where.append(f"{self._column('created_at')} < %s")
            params.append(self._when(local_midnight(filters.date_to + timedelta(days=1))))
        if newest_only:
            # Only the newest version of each stored original (jobs without one stand alone):
            # no job of the same original is newer, that is made later, or in the same
            # microsecond with a greater id, so each original has exactly one newest version.
            # "Newer" is one row comparison, not an OR of the two orders, which took
            # PostgreSQL 0.8 ms of the page's 1.2 to plan. (A scalar subquery, "the newest of
            # its original is this one", planned faster still but hid from the planner how
            # many jobs pass: with a thousand jobs it sorted all of them, 10 ms.)
            newer = (
                f"({self._column('created_at', 'n')}, {self._column('id', 'n')})"
                f" > ({self._column('created_at')}, {self._column('id')})"
            )
            where.append(
                f"NOT EXISTS (SELECT 1 FROM {self.table} n WHERE {self._same_original()}"  # noqa: S608
                f" AND {self._column('original', 'n')} <> '' AND {newer})"
            )
        return where, params

    def _same_original(self) -> str:
        """Jobs `n` of the same team and stored original as `j`, tiles aside."""
        return (
            f"{self._column('parent', 'n')} IS NULL"
            f" AND {self._column('team', 'n')} = {self._column('team')}"
            f" AND {self._column('original', 'n')} = {self._column('original')}"
        )

    def _when(self, moment):
        return self.connection.ops.adapt_datetimefield_value(moment)

    def _fetch(self, cursor: keyset.Cursor | None, *, newer: bool, limit: int) -> list[CardRow]:
        """Up to `limit` jobs older than `cursor` newest first, or with newer=True, newer
        than it oldest first."""
        where, params = list(self.where), list(self.params)
        if cursor is not None:
            sign = ">" if newer else "<"
            created, pk = self._column("created_at"), self._column("id")
            where.append(f"({created} {sign} %s OR ({created} = %s AND {pk} {sign} %s))")
            when = self._when(cursor.created_at)
            params += [when, when, Job._meta.pk.get_db_prep_value(cursor.pk, self.connection)]
        direction = "ASC" if newer else "DESC"
        versions = f"(SELECT COUNT(*) FROM {self.table} n WHERE {self._same_original()})"  # noqa: S608
        users = self.quote(get_user_model()._meta.db_table)
        order = f"{self._column('created_at')} {direction}, {self._column('id')} {direction}"
        count, count_params = ("", [])
        if self.versions_grouped:
            expression, count_params = self._count_originals_sql(keyset.COUNT_LIMIT)
            count = f", {expression}"
        # The models' own tables and columns; every value is a parameter.
        sql = (
            f"SELECT {card_columns(self.quote)}, {versions}{count} FROM {self.table} j"  # noqa: S608
            f" LEFT JOIN {users} u ON u.id = {self._column('created_by')}"
            f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {int(limit)}"
        )
        # Unfiltered, the page's statement is kept prepared on PostgreSQL (planning it cost
        # nearly as much as running it): its plan is the same for any team and place in the
        # list. Filtered, the plan depends on how common the values are (a search's words, a
        # status): planned afresh.
        cursor_of = prepared_cursor if self.versions_grouped else plain_cursor
        with cursor_of(self.connection) as db:
            db.execute(sql, [*count_params, *params])
            rows = db.fetchall()
        if count and rows:
            counted = rows[0][-1]
            self._counted_with_page = (
                min(counted, keyset.COUNT_LIMIT),
                counted > keyset.COUNT_LIMIT,
            )
            rows = [row[:-1] for row in rows]
        return [CardRow(self.connection, row) for row in rows]
