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


def test_pagination(owner_client, team, admin_user_):
    for index in range(PAGE_SIZE + 2):
        dated(make_job(team, admin_user_, status="succeeded", name=f"n{index:02}.png"), index)
    first = owner_client.get(reverse("gallery"))
    assert len(shown(first)) == PAGE_SIZE and shown(first)[0] == "n00.png"
    assert "Page 1 of 2" in first.content.decode()
    second = owner_client.get(reverse("gallery"), {"page": 2, "q": "n"})
    assert shown(second) == [f"n{PAGE_SIZE:02}.png", f"n{PAGE_SIZE + 1:02}.png"]
    assert "?page=1&amp;q=n" in second.content.decode()  # filters kept across pages


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
