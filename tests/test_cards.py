"""Remembered job cards are always the cards that would be rendered now."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from enhancer.models import Job
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def card_of(client, job) -> str:
    html = client.get(reverse("dashboard")).content.decode()
    start = html.index(f'id="job-{job.id}"')
    return html[start : html.index("</li>", start)]


def test_a_finished_card_shows_each_change(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="failed", name="first.png")
    Job.objects.filter(pk=job.pk).update(error_message="The engine gave up.")
    assert "first.png" in card_of(owner_client, job)
    assert "The engine gave up." in card_of(owner_client, job)  # the remembered one

    # Changes that do not go through save() (no new updated_at) still show.
    Job.objects.filter(pk=job.pk).update(title="Renamed", error_message="Another reason.")
    card = card_of(owner_client, job)
    assert "Renamed" in card and "Another reason." in card and "first.png" not in card

    get_user_model().objects.filter(pk=admin_user_.pk).update(username="alicia")
    assert "alicia ·" in card_of(owner_client, job)


def test_a_finished_card_ages(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="succeeded")
    assert "now" in card_of(owner_client, job) or "seconds ago" in card_of(owner_client, job)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timezone.timedelta(days=3))
    assert "3\xa0days ago" in card_of(owner_client, job)


def test_a_running_card_is_always_rendered(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    assert "Working" in card_of(owner_client, job)
    Job.objects.filter(pk=job.pk).update(retry_note="Waiting for the engine.")
    assert "Waiting for the engine." in card_of(owner_client, job)


def test_a_running_card_shows_its_elapsed_seconds(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timezone.timedelta(seconds=40))
    assert ">40 s</time>" in card_of(owner_client, job) or ">41 s</time>" in card_of(
        owner_client, job
    )
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timezone.timedelta(seconds=90))
    card = card_of(owner_client, job)  # remembered per second shown, never a stale one
    assert ">90 s</time>" in card or ">91 s</time>" in card
    Job.objects.filter(pk=job.pk).update(retry_note="Trying again in a minute.")
    assert "Trying again in a minute." in card_of(owner_client, job)


def test_the_dashboard_list_follows_additions_and_deletions(owner_client, team, admin_user_):
    from enhancer.views.pages import DASHBOARD_SIZE

    jobs = [make_job(team, admin_user_, status="succeeded", name=f"n{i}.png") for i in range(25)]
    Job.objects.filter(pk=jobs[-1].pk).update(
        created_at=timezone.now() - timezone.timedelta(days=9)
    )
    oldest = jobs[-1]
    page = owner_client.get(reverse("dashboard")).content.decode()
    assert page.count('class="job-card') == DASHBOARD_SIZE and f"job-{oldest.id}" not in page

    jobs[0].delete()  # the oldest moves up into the newest 24
    page = owner_client.get(reverse("dashboard")).content.decode()
    assert f"job-{jobs[0].id}" not in page and f"job-{oldest.id}" in page

    newest = make_job(team, admin_user_, status="failed", name="latest.png")
    page = owner_client.get(reverse("dashboard")).content.decode()
    assert f"job-{newest.id}" in page and f"job-{oldest.id}" not in page


def test_the_dashboard_cards_are_those_of_the_orm(owner_client, team, admin_user_):
    """The list is made from the rows of one plain statement: each card is the very card the
    queryset's job renders."""
    from enhancer.cards import render_card

    make_job(team, admin_user_, status="succeeded", name="done.png", result_width=60)
    make_job(team, admin_user_, status="failed", name="bad.png", error_message="No.")
    make_job(team, None, status="processing", name="nobody.png", retry_note="Soon.")
    page = owner_client.get(reverse("dashboard")).content.decode()
    for job in Job.objects.filter(team=team).for_cards():
        assert render_card(job) in page
