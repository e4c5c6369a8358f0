"""The Usage page: how much the team enhanced, month by month and member by member."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.views.decorators.http import require_GET

from enhancer import quotas, retention, usage
from enhancer.fragments import Remembered
from enhancer.teams import current_membership, require_membership

# The chart with its table, and the month's members: remembered under the numbers they show
# (enhancer/fragments.py), as rendering them cost half of the page. A few kilobytes each.
_sections = Remembered(200)


@login_required
@require_GET
def usage_page(request: HttpRequest) -> HttpResponse:
    """The roll-up's numbers at once; the storage figure, a sum over all of the team's jobs
    (half a second at a million), follows in a request of its own (`usage_storage`) unless
    asked for with `?storage=1` (the link that stands in for it without JavaScript)."""
    membership = current_membership(request)
    if membership is None:
        return redirect("team_new")
    team = membership.team
    month = usage.parse_month(request.GET.get("month"))
    months, members = usage.page_numbers(team, month)
    month_key = f"{month:%Y-%m}"
    return render(
        request,
        "usage.html",
        {
            "months_html": _sections.get(
                ("months", repr(months), month_key),
                lambda: get_template("usage.html#months").render(
                    {"months": months, "chart": usage.chart(months), "month_key": month_key}
                ),
            ),
            "members_html": _sections.get(
                ("members", repr(members), month_key),
                lambda: get_template("usage.html#members").render(
                    {"members": members, "month": month}
                ),
            ),
            # Counted only where a limit is set: the page says nothing of the others.
            "team_quota": quotas.team_use(team) if team.monthly_job_limit is not None else None,
            "my_quota": (
                quotas.member_use(team, request.user.pk)
                if team.member_monthly_job_limit is not None
                else None
            ),
            "resets_on": quotas.resets_on(),
            **(storage_context(team) if request.GET.get("storage") else {}),
        },
    )


@login_required
@require_GET
def usage_storage(request: HttpRequest) -> HttpResponse:
    """The Usage page's storage section, loaded after the page."""
    if not request.htmx:
        return redirect(f"{reverse('usage')}?storage=1#storage-heading")
    team = require_membership(request).team
    return render(request, "usage.html#storage", storage_context(team))


def storage_context(team) -> dict:
    return {
        "storage": retention.storage_used(team),
        "delete_results_after": settings.DETAILER_DELETE_RESULTS_AFTER_DAYS,
        "delete_originals_after": settings.DETAILER_DELETE_ORIGINALS_AFTER_DAYS,
    }
