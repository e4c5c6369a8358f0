"""Client approval by share link: approve or request changes once; the team sees it and can
reopen; the public form is CSRF-protected, rate-limited, and shows the comment escaped."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from enhancer.models import AuditEvent, Job, ShareLink
from tests.factories import make_job


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()


@pytest.fixture
def job(team, admin_user_) -> Job:
    return make_job(team, admin_user_, status="succeeded", name="poster.png")


def share(client, job, ask: bool = True) -> ShareLink:
    data = {"expires_in_days": 7, **({"ask_approval": "on"} if ask else {})}
    client.post(reverse("share_job", args=[job.id]), data)
    return ShareLink.objects.latest("created_at")


def answer(token: str, client: Client | None = None, **data):
    return (client or Client()).post(reverse("share_verdict", args=[token]), data)


def test_the_client_approves_once_and_the_team_sees_it(owner_client, job, admin_user_):
    link = share(owner_client, job)
    assert link.ask_approval
    page = Client().get(link.path).content.decode()
    assert "Approve" in page and "Request changes" in page

    response = answer(link.token, verdict="approved", comment="Lovely <b>work</b>", name="Dana")
    assert response.status_code == 302

    link.refresh_from_db()
    job.refresh_from_db()
    assert (link.verdict, link.verdict_name, job.approval) == ("approved", "Dana", "approved")
    # Once: a second answer changes nothing.
    answer(link.token, verdict="changes", comment="No wait")
    link.refresh_from_db()
    assert link.verdict == "approved" and link.verdict_comment == "Lovely <b>work</b>"

    public = Client().get(link.path).content.decode()
    assert "Approved" in public and "Lovely &lt;b&gt;work&lt;/b&gt;" in public
    assert "<b>work</b>" not in public
    detail = owner_client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "Approved" in detail and "Lovely &lt;b&gt;work&lt;/b&gt;" in detail
    assert "Reopen for approval" in detail
    dashboard = owner_client.get(reverse("dashboard")).content.decode()
    assert "Answers from clients" in dashboard and "Approved" in dashboard
    event = AuditEvent.objects.get(action=AuditEvent.Action.SHARE_APPROVED)
    assert "Dana" in event.detail
    activity = owner_client.get(reverse("team_activity")).content.decode()
    assert "Approved by the client" in activity and "&lt;b&gt;" in activity
    (message,) = mail.outbox
    assert message.to == [admin_user_.email] and "Dana approved" in message.subject


def test_changes_requested_then_reopened_by_the_team(owner_client, teammate_client, job):
    link = share(owner_client, job)
    answer(link.token, verdict="changes", comment="Brighter sky, please")
    job.refresh_from_db()
    assert job.approval == "changes"
    card = owner_client.get(reverse("dashboard")).content.decode()
    assert "Changes requested" in card

    teammate_client.post(reverse("share_reopen", args=[link.pk]))

    link.refresh_from_db()
    job.refresh_from_db()
    assert (link.verdict, job.approval) == ("", "")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SHARE_REOPENED).exists()
    answer(link.token, verdict="approved")
    link.refresh_from_db()
    assert link.verdict == "approved"


def test_a_link_without_approval_takes_no_verdict(owner_client, job):
    link = share(owner_client, job, ask=False)
    assert "Request changes" not in Client().get(link.path).content.decode()
    assert answer(link.token, verdict="approved").status_code == 404


def test_the_verdict_form_is_csrf_protected(owner_client, job):
    link = share(owner_client, job)
    strict = Client(enforce_csrf_checks=True)
    assert (
        strict.post(
            reverse("share_verdict", args=[link.token]), {"verdict": "approved"}
        ).status_code
        == 403
    )
    link.refresh_from_db()
    assert link.verdict == ""


def test_the_verdict_form_is_rate_limited(owner_client, job):
    link = share(owner_client, job)
    for _ in range(10):
        answer(link.token, verdict="bogus")
    response = answer(link.token, verdict="approved")
    assert response.status_code == 429
    assert "Too many answers" in response.content.decode()
    link.refresh_from_db()
    assert link.verdict == ""


def test_a_bad_answer_says_what_to_do(owner_client, job):
    link = share(owner_client, job)
    response = answer(link.token, verdict="maybe", comment="x" * 3000)
    assert response.status_code == 400
    assert "Choose Approve or Request changes" in response.content.decode()


def test_reopen_checks_team(owner_client, outsider_client, job):
    link = share(owner_client, job)
    answer(link.token, verdict="approved")
    assert outsider_client.post(reverse("share_reopen", args=[link.pk])).status_code == 404
    link.refresh_from_db()
    assert link.verdict == "approved"
