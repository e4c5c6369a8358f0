"""Shared fixtures: a team with its admin and a teammate, and an outsider in another team."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from enhancer.models import Membership, Team
from enhancer.teams import create_team

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # The manifest storage needs collectstatic; tests use the plain one. Media goes to a
    # fresh directory per test so files from one test never satisfy another.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_user(username: str, **fields):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **fields
    )


@pytest.fixture
def admin_user_(db):
    """The team admin (not a site administrator)."""
    return make_user("alice")


@pytest.fixture
def team(admin_user_) -> Team:
    return create_team(admin_user_, "Studio Alice")


@pytest.fixture
def teammate(team):
    user = make_user("bob")
    Membership.objects.create(team=team, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def outsider(db):
    user = make_user("mallory")
    create_team(user, "Elsewhere")
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="enhancer.auth_backend.ModelBackend")
    return client


@pytest.fixture
def owner_client(admin_user_, team) -> Client:
    return logged_in(admin_user_)


@pytest.fixture
def teammate_client(teammate) -> Client:
    return logged_in(teammate)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return logged_in(outsider)


# --- Background tasks and the live engine -----------------------------------------------------


def run_tasks(
    *, include_deferred: bool = True, rounds: int = 10, queues: list[str] | None = None
) -> int:
    """Work the task queue in this thread until it is empty, as `db_worker` would.

    With include_deferred, tasks scheduled for later (polls, retries) are made due at once, one
    round at a time, so a test never sleeps. Returns how many rounds had work.
    """
    from django.utils import timezone
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worked = 0
    for _ in range(rounds):
        waiting = DBTaskResult.objects.filter(status="READY")
        if queues:
            waiting = waiting.filter(queue_name__in=queues)
        if include_deferred:
            waiting.filter(run_after__gt=timezone.now()).update(run_after=timezone.now())
        if not waiting.filter(pk__in=DBTaskResult.objects.ready()).exists():
            break
        Worker(
            queue_names=queues or ["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="tests",
            excluded_queue_names=[],
        ).run()
        worked += 1
    return worked


@pytest.fixture
def site(live_server, settings):
    """This site served for real on loopback, with the built-in engine, as `make run` has it."""
    from urllib.parse import urlsplit

    settings.SITE_URL = live_server.url
    settings.DETAILER_ENGINE_URL = f"{live_server.url}/engine"
    settings.DETAILER_ENGINE_IMAGE_HOSTS = [urlsplit(live_server.url).netloc]
    settings.DETAILER_ENGINE_WEBHOOK_HOSTS = [urlsplit(live_server.url).netloc]
    return live_server


@pytest.fixture
def engine_key(transactional_db):
    from enhancer.engine.auth import default_key

    return default_key()


from tests.s3_server import s3_bucket, s3_endpoint  # noqa: E402,F401  (fixtures)
from tests.scripted_server import scripted_server  # noqa: E402,F401  (a fixture)
