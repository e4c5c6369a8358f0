from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a much better passphrase 42"


def sign_up(client, username: str, email: str | None = None):
    return client.post(
        reverse("signup"),
        {
            "username": username,
            "email": email or f"{username}@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )


def test_first_account_becomes_site_administrator(client):
    page = client.get(reverse("signup"))
    assert "first account becomes the site administrator" in page.content.decode()

    response = sign_up(client, "first")

    assert response.status_code == 302
    first = get_user_model().objects.get(username="first")
    assert first.is_staff and first.is_superuser
    assert client.get(reverse("admin:index")).status_code == 200


def test_later_accounts_are_not_administrators(client):
    make_user("existing")
    assert "first account" not in client.get(reverse("signup")).content.decode()

    sign_up(client, "second")

    second = get_user_model().objects.get(username="second")
    assert not second.is_staff and not second.is_superuser


def test_new_user_without_team_is_led_to_create_one(client):
    sign_up(client, "newbie")

    response = client.get(reverse("dashboard"))

    assert response.status_code == 302
    assert response.url == reverse("team_new")
    page = client.get(reverse("team_new")).content.decode()
    assert "invitation link" in page


def test_signup_refuses_a_taken_email(client):
    make_user("taken")
    response = sign_up(client, "another", email="TAKEN@example.com")
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_signup_follows_a_safe_next_and_ignores_an_offsite_one(client):
    response = client.post(
        reverse("signup") + "?next=//evil.example/",
        {
            "username": "carol",
            "email": "carol@example.com",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.url == reverse("dashboard")


def test_login_and_logout(client):
    make_user("dave")
    response = client.post(reverse("login"), {"username": "dave", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("team_new")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("team_new")).status_code == 302


def test_failed_logins_are_throttled_then_cool_off(client, settings):
    make_user("erin")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "erin", "password": "wrong"})

    locked = client.post(reverse("login"), {"username": "erin", "password": PASSWORD})

    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()

    from axes.models import AccessAttempt

    # After the cool-off the same person may log in again: nothing is locked for good.
    settings.AXES_COOLOFF_TIME = 0.0001
    AccessAttempt.objects.update(attempt_time="2000-01-01T00:00:00Z")
    ok = client.post(reverse("login"), {"username": "erin", "password": PASSWORD})
    assert ok.status_code == 302


def test_password_change(client):
    user = make_user("fay")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_reset_by_email(client):
    make_user("gus")
    response = client.post(reverse("password_reset"), {"email": "gus@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]

    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert get_user_model().objects.get(username="gus").check_password(NEW_PASSWORD)
