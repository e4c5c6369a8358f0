"""The open pages' poll: nothing rendered when nothing changed, a few queries whatever the
history, and a removed member refused on the very next poll."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from enhancer.models import Batch, Job, Membership
from enhancer.teams import create_team
from tests.conftest import logged_in, make_user
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def poll(client, since, shown=(), scope="team"):
    return client.get(
        reverse("job_updates"),
        {"since": since.isoformat(), "scope": scope, "shown": [str(s) for s in shown]},
        headers={"HX-Request": "true"},
    )


def history(team, user, count: int) -> list[Job]:
    """`count` finished jobs, as bulk rows (no files: the poll never opens them)."""
    jobs = [
        Job(
            team=team,
            created_by=user,
            original_name=f"{n}.png",
            provider="builtin",
            original_width=30,
            original_height=20,
            status="succeeded",
        )
        for n in range(count)
    ]
    return Job.objects.bulk_create(jobs)


def test_nothing_changed_while_pending_is_an_empty_204(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    owner_client.get(reverse("dashboard"))

    response = poll(owner_client, timezone.now(), shown=[job.id])

    assert response.status_code == 204
    assert response.content == b""


def test_nothing_changed_and_nothing_pending_stops_polling_with_an_empty_286(
    owner_client, team, admin_user_
):
    job = make_job(team, admin_user_, status="succeeded")
    response = poll(owner_client, timezone.now(), shown=[job.id])
    assert response.status_code == 286
    assert response.content == b""


def test_a_change_is_still_rendered(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    since = timezone.now()
    job.advance("succeeded", allowed_from=Job.PENDING_STATUSES, checked_at=timezone.now())
    response = poll(owner_client, since, shown=[job.id])
    assert response.status_code == 286
    assert f'id="job-{job.id}"' in response.content.decode()


def test_a_result_still_to_be_checked_is_followed(owner_client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    since = timezone.now()
    job.advance("succeeded", allowed_from=Job.PENDING_STATUSES)  # checks not done yet
    response = poll(owner_client, since, shown=[job.id])
    assert response.status_code == 200  # shown, and followed until the checks' verdict
    assert f'id="job-{job.id}"' in response.content.decode()


@pytest.mark.parametrize("jobs", [10, 200])
def test_a_quiet_poll_makes_two_queries_whatever_the_history(
    owner_client, team, admin_user_, django_assert_num_queries, jobs
):
    pending = make_job(team, admin_user_, status="processing")
    history(team, admin_user_, jobs)
    owner_client.get(reverse("dashboard"))  # the session chooses the team
    since = timezone.now()
    # The session, and one query for the user, the membership and the jobs.
    with django_assert_num_queries(2):
        response = poll(owner_client, since, shown=[pending.id])
    assert response.status_code == 204


@pytest.mark.parametrize("scope", ["team", "shown", "batch"])
def test_a_removed_member_is_refused_on_the_very_next_poll(team, teammate, admin_user_, scope):
    batch = Batch.objects.create(team=team, created_by=admin_user_)
    job = make_job(team, admin_user_, status="processing", batch=batch)
    client = logged_in(teammate)
    client.get(reverse("dashboard"))
    scope_value = f"batch:{batch.id}" if scope == "batch" else scope
    since = timezone.now()
    assert poll(client, since, shown=[job.id], scope=scope_value).status_code == 204

    # Removed through another connection, as another web host would do it.
    Membership.objects.filter(team=team, user=teammate).delete()
    job.advance("succeeded", allowed_from=Job.PENDING_STATUSES)

    response = poll(client, since, shown=[job.id], scope=scope_value)
    assert response.status_code == 404
    assert str(job.id) not in response.content.decode()


def test_a_member_of_another_team_sees_nothing_of_this_one(team, admin_user_, outsider):
    job = make_job(team, admin_user_, status="processing")
    client = logged_in(outsider)
    client.get(reverse("dashboard"))
    since = timezone.now() - timezone.timedelta(hours=1)
    for scope in ("team", "shown", f"batch:{job.batch_id}", "batch:nonsense"):
        response = poll(client, since, shown=[job.id], scope=scope)
        assert str(job.id) not in response.content.decode()


def test_an_inactive_user_is_logged_out_on_the_next_poll(team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    client = logged_in(admin_user_)
    client.get(reverse("dashboard"))
    admin_user_.is_active = False
    admin_user_.save()
    response = poll(client, timezone.now(), shown=[job.id])
    assert response.status_code == 302  # to the login page


def test_a_password_change_elsewhere_ends_this_session(team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    client = logged_in(admin_user_)
    client.get(reverse("dashboard"))
    admin_user_.set_password("another long passphrase")
    admin_user_.save()
    response = poll(client, timezone.now(), shown=[job.id])
    assert response.status_code == 302


def test_a_new_user_without_a_chosen_team_polls_too(db):
    user = make_user("carol")
    team = create_team(user, "Carol's")
    job = make_job(team, user, status="processing")
    client = logged_in(user)  # no page visited: the session has no team yet
    assert poll(client, timezone.now(), shown=[job.id]).status_code == 204


def test_a_logged_out_poll_is_sent_to_log_in(client, team, admin_user_):
    job = make_job(team, admin_user_, status="processing")
    response = poll(client, timezone.now(), shown=[job.id])
    assert response.status_code == 302 and "/login" in response.url


def test_a_forged_session_hash_is_refused(team, admin_user_):
    from django.contrib.auth import HASH_SESSION_KEY

    job = make_job(team, admin_user_, status="processing")
    client = logged_in(admin_user_)
    client.get(reverse("dashboard"))
    session = client.session
    session[HASH_SESSION_KEY] = "0" * 64
    session.save()
    assert poll(client, timezone.now(), shown=[job.id]).status_code == 302
