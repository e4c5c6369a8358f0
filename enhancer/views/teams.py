"""Creating, listing and switching teams. The Team page itself is in views/members.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from enhancer.forms import TeamForm
from enhancer.models import Membership
from enhancer.teams import create_team, current_membership, switch_team


@login_required
def team_new(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = create_team(request.user, form.cleaned_data["name"])
        switch_team(request, team.id)
        messages.success(request, f"Team “{team.name}” created. You are its admin.")
        return redirect("dashboard")
    has_team = current_membership(request) is not None
    return render(request, "teams/new.html", {"form": form, "has_team": has_team})


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=request.user).select_related("team").order_by("team__name")
    )
    return render(request, "teams/list.html", {"memberships": memberships})


@require_POST
@login_required
def team_switch(request: HttpRequest, team_id: int) -> HttpResponse:
    membership = switch_team(request, team_id)
    messages.info(request, f"You are now working in “{membership.team.name}”.")
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("dashboard")
