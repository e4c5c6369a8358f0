"""Monthly quotas: the submission over the limit is refused, saying the limit and the reset."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from enhancer.models import Job
from enhancer.quotas import month_start, next_month_start, resets_on
from tests.factories import image_bytes, make_job
from tests.test_submit import post, upload

pytestmark = pytest.mark.django_db


def send(client, count: int = 1):
    files = [upload(f"p{index}.png", image_bytes(40, 30, seed=index)) for index in range(count)]
    return post(client, files=files if count > 1 else files[0])


def limit(team, *, team_limit=None, member_limit=None):
    team.monthly_job_limit, team.member_monthly_job_limit = team_limit, member_limit
    team.save()


def test_no_limit_by_default(owner_client, team, admin_user_):
    for _ in range(3):
        make_job(team, admin_user_)
    assert send(owner_client).status_code == 302
    assert Job.objects.count() == 4


def test_the_team_limit_refuses_the_job_over_it(owner_client, teammate_client, team, admin_user_):
    limit(team, team_limit=2)
    make_job(team, admin_user_)
    assert send(teammate_client).status_code == 302  # the second job is within the limit

    response = send(owner_client)

    assert response.status_code == 200
    reset = next_month_start()
    expected = (
        f"Your team has used 2 of its 2 jobs this month; "
        f"the limit resets on {reset.day} {reset:%B}."
    )
    assert expected in response.content.decode()
    assert Job.objects.count() == 2


def test_the_member_limit_applies_to_each_member(owner_client, teammate_client, team, teammate):
    limit(team, member_limit=1)
    make_job(team, teammate)
    response = send(teammate_client)
    assert "You have used 1 of your 1 jobs this month" in response.content.decode()
    assert send(owner_client).status_code == 302  # alice has her own allowance
    assert Job.objects.count() == 2


def test_a_batch_larger_than_what_is_left_is_refused_whole(owner_client, team, admin_user_):
    limit(team, team_limit=3)
    make_job(team, admin_user_)
    response = send(owner_client, count=3)
    html = response.content.decode()
    assert "Your team has used 1 of its 3 jobs this month, so 2 more can be sent" in html
    assert "these are 3 images" in html
    assert Job.objects.count() == 1
    assert send(owner_client, count=2).status_code == 302
    assert Job.objects.count() == 3


def test_last_months_jobs_do_not_count(owner_client, team, admin_user_):
    limit(team, team_limit=1)
    old = make_job(team, admin_user_)
    Job.objects.filter(pk=old.pk).update(created_at=month_start() - timedelta(seconds=1))
    assert send(owner_client).status_code == 302


def test_the_refusal_comes_back_in_the_htmx_form(owner_client, team, admin_user_):
    limit(team, team_limit=1)
    make_job(team, admin_user_)
    response = owner_client.post(
        reverse("enhance_new"),
        {
            "scale": 2,
            "details": 2,
            "modification": 2,
            "output_format": "webp",
            "images": [upload("p.png", image_bytes(40, 30))],
        },
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<form") and "jobs this month" in html


def test_the_usage_page_shows_the_limits(owner_client, team, admin_user_):
    limit(team, team_limit=100, member_limit=20)
    make_job(team, admin_user_)
    html = owner_client.get(reverse("usage")).content.decode()
    assert "1 of 100" in html and "1 of 20" in html
    assert f"start again on {resets_on()}" in html


def test_the_reset_date_is_the_first_of_next_month():
    tz = timezone.get_current_timezone()
    assert resets_on(datetime(2026, 11, 24, 12, tzinfo=tz)) == "1 December"
    assert resets_on(datetime(2026, 12, 31, 23, tzinfo=tz)) == "1 January"
    assert next_month_start(datetime(2026, 12, 31, 23, tzinfo=tz)).year == 2027
