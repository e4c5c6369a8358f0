"""The team gallery: every job of the team, from every member, filtered, newest first.

Pages go by keyset (enhancer/keyset.py), so the thousandth page costs what the first does, and
the count stops at a thousand. Versions of one original (Run again) are grouped: the
unfiltered gallery shows the newest version with how many there are; with filters, every match
shows. Several jobs can be selected to download as one ZIP or to delete together.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import connections, router
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from enhancer.cards import cards_of
from enhancer.fragments import Remembered
from enhancer.gallery_query import Filters, GalleryQuery
from enhancer.models import AuditEvent, Job, Membership
from enhancer.team_forms import GalleryFilterForm
from enhancer.teams import current_membership, require_membership
from enhancer.views.batches import zip_stream
from enhancer.views.jobs import delete_job, job_words

PAGE_SIZE = 24
# Not filters: where in the list the page is.
PLACE_PARAMS = {"before", "after", "page"}
# Not filters either: asks for the count on the page (without JavaScript).
NOT_FILTERS = PLACE_PARAMS | {"count"}


@login_required
@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return redirect("team_new")
    form, members, filtered = filter_form(request, membership.team)
    filters = form.filters() if form is not None else Filters()
    jobs = GalleryQuery(membership.team_id, filters, newest_only=not filtered)
    page = jobs.page(PAGE_SIZE, before=request.GET.get("before"), after=request.GET.get("after"))
    # Filtered, the count can read thousands of rows (a common word in the search): it
    # follows in a request of its own (gallery_count), so the cards never wait for it.
    counted = not filtered or request.GET.get("count")
    count, more = jobs.bounded_count() if counted else (None, False)
    cards = cards_of(page.items)
    context = {
        "search": request.GET.get("q", ""),
        "filters": "" if request.htmx else filters_html(request, membership.team, form, members),
        "page": page,
        "count": count,
        "count_is_more": more,
        # Where the count is asked for; without JavaScript, the same page, counted.
        "count_query": "" if counted else filters_query(request),
        "count_link": "" if counted else with_count(request),
        "cards": cards,
        "filtered": filtered,
        # Cards of running jobs on this page update live; new jobs do not jump into a
        # filtered, paginated list.
        "poll": cards.poll,
        "since": timezone.now().isoformat(),
        "scope": "shown",
    }
    template = "gallery.html#results" if request.htmx else "gallery.html"
    return render(request, template, context)


@login_required
@require_GET
def gallery_count(request: HttpRequest) -> HttpResponse:
    """How many jobs match the gallery's filters, loaded after the page."""
    if not request.htmx:
        return redirect(f"{reverse('gallery')}?{with_count(request)}")
    membership = require_membership(request)
    form, _members, filtered = filter_form(request, membership.team)
    filters = form.filters() if form is not None else Filters()
    jobs = GalleryQuery(membership.team_id, filters, newest_only=not filtered)
    count, more = jobs.bounded_count()
    context = {"count": count, "count_is_more": more, "filtered": filtered}
    return render(request, "gallery.html#count", context)


def filter_form(request: HttpRequest, team) -> tuple[GalleryFilterForm | None, list[tuple], bool]:
    """The form of the filters sent (None when no filter is in use: the plain gallery, its
    most asked-for page, is spared building and cleaning a form that would find nothing), the
    team's members (read once: the select's options and part of the remembered fields' key),
    and whether any filter is in use."""
    members = team_members(team.pk)
    filtered = any(value for name, value in request.GET.items() if name not in NOT_FILTERS)
    return (bound_form(request, team, members) if filtered else None), members, filtered


def bound_form(request: HttpRequest, team, members: list[tuple]) -> GalleryFilterForm:
    form = GalleryFilterForm(request.GET, team=team)
    form.fields["member"].choices = [("", form.fields["member"].empty_label), *members]
    return form


def filters_query(request: HttpRequest) -> str:
    """The request's filters as a query string, without its place in the list."""
    query = request.GET.copy()
    for name in NOT_FILTERS:
        query.pop(name, None)
    return query.urlencode()


def with_count(request: HttpRequest) -> str:
    query = request.GET.copy()
    query["count"] = "1"
    return query.urlencode()


def team_members(team_id: int) -> list[tuple[int, str]]:
    """(id, name) of the team's members by name, as the "Sent by" select lists them: one
    plain statement (the form's queryset cost the web process more to build than to run)."""
    connection = connections[router.db_for_read(Membership)]
    quote = connection.ops.quote_name
    user = get_user_model()
    name = quote(user._meta.get_field(user.USERNAME_FIELD).column)
    sql = (
        f"SELECT u.id, u.{name} FROM {quote(user._meta.db_table)} u"  # noqa: S608  (the models' own tables)
        f" JOIN {quote(Membership._meta.db_table)} m ON m.user_id = u.id"
        f" WHERE m.team_id = %s ORDER BY u.{name}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [team_id])
        return [tuple(row) for row in cursor.fetchall()]


# Each a few kilobytes: one per team and set of filters in use.
_filters = Remembered(500)
FILTER_FIELDS = ("member", "status", "scale", "date_from", "date_to")


def filters_html(
    request: HttpRequest, team, form: GalleryFilterForm | None, members: list[tuple]
) -> SafeString:
    """The filter fields' HTML, remembered under all it shows: the options (the team's
    members), the values sent and their errors (rendering Django's widgets cost a quarter
    of the page). Without a form no filter is in use: every value is empty, with no error."""
    errors = form.errors if form is not None else {}
    key = (
        tuple(members),
        tuple(request.GET.get(name, "") for name in FILTER_FIELDS),
        tuple((name, tuple(errors.get(name, ()))) for name in FILTER_FIELDS),
    )

    def render() -> str:
        shown = form if form is not None else bound_form(request, team, members)
        return get_template("partials/gallery_filters.html").render({"form": shown})

    return _filters.get(key, render)


def with_versions(jobs, *, newest_only: bool):
    """Each job with `versions_count` (jobs of the team sharing its stored original); with
    newest_only, only the newest version of each original. The gallery runs the same as plain
    SQL (enhancer/gallery_query.py); this is what its tests hold it to."""
    same_original = Job.objects.filter(team=OuterRef("team"), original=OuterRef("original"))
    count = same_original.order_by().values("original").annotate(n=Count("pk")).values("n")
    jobs = jobs.annotate(versions_count=Subquery(count))
    if newest_only:
        # Jobs with no stored original (an image URL not fetched yet) are nobody's versions.
        # Newer, or made in the same microsecond with a greater id: exactly one card each.
        newer = same_original.exclude(original="").filter(
            Q(created_at__gt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
        )
        jobs = jobs.exclude(Exists(newer))
    return jobs


def selected_jobs(request: HttpRequest, values: list[str]) -> list[Job]:
    """The team's jobs among the ids sent; ids of other teams' jobs are simply not found."""
    team = require_membership(request).team
    ids = []
    for value in values[:500]:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return list(
        Job.objects.filter(team=team, pk__in=ids)
        .select_related("created_by", "team")
        .order_by("created_at")
    )


@require_POST
@login_required
def gallery_download(request: HttpRequest) -> HttpResponse:
    # POST, like the delete button beside it in the same form: one CSRF-protected form, and
    # no list of ids in the address bar or the server's access log.
    jobs = selected_jobs(request, request.POST.getlist("selected"))
    done = [job for job in jobs if job.status == Job.Status.SUCCEEDED and job.result]
    if not done:
        messages.info(
            request,
            "Select finished enhancements to download (those marked Done)."
            if jobs
            else "Select the enhancements to download first.",
        )
        return redirect("gallery")
    response = StreamingHttpResponse(zip_stream(done), content_type="application/zip")
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="detailer-{len(done)}-images-{stamp}.zip"'
    )
    return response


@require_POST
@login_required
def gallery_delete(request: HttpRequest) -> HttpResponse:
    """First the question (which jobs, for the whole team), then, confirmed, the deletion."""
    jobs = selected_jobs(request, request.POST.getlist("selected"))
    if not jobs:
        messages.info(request, "Select the enhancements to delete first.")
        return redirect("gallery")
    if request.POST.get("confirm") != "yes":
        return render(request, "gallery_delete.html", {"jobs": jobs})
    for job in jobs:
        delete_job(job)
        AuditEvent.record(job.team, request.user, AuditEvent.Action.JOB_DELETED, job_words(job))
    count = len(jobs)
    noun = "enhancement was" if count == 1 else "enhancements were"
    messages.success(request, f"{count} {noun} deleted, with their files.")
    return redirect("gallery")
