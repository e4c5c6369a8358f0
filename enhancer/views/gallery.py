"""The team gallery: every job of the team, from every member, filtered, newest first.

Pages go by keyset (enhancer/keyset.py), so the thousandth page costs what the first does, and
the count stops at a thousand.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from enhancer import keyset
from enhancer.models import Job
from enhancer.team_forms import GalleryFilterForm
from enhancer.teams import current_membership

PAGE_SIZE = 24
# Not filters: where in the list the page is.
PLACE_PARAMS = {"before", "after", "page"}


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return redirect("team_new")
    form = GalleryFilterForm(request.GET, team=membership.team)
    jobs = form.filter(Job.objects.filter(team=membership.team).for_cards())
    page = keyset.page(
        jobs, PAGE_SIZE, before=request.GET.get("before"), after=request.GET.get("after")
    )
    count, more = keyset.bounded_count(jobs)
    filtered = any(value for name, value in request.GET.items() if name not in PLACE_PARAMS)
    context = {
        "form": form,
        "page": page,
        "count": count,
        "count_is_more": more,
        "jobs": page.items,
        "filtered": filtered,
        # Cards of running jobs on this page update live; new jobs do not jump into a
        # filtered, paginated list.
        "poll": any(job.is_pending or job.awaiting_check for job in page.items),
        "since": timezone.now().isoformat(),
        "scope": "shown",
    }
    template = "gallery.html#results" if request.htmx else "gallery.html"
    return render(request, template, context)
