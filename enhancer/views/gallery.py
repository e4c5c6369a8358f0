"""The team gallery: every job of the team, from every member, filtered and paginated."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from enhancer.models import Job
from enhancer.team_forms import GalleryFilterForm
from enhancer.teams import current_membership

PAGE_SIZE = 24


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return redirect("team_new")
    form = GalleryFilterForm(request.GET, team=membership.team)
    jobs = form.filter(Job.objects.filter(team=membership.team).select_related("created_by"))
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = any(value for name, value in request.GET.items() if name != "page")
    context = {
        "form": form,
        "page": page,
        "jobs": page.object_list,
        "filtered": filtered,
        # Cards of running jobs on this page update live; new jobs do not jump into a
        # filtered, paginated list.
        "poll": any(job.is_pending or job.awaiting_check for job in page.object_list),
        "since": timezone.now().isoformat(),
        "scope": "shown",
    }
    template = "gallery.html#results" if request.htmx else "gallery.html"
    return render(request, template, context)
