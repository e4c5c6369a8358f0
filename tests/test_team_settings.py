"""Team settings: admins only, keys write-only, the connection test in plain words."""

from __future__ import annotations

import socket

import pytest
from django.urls import reverse

from enhancer.models import AuditEvent, Team
from tests.conftest import logged_in, make_user
from tests.factories import make_job

pytestmark = pytest.mark.django_db

KEY = "tk_live_SECRET_never_shown_9f3a"
OTHER_KEY = "tk_live_OTHER_secret_value_77b1"
WEBHOOK_SECRET = "whsec_SECRET_never_shown_4242"
ADMIN_ONLY = [
    ("get", "team_settings"),
    ("post", "team_settings"),
    ("post", "team_test_connection"),
    ("post", "team_key_remove"),
    ("post", "team_webhook_secret_remove"),
    ("get", "team_activity"),
]


def settings_data(team: Team, **changes) -> dict:
    data = {
        "name": team.name,
        "provider": team.provider,
        "api_key": "",
        "webhook_secret": "",
        "monthly_job_limit": "",
        "member_monthly_job_limit": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def with_key(team) -> Team:
    team.provider = Team.Provider.CLOUD
    team.set_api_key(KEY)
    team.webhook_secret = WEBHOOK_SECRET
    team.save()
    return team


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens here any more


# --- Who may open it --------------------------------------------------------------------------


def test_a_member_cannot_open_team_settings(teammate_client, with_key):
    for method, name in ADMIN_ONLY:
        response = getattr(teammate_client, method)(reverse(name), settings_data(with_key))
        assert response.status_code == 404, name
    with_key.refresh_from_db()
    assert with_key.api_key == KEY  # the member's POSTs changed nothing


def test_someone_without_a_team_gets_404(client, db):
    client = logged_in(make_user("nobody"))
    for method, name in ADMIN_ONLY:
        assert getattr(client, method)(reverse(name)).status_code == 404, name


def test_an_outsider_only_ever_reaches_their_own_team(outsider_client, with_key):
    page = outsider_client.get(reverse("team_settings")).content.decode()
    assert "Elsewhere" in page
    assert "Studio Alice" not in page and "9f3a" not in page
    outsider_client.post(reverse("team_key_remove"))
    with_key.refresh_from_db()
    assert with_key.api_key == KEY


def test_settings_need_login(client, team):
    response = client.get(reverse("team_settings"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_only_admins_see_the_settings_link(owner_client, teammate_client):
    assert "Team settings" in owner_client.get(reverse("dashboard")).content.decode()
    assert "Team settings" not in teammate_client.get(reverse("dashboard")).content.decode()


# --- Keys -------------------------------------------------------------------------------------


def test_a_new_team_starts_on_the_built_in_engine(team):
    assert team.provider == Team.Provider.BUILTIN and team.api_key == ""


def test_saving_a_key_shows_only_its_last_four_characters(owner_client, team):
    response = owner_client.post(
        reverse("team_settings"), settings_data(team, provider="cloud", api_key=f"  {KEY} ")
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.api_key == KEY and team.uses_cloud
    page = owner_client.get(reverse("team_settings")).content.decode()
    assert "••••9f3a" in page
    assert KEY not in page
    event = AuditEvent.objects.get(action="key_set")
    assert (event.team, event.actor_name, event.detail) == (team, "alice", "••••9f3a")


def test_an_empty_key_field_leaves_the_key_unchanged(owner_client, with_key):
    owner_client.post(reverse("team_settings"), settings_data(with_key, name="Renamed"))
    with_key.refresh_from_db()
    assert (with_key.name, with_key.api_key, with_key.webhook_secret) == (
        "Renamed",
        KEY,
        WEBHOOK_SECRET,
    )
    assert not AuditEvent.objects.filter(action="key_set").exists()


def test_a_key_can_be_replaced_and_removed(owner_client, with_key):
    owner_client.post(reverse("team_settings"), settings_data(with_key, api_key=OTHER_KEY))
    with_key.refresh_from_db()
    assert with_key.api_key == OTHER_KEY and with_key.api_key_hint == "77b1"

    owner_client.post(reverse("team_key_remove"))
    with_key.refresh_from_db()
    assert with_key.api_key == "" and with_key.api_key_hint == ""
    assert list(
        AuditEvent.objects.filter(team=with_key).values_list("action", flat=True).reverse()
    ) == ["key_set", "key_removed"]


def test_the_webhook_secret_is_write_only_and_removable(owner_client, team):
    owner_client.post(reverse("team_settings"), settings_data(team, webhook_secret=WEBHOOK_SECRET))
    team.refresh_from_db()
    assert team.webhook_secret == WEBHOOK_SECRET
    page = owner_client.get(reverse("team_settings")).content.decode()
    assert WEBHOOK_SECRET not in page and "A secret is saved" in page

    owner_client.post(reverse("team_webhook_secret_remove"))
    team.refresh_from_db()
    assert team.webhook_secret == ""
    assert AuditEvent.objects.filter(action="webhook_secret_removed").exists()


def test_the_cloud_needs_a_key(owner_client, team):
    response = owner_client.post(reverse("team_settings"), settings_data(team, provider="cloud"))
    assert response.status_code == 200
    assert "Enter the team&#x27;s API key" in response.content.decode()
    team.refresh_from_db()
    assert team.provider == "builtin"


def test_a_form_with_errors_never_echoes_the_typed_key(owner_client, team):
    response = owner_client.post(
        reverse("team_settings"), settings_data(team, provider="cloud", api_key=KEY, name=" ")
    )
    assert response.status_code == 200
    assert KEY not in response.content.decode()


def test_a_key_with_spaces_is_refused(owner_client, team):
    response = owner_client.post(
        reverse("team_settings"), settings_data(team, provider="cloud", api_key="two words")
    )
    assert "does not look like an API key" in response.content.decode()


def test_quotas_are_saved_and_logged(owner_client, team):
    owner_client.post(
        reverse("team_settings"),
        settings_data(team, monthly_job_limit="100", member_monthly_job_limit="20"),
    )
    team.refresh_from_db()
    assert (team.monthly_job_limit, team.member_monthly_job_limit) == (100, 20)
    assert AuditEvent.objects.get(action="quota_changed").detail == "Team: 100, each member: 20"


# --- Test connection --------------------------------------------------------------------------


def connection_check(owner_client, with_key, api_key="") -> str:
    response = owner_client.post(
        reverse("team_test_connection"),
        {"provider": "cloud", "api_key": api_key},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def api(with_key, scripted_server) -> Team:
    with_key.api_base_url = scripted_server.url
    with_key.save()
    return with_key


def test_connection_works(owner_client, api, scripted_server):
    scripted_server.script("GET", "/v2/artworks", (200, []))
    html = connection_check(owner_client, api)
    assert "It works" in html
    request = scripted_server.requests[0]
    assert request.query == {"offset": ["0"], "limit": ["1"]}
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in html


def test_connection_tries_a_typed_key_before_it_is_saved(owner_client, api, scripted_server):
    scripted_server.script("GET", "/v2/artworks", (200, []))
    html = connection_check(owner_client, api, api_key=OTHER_KEY)
    assert "It works" in html and OTHER_KEY not in html
    assert scripted_server.requests[0].headers["Authorization"] == f"Bearer {OTHER_KEY}"
    api.refresh_from_db()
    assert api.api_key == KEY  # testing does not save


def test_connection_reports_a_refused_key_and_marks_the_saved_one(
    owner_client, teammate_client, api, scripted_server
):
    scripted_server.script(
        "GET", "/v2/artworks", (401, {"message": "Invalid API key", "statusCode": 401})
    )
    assert "Key refused" in connection_check(owner_client, api)
    api.refresh_from_db()
    assert api.api_key_invalid_at is not None
    assert "Refused" in owner_client.get(reverse("team_settings")).content.decode()
    # Members who send images are told before their jobs fail.
    new_page = teammate_client.get(reverse("enhance_new")).content.decode()
    assert "The team's API key was refused" in new_page
    assert "until a team admin saves a working key" in new_page

    # A key that works again clears the mark.
    scripted_server.script("GET", "/v2/artworks", (200, []))
    assert "It works" in connection_check(owner_client, api)
    api.refresh_from_db()
    assert api.api_key_invalid_at is None


def test_connection_reports_a_key_without_permission(owner_client, api, scripted_server):
    scripted_server.script(
        "GET", "/v2/artworks", (403, {"message": "Insufficient scope", "statusCode": 403})
    )
    assert "No permission" in connection_check(owner_client, api)
    api.refresh_from_db()
    assert api.api_key_invalid_at is None  # the key is known, just not allowed


def test_connection_reports_an_unreachable_api(owner_client, with_key):
    with_key.api_base_url = closed_port_url()
    with_key.save()
    html = connection_check(owner_client, with_key)
    assert "Unreachable" in html and with_key.api_base_url in html


def test_connection_without_any_key_asks_for_one(owner_client, team):
    assert "Enter an API key first" in connection_check(owner_client, team)


def test_connection_works_without_javascript(owner_client, api, scripted_server):
    scripted_server.script("GET", "/v2/artworks", (200, []))
    response = owner_client.post(reverse("team_test_connection"), {"provider": "cloud"})
    page = response.content.decode()
    assert response.status_code == 200 and "It works" in page and "<form" in page


def test_a_refused_key_during_work_is_shown_on_the_settings_page(owner_client, with_key):
    from enhancer.tasks import mark_key_invalid

    mark_key_invalid(with_key)
    page = owner_client.get(reverse("team_settings")).content.decode()
    assert "The cloud refused this key on" in page


# --- What the page explains -------------------------------------------------------------------


def test_the_cloud_on_a_private_address_explains_polling(owner_client, with_key, settings):
    settings.SITE_URL = "http://192.168.1.20:8000"
    page = owner_client.get(reverse("team_settings")).content.decode()
    assert "results arrive by polling" in page
    assert "must also download each uploaded image from this site" in page

    settings.SITE_URL = "https://detailer.example.com"
    page = owner_client.get(reverse("team_settings")).content.decode()
    assert "results arrive by polling" not in page


# --- The key never appears anywhere -----------------------------------------------------------


def test_no_page_partial_or_admin_page_ever_contains_a_saved_key(
    client, owner_client, teammate_client, with_key, admin_user_, scripted_server
):
    with_key.api_base_url = scripted_server.url
    with_key.save()
    scripted_server.script("GET", "/v2/artworks", (200, []))
    job = make_job(with_key, admin_user_, status="succeeded")
    owner_client.post(reverse("share_job", args=[job.id]))
    pages = [
        reverse(name)
        for name in (
            "dashboard",
            "enhance_new",
            "gallery",
            "usage",
            "team_members",
            "team_list",
        )
    ] + [reverse("job_detail", args=[job.id]), f"{reverse('job_updates')}?scope=team"]
    admin_pages = [reverse("team_settings"), reverse("team_activity")]
    responses = [owner_client.get(url) for url in pages + admin_pages]
    responses += [teammate_client.get(url) for url in pages]
    responses.append(connection_response(owner_client))
    responses.append(owner_client.get(reverse("gallery"), headers={"HX-Request": "true"}))

    site_admin = make_user("root", is_staff=True, is_superuser=True)
    admin_client = logged_in(site_admin)
    for url in (
        reverse("admin:enhancer_team_changelist"),
        reverse("admin:enhancer_team_change", args=[with_key.pk]),
        reverse("admin:enhancer_auditevent_changelist"),
        reverse("admin:enhancer_membership_changelist"),
        reverse("admin:enhancer_sharelink_changelist"),
    ):
        responses.append(admin_client.get(url))

    for response in responses:
        assert response.status_code in (200, 286), response
        body = response.content.decode()
        assert KEY not in body, response.request["PATH_INFO"]
        assert WEBHOOK_SECRET not in body, response.request["PATH_INFO"]


def connection_response(owner_client):
    return owner_client.post(
        reverse("team_test_connection"), {"provider": "cloud"}, headers={"HX-Request": "true"}
    )


def test_an_outsider_gets_404_on_every_team_object_url(
    outsider_client, team, admin_user_, teammate
):
    from enhancer.models import Batch, Invitation, Membership, ShareLink
    from tests.test_job_views import job_urls

    batch = Batch.objects.create(team=team, created_by=admin_user_)
    job = make_job(team, admin_user_, status="succeeded", batch=batch)
    link = ShareLink.create(created_by=admin_user_, job=job)
    invitation, _ = Invitation.create(team=team, created_by=admin_user_)
    bob = Membership.objects.get(user=teammate)
    urls = [
        *job_urls(job),
        ("post", reverse("member_role", args=[bob.pk])),
        ("post", reverse("member_remove", args=[bob.pk])),
        ("post", reverse("invitation_revoke", args=[invitation.pk])),
        ("post", reverse("share_job", args=[job.id])),
        ("post", reverse("share_batch", args=[batch.id])),
        ("post", reverse("share_revoke", args=[link.pk])),
    ]
    for method, url in urls:
        if method == "post":
            response = outsider_client.post(url, {"role": "admin"})
        else:
            response = outsider_client.get(url)
        assert response.status_code == 404, (method, url)
    assert Membership.objects.filter(pk=bob.pk, role="member").exists()
    assert ShareLink.objects.get().is_active and Invitation.objects.pending().exists()


def test_the_cloud_button_tests_the_cloud_while_the_team_is_on_the_builtin_engine(
    owner_client, api, scripted_server
):
    """The button sits in the cloud section: it tests the cloud and the typed key, whatever
    engine is chosen, and says which service answered."""
    api.provider = Team.Provider.BUILTIN
    api.save()
    scripted_server.script("GET", "/v2/artworks", (200, []))
    response = owner_client.post(
        reverse("team_test_connection"),
        {"provider": "builtin", "api_key": OTHER_KEY, "test": "cloud"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert f"The Tengr.ai cloud at {scripted_server.url} answered" in html
    assert "the key you typed (not saved yet)" in html and "built-in" not in html
    assert scripted_server.requests[0].headers["Authorization"] == f"Bearer {OTHER_KEY}"


def test_an_unreachable_cloud_does_not_blame_typing(owner_client, with_key):
    with_key.api_base_url = closed_port_url()
    with_key.save()
    html = connection_check(owner_client, with_key)
    assert "may have no internet access" in html and "Check the address" not in html
