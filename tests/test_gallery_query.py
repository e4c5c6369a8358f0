"""The gallery's plain SQL (enhancer/gallery_query.py) gives exactly what the querysets give
(`Job.objects.gallery()` with `with_versions()`, paginated by `keyset.page`): the same jobs in
the same order, page after page in both directions, with the same number of versions and the
same bounded count, for every filter alone and combined."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from enhancer import keyset
from enhancer.gallery_query import Filters, GalleryQuery
from enhancer.models import Job
from enhancer.views.gallery import with_versions
from tests.factories import make_job

pytestmark = pytest.mark.django_db

PAGE = 4
NAMES = ["Beach.png", "beach 100%.jpg", "cat_1.png", "CAT21.png", "portrait.jpg", "Lake.webp"]


@pytest.fixture
def history(team, admin_user_, teammate, outsider):
    """Jobs of two members over ten days: statuses, scales, titles with LIKE's wildcards,
    versions sharing one stored original, jobs with no stored original, jobs made in the same
    microsecond, a large image's tiles, and another team's jobs."""
    now = timezone.now().replace(microsecond=0)
    jobs = []
    for n, (name, status, scale) in enumerate(
        zip(
            itertools.cycle(NAMES),
            itertools.cycle(["succeeded", "failed", "processing", "succeeded", "canceled"]),
            itertools.cycle([2, 4, 1, 8]),
        )
    ):
        if n == 26:
            break
        user = admin_user_ if n % 3 else teammate
        job = make_job(team, user, status=status, name=name, scale=scale)
        Job.objects.filter(pk=job.pk).update(created_at=now - timedelta(hours=9 * n))
        jobs.append(job)
    same_moment = now - timedelta(hours=30)
    for job in jobs[3:6]:  # three jobs made in the same microsecond: the id decides
        Job.objects.filter(pk=job.pk).update(created_at=same_moment)
    for job in jobs[7:10]:  # Run again: versions of jobs[6]'s original
        Job.objects.filter(pk=job.pk).update(original=jobs[6].original.name, title="Again")
    for job in jobs[14:16]:  # two versions made in the same microsecond: one card
        Job.objects.filter(pk=job.pk).update(original=jobs[13].original.name, created_at=now)
    for job in jobs[11:13]:  # an image URL not fetched yet
        Job.objects.filter(pk=job.pk).update(original="")
    tile = make_job(team, admin_user_, status="succeeded", name="Beach.png")
    Job.all_objects.filter(pk=tile.pk).update(parent=jobs[0], tile_index=0)
    make_job(outsider.teams.get(), outsider, status="succeeded", name="Beach.png")
    return jobs


def orm_gallery(team, filters: Filters, newest_only: bool):
    """The reference: the gallery as querysets."""
    jobs = (
        Job.objects.filter(team=team)
        .for_cards()
        .gallery(
            search=filters.search,
            member=filters.member_id,
            status=filters.status,
            scale=filters.scale,
            date_from=filters.date_from,
            date_to=filters.date_to,
        )
    )
    return with_versions(jobs, newest_only=newest_only)


def orm_pages(team, filters: Filters, newest_only: bool) -> list[list[tuple]]:
    jobs = orm_gallery(team, filters, newest_only)
    return walk(lambda before, after: keyset.page(jobs, PAGE, before=before, after=after))


def sql_pages(team, filters: Filters, newest_only: bool) -> list[list[tuple]]:
    query = GalleryQuery(team.pk, filters, newest_only=newest_only)
    return walk(lambda before, after: query.page(PAGE, before=before, after=after))


def walk(page_of) -> list[list[tuple]]:
    """Every page from the newest to the oldest, then back again by the newer links."""
    pages, page = [], page_of(None, None)
    while True:
        pages.append([(item.pk, item.created_at, versions(item)) for item in page.items])
        if page.older is None:
            break
        page = page_of(str(page.older), None)
    while page.newer is not None:
        page = page_of(None, str(page.newer))
        pages.append([(item.pk, item.created_at, versions(item)) for item in page.items])
    return pages


def versions(item) -> int:
    return item.job().versions_count if hasattr(item, "job") else item.versions_count


def filter_sets(admin_user_, teammate) -> list[Filters]:
    today = timezone.localdate()
    single = [
        Filters(),
        Filters(search="beach"),
        Filters(search="BEACH"),
        Filters(search="100%"),  # LIKE's wildcards are searched for as they are
        Filters(search="cat_1"),
        Filters(search="again"),
        Filters(search="nothing like it"),
        Filters(member_id=admin_user_.pk),
        Filters(member_id=teammate.pk),
        Filters(status="succeeded"),
        Filters(status="processing"),
        Filters(scale=4),
        Filters(date_from=today - timedelta(days=4)),
        Filters(date_to=today - timedelta(days=3)),
        Filters(date_from=today - timedelta(days=7), date_to=today - timedelta(days=2)),
    ]
    combined = [
        Filters(search="png", member_id=admin_user_.pk, status="succeeded"),
        Filters(search="a", scale=2, date_from=today - timedelta(days=6)),
        Filters(member_id=teammate.pk, status="canceled", date_to=today),
    ]
    return single + combined


def test_the_sql_pages_are_the_querysets_pages(team, admin_user_, teammate, history):
    for filters in filter_sets(admin_user_, teammate):
        for newest_only in (True, False):
            expected = orm_pages(team, filters, newest_only)
            assert sql_pages(team, filters, newest_only) == expected, (filters, newest_only)


def test_the_sql_count_is_the_querysets_count(team, admin_user_, teammate, history):
    for filters in filter_sets(admin_user_, teammate):
        for newest_only in (True, False):
            jobs = orm_gallery(team, filters, newest_only)
            query = GalleryQuery(team.pk, filters, newest_only=newest_only)
            for limit in (3, 1000):
                assert query.bounded_count(limit) == keyset.bounded_count(jobs, limit)


def test_the_unfiltered_page_carries_its_count(team, admin_user_, teammate, history):
    """Unfiltered, the page's own statement counts the cards; an empty page (past the oldest)
    leaves the count to a statement of its own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    expected = keyset.bounded_count(orm_gallery(team, Filters(), newest_only=True))
    query = GalleryQuery(team.pk, Filters(), newest_only=True)
    page = query.page(PAGE, before=None, after=None)
    with CaptureQueriesContext(connection) as queries:
        assert query.bounded_count() == expected
    assert len(queries) == 0 and expected[0] > PAGE
    oldest = page.items[-1]
    while page.older is not None:
        page = query.page(PAGE, before=str(page.older), after=None)
        oldest = page.items[-1]
    past_the_end = GalleryQuery(team.pk, Filters(), newest_only=True)
    assert past_the_end.page(PAGE, before=str(keyset.Cursor.of(oldest)), after=None).items == []
    with CaptureQueriesContext(connection) as queries:
        assert past_the_end.bounded_count() == expected
    assert len(queries) == 1


def test_the_walk_sees_every_job(team, admin_user_, teammate, history):
    """The comparison above is not vacuous: the unfiltered walk visits every visible job."""
    pages = sql_pages(team, Filters(), newest_only=False)
    forward = [row for page in pages[: (len(history) + PAGE - 1) // PAGE] for row in page]
    assert len(forward) == len(history)
    assert {row[2] for row in forward} >= {1, 4}  # single jobs and jobs[6]'s four versions


def test_the_sql_search_is_served_by_trigram_indexes_on_postgresql(team):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps its plain scan")
    query = GalleryQuery(team.pk, Filters(search="lighthouse"), newest_only=False)
    (condition,) = [part for part in query.where if "LIKE" in part]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the table is tiny here
        cursor.execute(f"EXPLAIN SELECT 1 FROM enhancer_job j WHERE {condition}", ["%x%", "%x%"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "enhancer_job_title_trgm" in plan and "enhancer_job_original_name_trgm" in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared plans")
def test_the_prepared_unfiltered_pages_stay_the_querysets_pages(team, history):
    """The unfiltered page is kept prepared (enhancer/prepared.py): from its sixth run on a
    connection, under a plan PostgreSQL may make once for any values, forced here."""
    expected = orm_pages(team, Filters(), newest_only=True)
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    try:
        for _ in range(7):
            assert sql_pages(team, Filters(), newest_only=True) == expected
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [row[0] for row in cursor.fetchall()]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET plan_cache_mode")
    assert any("NOT EXISTS" in statement for statement in prepared)
