"""The Usage page: API jobs per month and per member, success rate, mean time, megapixels.

Read from the ledger's monthly roll-up: what was sent, in the month it was sent, whatever
became of the jobs since.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from enhancer.models import ApiJob, Job, UsageMonth
from enhancer.models.usage import rebuild
from enhancer.quotas import month_start
from enhancer.usage import by_member, chart, monthly, nice_ceiling, parse_month
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def finished(team, user, status, *, duration=None, days_before_month=None, name="a.png") -> Job:
    """A job sent to the engine (its ledger row written) that then ended as `status`."""
    job = make_job(team, user, status="processing", name=name)
    ApiJob.record(job, f"art-{job.pk}")
    fields = {"duration": duration}
    if status == "succeeded":
        fields.update(result_width=60, result_height=40)
    job.advance(status, allowed_from=(Job.Status.PROCESSING,), **fields)
    if days_before_month is not None:
        # Sent last month: moved in the ledger, and the roll-up rebuilt as the migration does.
        sent_at = month_start() - timedelta(days=days_before_month)
        ApiJob.objects.filter(job=job).update(sent_at=sent_at)
        rebuild(ApiJob, UsageMonth)
    return job


@pytest.fixture
def history(team, admin_user_, teammate):
    # Last month: one done by bob.
    finished(team, teammate, "succeeded", duration=1.0, days_before_month=3)
    # This month: alice 2 done (2 s, 4 s) and 1 failed; bob 1 done (9 s), 1 canceled.
    finished(team, admin_user_, "succeeded", duration=2.0)
    finished(team, admin_user_, "succeeded", duration=4.0)
    finished(team, admin_user_, "failed")
    finished(team, teammate, "succeeded", duration=9.0)
    finished(team, teammate, "canceled")


def numbers(rows) -> list[tuple]:
    return [
        (r.label, r.jobs, r.succeeded, r.failed, r.pixels_in, r.pixels_out, r.seconds, r.timed)
        for r in rows
    ]


def test_monthly_numbers(team, history):
    rows = monthly(team)
    assert len(rows) == 12
    this, last = rows[-1], rows[-2]
    assert (this.jobs, this.succeeded, this.failed) == (5, 3, 1)
    assert this.success_rate == 75  # canceled jobs are neither success nor failure
    assert this.mean_duration == 5.0
    assert this.megapixels_in == pytest.approx(5 * 30 * 20 / 1e6)
    assert this.megapixels_out == pytest.approx(3 * 60 * 40 / 1e6)
    assert (last.jobs, last.success_rate, last.mean_duration) == (1, 100, 1.0)
    assert all(row.jobs == 0 and row.success_rate is None for row in rows[:-2])


def test_per_member_numbers(team, history):
    rows = {row.label: row for row in by_member(team, month_start())}
    assert set(rows) == {"alice", "bob"}
    assert (rows["alice"].jobs, rows["alice"].mean_duration) == (3, 3.0)
    assert rows["alice"].success_rate == pytest.approx(200 / 3)
    assert (rows["bob"].jobs, rows["bob"].success_rate) == (2, 100)


def test_the_page_has_a_table_and_a_server_drawn_chart(owner_client, history):
    response = owner_client.get(reverse("usage"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<svg viewBox="0 0 720 220" role="img"' in html
    assert html.count('class="bar-ok"') >= 2 and 'class="bar-failed"' in html
    assert "75%" in html and "5.0 s" in html
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


def test_recording_twice_counts_once(team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    ApiJob.record(job, "art-1")
    ApiJob.record(job, "art-1")  # a task run twice
    assert monthly(team)[-1].jobs == 1
    assert UsageMonth.objects.get().api_jobs == 1


def test_deleting_jobs_changes_nothing(team, history):
    before = numbers(monthly(team)), numbers(by_member(team, month_start()))
    Job.objects.filter(team=team).delete()
    assert (numbers(monthly(team)), numbers(by_member(team, month_start()))) == before


def test_the_roll_up_equals_a_rebuild_from_the_ledger(team, history, admin_user_):
    # A retry the API accepted: a second ledger row for one job; its outcome counts once.
    job = make_job(team, admin_user_, status="processing")
    ApiJob.record(job, "first-try")
    ApiJob.record(job, "second-try")
    job.advance(Job.Status.FAILED, allowed_from=(Job.Status.PROCESSING,))
    kept = numbers(monthly(team)), numbers(by_member(team, month_start()))
    assert kept[0][-1][1:4] == (7, 3, 2)
    rebuild(ApiJob, UsageMonth)
    assert (numbers(monthly(team)), numbers(by_member(team, month_start()))) == kept


def test_a_former_members_work_still_counts(team, history, teammate):
    get_user_model().objects.filter(pk=teammate.pk).delete()
    rows = {row.label: row for row in by_member(team, month_start())}
    assert set(rows) == {"alice", "A former member"}
    assert rows["A former member"].jobs == 2
    assert monthly(team)[-1].jobs == 5
    ApiJob.record(make_job(team, None, status="processing"), "art-orphan")
    assert {row.label: row.jobs for row in by_member(team, month_start())}["A former member"] == 3


def test_previews_count_as_api_jobs(team, admin_user_):
    from enhancer.models import SettingsPreview

    preview = SettingsPreview.objects.create(
        team=team,
        created_by=admin_user_,
        provider="cloud",
        scale=2,
        crop_side=512,
        width=800,
        height=600,
        seed=1,
    )
    ApiJob.record_preview(preview, "cell-1")
    row = monthly(team)[-1]
    assert (row.jobs, row.pixels_in) == (1, 512 * 512)
