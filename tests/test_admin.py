"""Django admin: every model there, secrets write-only, job actions, a read-only audit log."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from enhancer.intake import prepare_job
from enhancer.models import AuditEvent, Job, Membership, ShareLink, Team
from tests.conftest import logged_in, make_user
from tests.factories import make_job

pytestmark = pytest.mark.django_db

KEY = "tk_live_ADMIN_SECRET_value_c0de"


@pytest.fixture
def site_admin():
    return logged_in(make_user("root", is_staff=True, is_superuser=True))


@pytest.fixture
def keyed(team) -> Team:
    team.set_api_key(KEY)
    team.webhook_secret = "whsec_ADMIN_SECRET"
    team.save()
    return team


def change_url(obj) -> str:
    return reverse(f"admin:enhancer_{obj._meta.model_name}_change", args=[obj.pk])


def test_every_model_is_registered_with_a_useful_list():
    for model in apps.get_app_config("enhancer").get_models():
        model_admin = admin.site._registry.get(model)
        assert model_admin is not None, model
        assert model_admin.list_display != ("__str__",), model
        assert model_admin.search_fields, model
        assert model_admin.list_select_related, model


def test_every_changelist_and_change_page_opens(site_admin, keyed, admin_user_, teammate):
    job = make_job(keyed, admin_user_, status="succeeded")
    ShareLink.create(created_by=admin_user_, job=job)
    AuditEvent.record(keyed, admin_user_, AuditEvent.Action.KEY_SET, "••••c0de")
    for model in apps.get_app_config("enhancer").get_models():
        name = model._meta.model_name
        response = site_admin.get(reverse(f"admin:enhancer_{name}_changelist"))
        assert response.status_code == 200, name
        obj = model.objects.first()
        if obj is not None:
            assert site_admin.get(change_url(obj)).status_code == 200, name


def team_form(team: Team, **changes) -> dict:
    data = {
        "name": team.name,
        "created_by": team.created_by_id or "",
        "provider": team.provider,
        "api_base_url": "",
        "api_key_invalid_at_0": "",
        "api_key_invalid_at_1": "",
        "monthly_job_limit": "",
        "member_monthly_job_limit": "",
        "new_api_key": "",
        "new_webhook_secret": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_secrets_are_write_only_in_admin(site_admin, keyed):
    for url in (reverse("admin:enhancer_team_changelist"), change_url(keyed)):
        html = site_admin.get(url).content.decode()
        assert KEY not in html and "whsec_ADMIN_SECRET" not in html
        assert "••••c0de" in html


def test_an_empty_secret_field_keeps_the_key_and_a_new_one_replaces_it(site_admin, keyed):
    response = site_admin.post(change_url(keyed), team_form(keyed, name="Renamed"))
    assert response.status_code == 302, response.content.decode()[:2000]
    keyed.refresh_from_db()
    assert (keyed.name, keyed.api_key) == ("Renamed", KEY)

    site_admin.post(change_url(keyed), team_form(keyed, new_api_key="tk_live_replacement_9999"))
    keyed.refresh_from_db()
    assert keyed.api_key == "tk_live_replacement_9999" and keyed.api_key_hint == "9999"
    event = AuditEvent.objects.get(action="key_set")
    assert event.actor_name == "root" and "Django admin" in event.detail

    site_admin.post(change_url(keyed), team_form(keyed, remove_api_key="on"))
    keyed.refresh_from_db()
    assert keyed.api_key == ""
    assert AuditEvent.objects.filter(action="key_removed").exists()


def test_role_changes_in_admin_are_logged(site_admin, team, teammate):
    membership = Membership.objects.get(user=teammate)
    response = site_admin.post(
        change_url(membership), {"user": teammate.pk, "team": team.pk, "role": "admin"}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="role_changed").detail.startswith("bob as Admin")


def test_job_state_is_read_only(site_admin, team, admin_user_):
    job = make_job(team, admin_user_, status="failed")
    html = site_admin.get(change_url(job)).content.decode()
    assert 'name="status"' not in html and 'name="title"' in html


def run_action(client, action: str, jobs: list[Job]):
    return client.post(
        reverse("admin:enhancer_job_changelist"),
        {"action": action, "_selected_action": [str(job.pk) for job in jobs]},
        follow=True,
    )


def test_refresh_status_asks_the_api_about_pending_jobs(site_admin, team, admin_user_):
    busy = make_job(team, admin_user_, status="processing")
    Job.objects.filter(pk=busy.pk).update(upstream_id="art-1")
    done = make_job(team, admin_user_, status="succeeded")
    response = run_action(site_admin, "refresh_status", [busy, done])
    assert "Asked the API about 1 job(s). 1 were skipped" in response.content.decode()
    task = DBTaskResult.objects.get(task_path="enhancer.tasks.check_job")
    assert task.args_kwargs["args"] == [str(busy.pk)]


def test_retry_creates_a_new_job_with_a_copy_of_the_original(
    site_admin, team, admin_user_, django_capture_on_commit_callbacks
):
    failed = make_job(team, admin_user_, status="failed", name="retry-me.png")
    Job.objects.filter(pk=failed.pk).update(scale=4, details=3, seed=77)
    failed.refresh_from_db()
    running = make_job(team, admin_user_, status="processing")

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(site_admin, "retry", [failed, running])

    assert "Started 1 new job(s)" in response.content.decode()
    new = Job.objects.exclude(pk__in=[failed.pk, running.pk]).get()
    # The worker plans it (tiles, Enlarge, final size) from the checked copy, then sends it.
    assert DBTaskResult.objects.filter(task_path="enhancer.intake.prepare_job").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        prepare_job.call(str(new.id))
    new.refresh_from_db()
    assert (new.status, new.original_name, new.scale, new.details, new.seed) == (
        "submitting",
        "retry-me.png",
        4,
        3,
        77,
    )
    assert new.original.name != failed.original.name
    with new.original.open("rb") as copy, failed.original.open("rb") as source:
        assert copy.read() == source.read()
    failed.refresh_from_db()
    assert failed.status == "failed"  # statuses only move forward
    assert DBTaskResult.objects.filter(task_path="enhancer.tasks.submit_job").count() == 1


def test_cancel_moves_only_pending_jobs(site_admin, team, admin_user_):
    busy = make_job(team, admin_user_, status="processing")
    done = make_job(team, admin_user_, status="succeeded")
    run_action(site_admin, "cancel", [busy, done])
    busy.refresh_from_db()
    done.refresh_from_db()
    assert busy.status == "canceled" and "Django admin" in busy.error_message
    assert done.status == "succeeded"


def test_the_audit_log_is_read_only(site_admin, team, admin_user_):
    event = AuditEvent.record(team, admin_user_, AuditEvent.Action.MEMBER_ADDED, "bob")
    html = site_admin.get(change_url(event)).content.decode()
    assert "bob" in html and 'name="detail"' not in html
    response = site_admin.post(change_url(event), {"detail": "rewritten"})
    assert response.status_code == 403
    assert site_admin.get(reverse("admin:enhancer_auditevent_add")).status_code == 403
    delete = reverse("admin:enhancer_auditevent_delete", args=[event.pk])
    assert site_admin.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.detail == "bob"


def test_share_tokens_are_not_shown_in_admin(site_admin, team, admin_user_):
    link = ShareLink.create(
        created_by=admin_user_, job=make_job(team, admin_user_, status="succeeded")
    )
    for url in (reverse("admin:enhancer_sharelink_changelist"), change_url(link)):
        assert link.token not in site_admin.get(url).content.decode()


def test_team_admins_see_their_activity(owner_client, teammate_client, team, teammate):
    membership = Membership.objects.get(user=teammate)
    owner_client.post(reverse("member_role", args=[membership.pk]), {"role": "admin"})
    html = owner_client.get(reverse("team_activity")).content.decode()
    assert "Role changed" in html and "bob: Member → Admin" in html and "alice" in html
    # bob is an admin now, so he sees it too; a plain member would get a 404 (test_team_settings).
    assert teammate_client.get(reverse("team_activity")).status_code == 200


def test_activity_is_per_team(outsider_client, owner_client, teammate, team):
    membership = Membership.objects.get(user=teammate)
    owner_client.post(reverse("member_role", args=[membership.pk]), {"role": "admin"})
    assert "bob" not in outsider_client.get(reverse("team_activity")).content.decode()
