"""The Usage page: jobs per month and per member, success rate, median time, megapixels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from enhancer.models import Job
from enhancer.quotas import month_start
from enhancer.usage import by_member, chart, monthly, nice_ceiling, parse_month
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def finished(team, user, status, *, duration=None, days_before_month=None, name="a.png") -> Job:
    job = make_job(team, user, status=status, name=name)
    fields = {"duration": duration}
    if days_before_month is not None:
        fields["created_at"] = month_start() - timedelta(days=days_before_month)
    Job.objects.filter(pk=job.pk).update(**fields)
    return job


@pytest.fixture
def history(team, admin_user_, teammate):
    # This month: alice 2 done (2 s, 4 s) and 1 failed; bob 1 done (9 s), 1 canceled.
    finished(team, admin_user_, "succeeded", duration=2.0)
    finished(team, admin_user_, "succeeded", duration=4.0)
    finished(team, admin_user_, "failed")
    finished(team, teammate, "succeeded", duration=9.0)
    finished(team, teammate, "canceled")
    # Last month: one done by bob.
    finished(team, teammate, "succeeded", duration=1.0, days_before_month=3)


def test_monthly_numbers(team, history):
    rows = monthly(team)
    assert len(rows) == 12
    this, last = rows[-1], rows[-2]
    assert (this.jobs, this.succeeded, this.failed) == (5, 3, 1)
    assert this.success_rate == 75  # canceled jobs are neither success nor failure
    assert this.median_duration == 4.0
    assert this.megapixels_in == pytest.approx(5 * 30 * 20 / 1e6)
    assert this.megapixels_out == pytest.approx(3 * 60 * 40 / 1e6)
    assert (last.jobs, last.success_rate, last.median_duration) == (1, 100, 1.0)
    assert all(row.jobs == 0 and row.success_rate is None for row in rows[:-2])


def test_per_member_numbers(team, history):
    rows = {row.label: row for row in by_member(team, month_start())}
    assert set(rows) == {"alice", "bob"}
    assert (rows["alice"].jobs, rows["alice"].median_duration) == (3, 3.0)
    assert rows["alice"].success_rate == pytest.approx(200 / 3)
    assert (rows["bob"].jobs, rows["bob"].success_rate) == (2, 100)


def test_the_page_has_a_table_and_a_server_drawn_chart(owner_client, history):
    response = owner_client.get(reverse("usage"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg viewBox="0 0 720 220" role="img"' in html
    assert html.count('class="bar-ok"') >= 2 and 'class="bar-failed"' in html
    assert "75%" in html and "4.0 s" in html
    assert '<th scope="row">alice</th>' in html and '<th scope="row">bob</th>' in html
    assert "cdn" not in html.lower() and "chart.js" not in html.lower()


def test_a_month_can_be_picked_for_the_member_table(owner_client, history):
    last = (month_start() - timedelta(days=3)).strftime("%Y-%m")
    html = owner_client.get(reverse("usage"), {"month": last}).content.decode()
    assert '<th scope="row">bob</th>' in html and '<th scope="row">alice</th>' not in html


def test_a_member_sees_the_team_usage(teammate_client, history):
    assert '<th scope="row">alice</th>' in teammate_client.get(reverse("usage")).content.decode()


def test_usage_is_per_team(outsider_client, history):
    html = outsider_client.get(reverse("usage")).content.decode()
    assert "alice" not in html and "Nobody sent an image" in html


def test_usage_needs_login(client):
    assert client.get(reverse("usage")).status_code == 302


def test_a_bad_month_falls_back_to_this_month():
    assert parse_month("9999-99") == month_start()
    assert parse_month("nonsense") == month_start()
    assert parse_month("2026-02").month == 2


def test_the_chart_scale_is_round():
    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 11, 60, 101)] == [1, 1, 5, 10, 20, 100, 200]
    assert chart([])["bars"] == []
