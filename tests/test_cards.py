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
