"""Pages that do not grow with history: the same SQL queries for 10 jobs as for 200."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enhancer.keyset import Cursor
from enhancer.models import Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def history(team, users, count: int) -> None:
    """`count` jobs over the last year, by several members, in every final state."""
    now = timezone.now()
    statuses = ("succeeded", "succeeded", "failed", "canceled")
    Job.objects.bulk_create(
        Job(
            team=team,
            created_by=users[n % len(users)],
            original_name=f"photo-{n}.png",
            title="Lighthouse" if n % 5 == 0 else "",
            provider="builtin",
            original_width=30,
            original_height=20,
            status=statuses[n % len(statuses)],
            result_width=60,
            result_height=40,
            duration=1.0 + n % 7,
            created_at=now - timezone.timedelta(days=n * 365 / count),
        )
        for n in range(count)
    )


def versions_of(job: Job, count: int) -> Job:
    """`count` more versions of `job` (Run again: the same stored original, later), the
    middle one returned."""
    versions = Job.objects.bulk_create(
        Job(
            team=job.team,
            created_by=job.created_by,
            original_name=job.original_name,
            original=job.original.name,
            original_sha256=job.original_sha256,
            original_width=job.original_width,
            original_height=job.original_height,
            provider="builtin",
            status="succeeded",
            created_at=job.created_at + timezone.timedelta(seconds=n + 1),
        )
        for n in range(count)
    )
    return versions[count // 2]


def queries_per_page(client, team, users, count: int) -> dict[str, int]:
    history(team, users, count)
    job = make_job(team, users[0], status="succeeded", name="page.png")
    pending = make_job(team, users[0], status="processing", name="busy.png")
    # Run again a tenth as many times as there are jobs: its page lists a few, whatever the count.
    run_again = versions_of(make_job(team, users[0], status="succeeded"), count // 10)
    # A cursor in the middle of the history, as an "Older" link would carry.
    middle = Job.objects.filter(team=team).order_by("-created_at", "-pk")[count // 2]
    older = str(Cursor.of(middle))
    pages = {
        "dashboard": (reverse("dashboard"), {}),
        "gallery": (reverse("gallery"), {}),
        "gallery, older page": (reverse("gallery"), {"before": older}),
        "gallery, search": (reverse("gallery"), {"q": "lighthouse"}),
        "gallery, search with its count": (reverse("gallery"), {"q": "lighthouse", "count": "1"}),
        "usage": (reverse("usage"), {}),
        "usage, storage": (reverse("usage"), {"storage": "1"}),
        "job page": (reverse("job_detail", args=[job.id]), {}),
        "job page, run again often": (reverse("job_detail", args=[run_again.id]), {}),
    }
    client.get(reverse("dashboard"))  # the session chooses the team once
    counts = {}
    for name, (url, params) in pages.items():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        counts[name] = len(queries)
    since = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        poll = client.get(
            reverse("job_updates"),
            {"since": since.isoformat(), "scope": "team", "shown": [str(pending.id)]},
            headers={"HX-Request": "true"},
        )
        assert poll.status_code == 204
    counts["poll"] = len(queries)
    return counts


@pytest.fixture
def counts_for(owner_client, team, admin_user_, teammate):
    def counts(count: int) -> dict[str, int]:
        Job.objects.filter(team=team).delete()
        return queries_per_page(owner_client, team, [admin_user_, teammate], count)

    return counts


def test_every_page_makes_the_same_queries_for_10_or_200_jobs(counts_for):
    few, many = counts_for(10), counts_for(200)
    assert few == many
    assert few["poll"] == 2


@pytest.mark.parametrize("limits", [False, True])
def test_the_usage_page_makes_a_fixed_number_of_queries(
    owner_client, team, admin_user_, teammate, limits
):
    history(team, [admin_user_, teammate], 50)
    if limits:
        team.monthly_job_limit, team.member_monthly_job_limit = 100, 10
        team.save()
    owner_client.get(reverse("dashboard"))
    # Session, user, membership; the roll-up's rows (months and members); with limits set, the quota
    # counts (the roll-up's sent jobs and the jobs still waiting to be sent, for the team and
    # the member). The storage the team's files take follows in a request of its own.
    with CaptureQueriesContext(connection) as queries:
        html = owner_client.get(reverse("usage")).content.decode()
    assert len(queries) == (8 if limits else 4), [q["sql"][:80] for q in queries]
    assert ("This month's limits" in html) == limits


def test_a_job_run_again_often_lists_its_nearest_versions(owner_client, team, admin_user_):
    from enhancer.views.jobs import VERSIONS_EACH_SIDE

    first = make_job(team, admin_user_, status="succeeded")
    shown = versions_of(first, 60)
    html = owner_client.get(reverse("job_detail", args=[shown.id])).content.decode()
    items = html.split('class="version-list"')[1].split("</ol>")[0].split("<li")[1:]
    assert len(items) == 2 * VERSIONS_EACH_SIDE + 1
    assert "there are earlier and later ones too" in html
    # It stands in the middle, the nearest on either side in order.
    assert 'aria-current="page"' in items[VERSIONS_EACH_SIDE]
    assert "This version" in items[VERSIONS_EACH_SIDE]
    # The newest: only earlier ones lie beyond, and the list ends with it.
    newest = Job.objects.filter(original=first.original.name).order_by("-created_at").first()
    html = owner_client.get(reverse("job_detail", args=[newest.id])).content.decode()
    items = html.split('class="version-list"')[1].split("</ol>")[0].split("<li")[1:]
    assert len(items) == VERSIONS_EACH_SIDE + 1
    assert "there are earlier ones too" in html
    assert "This version" in items[-1]
