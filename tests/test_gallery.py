"""The team gallery: everyone's jobs, filtered, searched, paginated, newest first."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from enhancer.models import Job
from enhancer.views.gallery import PAGE_SIZE
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def shown(response) -> list[str]:
    """Titles of the cards on the page, in order."""
    return re.findall(r'class="job-title"><a href="[^"]+">([^<]+)</a>', response.content.decode())


def dated(job: Job, days_ago: int) -> Job:
    when = timezone.now() - timedelta(days=days_ago)
    Job.objects.filter(pk=job.pk).update(created_at=when)
    job.created_at = when
    return job


@pytest.fixture
def jobs(team, admin_user_, teammate):
    return [
        dated(make_job(team, admin_user_, status="succeeded", name="beach.png"), 3),
        dated(make_job(team, teammate, status="failed", name="portrait.jpg"), 2),
        dated(make_job(team, teammate, status="succeeded", name="beach-2.png"), 1),
    ]


def test_a_member_sees_every_job_of_the_team_newest_first(teammate_client, jobs, outsider):
    make_job(outsider.teams.get(), outsider, status="succeeded", name="elsewhere.png")
    response = teammate_client.get(reverse("gallery"))
    assert shown(response) == ["beach-2.png", "portrait.jpg", "beach.png"]
    assert "elsewhere.png" not in response.content.decode()


def test_teammates_jobs_look_like_ones_own(teammate_client, jobs):
    html = teammate_client.get(reverse("gallery")).content.decode()
    alices = jobs[0]
    assert reverse("job_detail", args=[alices.id]) in html
    assert reverse("job_thumbnail", args=[alices.id]) in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "BEACH"}, ["beach-2.png", "beach.png"]),
        ({"status": "failed"}, ["portrait.jpg"]),
        ({"scale": "2"}, ["beach-2.png", "portrait.jpg", "beach.png"]),
        ({"scale": "4"}, []),
        ({"q": "beach", "status": "succeeded"}, ["beach-2.png", "beach.png"]),
    ],
)
def test_filters_and_search(owner_client, jobs, query, expected):
    assert shown(owner_client.get(reverse("gallery"), query)) == expected


def test_filter_by_member(owner_client, jobs, teammate):
    response = owner_client.get(reverse("gallery"), {"member": teammate.pk})
    assert shown(response) == ["beach-2.png", "portrait.jpg"]


def test_filter_by_date_range(owner_client, jobs):
    today = timezone.localdate()
    response = owner_client.get(
        reverse("gallery"),
        {
            "date_from": (today - timedelta(days=2)).isoformat(),
            "date_to": (today - timedelta(days=2)).isoformat(),
        },
    )
    assert shown(response) == ["portrait.jpg"]


def test_search_finds_titles_too(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="succeeded", name="IMG_0001.jpg")
    Job.objects.filter(pk=job.pk).update(title="Lighthouse at dusk")
    assert shown(owner_client.get(reverse("gallery"), {"q": "lighthouse"})) == [
        "Lighthouse at dusk"
    ]


def test_a_member_of_another_team_is_no_filter_choice(owner_client, jobs, outsider):
    response = owner_client.get(reverse("gallery"), {"member": outsider.pk})
    assert "mallory" not in response.content.decode()
    # An invalid choice is ignored (and said so) rather than leaking or breaking the page.
    assert shown(response) == ["beach-2.png", "portrait.jpg", "beach.png"]


def test_pagination_by_keyset(owner_client, team, admin_user_):
    for index in range(PAGE_SIZE + 2):
        dated(make_job(team, admin_user_, status="succeeded", name=f"n{index:02}.png"), index)
    first = owner_client.get(reverse("gallery"))
    html = first.content.decode()
    assert len(shown(first)) == PAGE_SIZE and shown(first)[0] == "n00.png"
    assert "26 enhancements" in html and "← Newer" not in html
    older = re.search(r'href="\?before=([\w-]+)" [^>]*rel="next"', html).group(1)

    second = owner_client.get(reverse("gallery"), {"before": older, "q": "n"})
    html = second.content.decode()
    assert shown(second) == [f"n{PAGE_SIZE:02}.png", f"n{PAGE_SIZE + 1:02}.png"]
    assert "Older →" not in html and "Newest" in html
    newer = re.search(r'href="\?q=n&amp;after=([\w-]+)" [^>]*rel="prev"', html).group(1)

    back = owner_client.get(reverse("gallery"), {"after": newer, "q": "n"})
    assert shown(back) == shown(first)  # filters kept across pages, and the same page again


def test_jobs_made_at_the_same_moment_are_neither_lost_nor_repeated(
    owner_client, team, admin_user_
):
    moment = timezone.now() - timedelta(days=1)
    made = [make_job(team, admin_user_, status="succeeded", name=f"s{i:02}.png") for i in range(30)]
    Job.objects.filter(pk__in=[job.pk for job in made]).update(created_at=moment)
    seen, before = [], None
    for _ in range(3):
        html = owner_client.get(reverse("gallery"), {"before": before} if before else {}).content
        seen += re.findall(r'id="job-([0-9a-f-]{36})"', html.decode())
        found = re.search(r'href="\?before=([\w-]+)" [^>]*rel="next"', html.decode())
        if not found:
            break
        before = found.group(1)
    assert sorted(seen) == sorted(str(job.pk) for job in made)


def test_a_broken_cursor_shows_the_newest_page(owner_client, jobs):
    for value in ("nonsense", "123-xyz", "99999999999999999999-" + "0" * 32, ""):
        response = owner_client.get(reverse("gallery"), {"before": value})
        assert shown(response) == ["beach-2.png", "portrait.jpg", "beach.png"]


def test_the_count_stops_at_a_thousand(owner_client, team, admin_user_):
    from enhancer import keyset

    Job.objects.bulk_create(
        Job(team=team, created_by=admin_user_, original_name=f"{n}.png", provider="builtin",
            original_width=3, original_height=2, status="succeeded")
        for n in range(keyset.COUNT_LIMIT + 1)
    )  # fmt: skip
    html = owner_client.get(reverse("gallery")).content.decode()
    assert "More than 1,000 enhancements." in html

    Job.objects.filter(team=team).order_by("created_at").first().delete()
    html = owner_client.get(reverse("gallery")).content.decode()
    assert "1,000 enhancements." in html  # exactly the limit: counted, with its separator
    assert "More than" not in html


def test_a_filtered_count_follows_the_page(owner_client, outsider_client, jobs, outsider):
    """Filtered, the count can read thousands of rows: the cards come first, the count in a
    request of its own, of the team's own jobs only; without JavaScript, a link asks for it."""
    make_job(outsider.teams.get(), outsider, status="succeeded", name="beach-3.png")
    html = owner_client.get(reverse("gallery"), {"q": "beach", "before": "x"}).content.decode()
    assert shown(owner_client.get(reverse("gallery"), {"q": "beach"})) == [
        "beach-2.png",
        "beach.png",
    ]
    assert "match the filters" not in html
    # The count does not depend on the place in the list; the link without JavaScript keeps it.
    assert f'hx-get="{reverse("gallery_count")}?q=beach"' in html
    assert 'href="?q=beach&amp;before=x&amp;count=1"' in html
    # Loaded into the live region that stays, so screen readers announce it.
    assert 'hx-target="closest p" hx-swap="innerHTML"' in html

    counted = owner_client.get(
        reverse("gallery_count"), {"q": "beach"}, headers={"HX-Request": "true"}
    )
    assert "2 enhancements match the filters." in counted.content.decode()
    theirs = outsider_client.get(
        reverse("gallery_count"), {"q": "beach"}, headers={"HX-Request": "true"}
    )
    assert "1 enhancement matches the filters." in theirs.content.decode()

    without_script = owner_client.get(reverse("gallery_count"), {"q": "beach"})
    assert without_script.status_code == 302
    page = owner_client.get(without_script.url).content.decode()
    assert "2 enhancements match the filters." in page
    assert 'hx-get="' + reverse("gallery_count") not in page


def test_the_unfiltered_count_is_on_the_page(owner_client, jobs):
    assert "3 enhancements." in owner_client.get(reverse("gallery")).content.decode()


def test_htmx_gets_only_the_results(owner_client, jobs):
    response = owner_client.get(reverse("gallery"), {"q": "beach"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="gallery-results">') and "<html" not in html
    assert response["Vary"].count("HX-Request") == 1


def test_running_cards_on_the_page_keep_updating(owner_client, team, admin_user_):
    make_job(team, admin_user_, status="processing", name="busy.png")
    html = owner_client.get(reverse("gallery")).content.decode()
    assert "every 2s" in html and "scope=shown" in html


def test_the_gallery_is_per_team(outsider_client, jobs):
    html = outsider_client.get(reverse("gallery")).content.decode()
    assert shown(outsider_client.get(reverse("gallery"))) == []
    assert "beach" not in html


def test_the_gallery_needs_login(client):
    response = client.get(reverse("gallery"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_search_is_served_by_trigram_indexes_on_postgresql(team):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps its plain scan")
    # The search's own condition, as the gallery writes it (the team's index aside, and the
    # parent_id index, which a tiny table would prefer for "not a tile").
    jobs = Job.all_objects.gallery(search="lighthouse").order_by()
    sql, params = jobs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the table is tiny here
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "enhancer_job_title_trgm" in plan and "enhancer_job_original_name_trgm" in plan


def test_the_remembered_filters_follow_the_team_and_the_values(owner_client, jobs, teammate):
    from enhancer.models import Membership

    html = owner_client.get(reverse("gallery")).content.decode()
    assert f'<option value="{teammate.pk}">bob</option>' in html
    Membership.objects.filter(user=teammate).delete()  # another host's doing
    html = owner_client.get(reverse("gallery")).content.decode()
    assert ">bob</option>" not in html
    html = owner_client.get(reverse("gallery"), {"status": "failed"}).content.decode()
    assert '<option value="failed" selected>' in html
    html = owner_client.get(reverse("gallery"), {"date_from": "nonsense"}).content.decode()
    assert 'value="nonsense"' in html and "field-invalid" in html
