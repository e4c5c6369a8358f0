"""The Usage page: how much the team enhanced, month by month and member by member."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from enhancer import quotas, retention, usage
from enhancer.teams import current_membership


@login_required
@require_GET
def usage_page(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return redirect("team_new")
    team = membership.team
    months = usage.monthly(team)
    month = usage.parse_month(request.GET.get("month"))
    return render(
        request,
        "usage.html",
        {
            "months": months,
            "chart": usage.chart(months),
            "month": month,
            "month_key": f"{month:%Y-%m}",
            "members": usage.by_member(team, month),
            "team_quota": quotas.team_use(team),
            "my_quota": quotas.member_use(team, request.user.pk),
            "resets_on": quotas.resets_on(),
            "storage": retention.storage_used(team),
            "delete_results_after": settings.DETAILER_DELETE_RESULTS_AFTER_DAYS,
            "delete_originals_after": settings.DETAILER_DELETE_ORIGINALS_AFTER_DAYS,
        },
    )
