"""Team settings and the activity log: team admins only (everyone else gets a 404)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enhancer.connection import ConnectionResult, check_connection
from enhancer.models import AuditEvent, Team
from enhancer.providers import site_is_public_https
from enhancer.team_forms import ConnectionTestForm, TeamSettingsForm
from enhancer.teams import require_membership


def settings_page(
    request: HttpRequest, team: Team, form: TeamSettingsForm, result: ConnectionResult | None
) -> HttpResponse:
    return render(
        request,
        "teams/settings.html",
        {
            "form": form,
            "team": team,
            "result": result,
            "site_is_public": site_is_public_https(),
            "site_url": settings.SITE_URL,
            "api_url": team.api_base_url or settings.DETAILER_API_URL,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_settings(request: HttpRequest) -> HttpResponse:
    team = require_membership(request, admin=True).team
    form = TeamSettingsForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        changed = form.save(request.user)
        if changed:
            messages.success(request, f"Saved: {', '.join(changed)}.")
        else:
            messages.info(request, "Nothing had changed.")
        return redirect("team_settings")
    return settings_page(request, team, form, None)


@require_POST
@login_required
def team_test_connection(request: HttpRequest) -> HttpResponse:
    team = require_membership(request, admin=True).team
    form = ConnectionTestForm(request.POST)
    if form.is_valid():
        result = check_connection(team, form.cleaned_data["target"], form.cleaned_data["api_key"])
    else:
        result = ConnectionResult(False, "Choose an engine to test.")
    if request.htmx:
        return render(request, "teams/settings.html#connection_result", {"result": result})
    # Without JavaScript the whole page comes back; a typed key is never put back in the form.
    team.refresh_from_db()
    return settings_page(request, team, TeamSettingsForm(team=team), result)


@require_POST
@login_required
def team_key_remove(request: HttpRequest) -> HttpResponse:
    team = require_membership(request, admin=True).team
    if team.api_key:
        masked = team.api_key_masked
        team.set_api_key("")
        team.save(update_fields=["api_key", "api_key_hint", "api_key_invalid_at"])
        AuditEvent.record(team, request.user, AuditEvent.Action.KEY_REMOVED, masked)
        messages.success(request, "The API key was removed.")
        if team.uses_cloud:
            messages.warning(
                request,
                "The team still uses the cloud: new jobs will fail until you add a key or "
                "switch to the built-in engine.",
            )
    return redirect("team_settings")


@require_POST
@login_required
def team_webhook_secret_remove(request: HttpRequest) -> HttpResponse:
    team = require_membership(request, admin=True).team
    if team.webhook_secret:
        team.webhook_secret = ""
        team.save(update_fields=["webhook_secret"])
        AuditEvent.record(team, request.user, AuditEvent.Action.WEBHOOK_SECRET_REMOVED)
        messages.success(request, "The webhook signing secret was removed.")
    return redirect("team_settings")


@login_required
@require_GET
def team_activity(request: HttpRequest) -> HttpResponse:
    team = require_membership(request, admin=True).team
    events = AuditEvent.objects.filter(team=team).select_related("actor")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "teams/activity.html", {"page": page})
