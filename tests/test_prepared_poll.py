"""The poll once PostgreSQL keeps its statements prepared (enhancer/prepared.py).

psycopg prepares a statement on its sixth run on a connection, and PostgreSQL may then plan it
once for any values (a generic plan). Here every plan is generic from the first run, and the
poll must still see each change, each pending job and each removed member, for every scope.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from enhancer.models import Batch, Job, Membership
from enhancer.teams import create_team
from tests.conftest import logged_in, make_user
from tests.factories import make_job
from tests.test_poll import poll

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared plans"),
]

# psycopg's prepare_threshold (settings) is 5: runs beyond it are prepared.
RUNS_TO_PREPARE = 7


@pytest.fixture
def generic_plans():
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET plan_cache_mode")


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("scope", ["team", "shown", "batch"])
def test_a_prepared_poll_sees_changes_pending_jobs_and_a_removed_member(
    team, teammate, admin_user_, scope, generic_plans
):
    batch = Batch.objects.create(team=team, created_by=admin_user_)
    job = make_job(team, admin_user_, status="processing", batch=batch)
    scope_value = f"batch:{batch.id}" if scope == "batch" else scope
    client = logged_in(teammate)
    client.get(reverse("dashboard"))
    since = timezone.now()

    for _ in range(RUNS_TO_PREPARE):
        assert poll(client, since, shown=[job.id], scope=scope_value).status_code == 204
    assert any("j.updated_at" in statement for statement in prepared_statements())

    job.advance("succeeded", allowed_from=Job.PENDING_STATUSES)  # checks still to come
    response = poll(client, since, shown=[job.id], scope=scope_value)
    assert response.status_code == 200
    assert f'id="job-{job.id}"' in response.content.decode()

    later = timezone.now()
    Job.objects.filter(pk=job.pk).update(checked_at=later)
    assert poll(client, timezone.now(), shown=[job.id], scope=scope_value).status_code == 286

    Membership.objects.filter(team=team, user=teammate).delete()
    assert poll(client, since, shown=[job.id], scope=scope_value).status_code == 404


def test_statements_are_not_prepared_when_turned_off(team, admin_user_, settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    job = make_job(team, admin_user_, status="processing")
    client = logged_in(admin_user_)
    client.get(reverse("dashboard"))
    before = prepared_statements()
    for _ in range(RUNS_TO_PREPARE):
        assert poll(client, timezone.now(), shown=[job.id]).status_code == 204
    assert prepared_statements() == before


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_closed_is_replaced_before_the_poll_uses_it(settings):
    """The prepared statements' cursor runs Django's health check first, as its own does:
    after a PostgreSQL restart the next request gets a new connection, not an error."""
    settings.DATABASE_HEALTH_CHECK_IDLE = 0  # checked before every request
    user = make_user("dana")
    team = create_team(user, "Dana's")
    job = make_job(team, user, status="processing")
    client = logged_in(user)
    client.get(reverse("dashboard"))
    assert poll(client, timezone.now(), shown=[job.id]).status_code == 204
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    # What Django does when a request starts (its test client leaves it out).
    connection.health_check_done = False
    assert poll(client, timezone.now(), shown=[job.id]).status_code == 204
