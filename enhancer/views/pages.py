"""The home page, the dashboard, and the one partial the dashboard polls."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import connections, router
from django.db.models import Count, Max, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from enhancer.cards import newest_cards
from enhancer.models import Job, ShareLink
from enhancer.polling import Scope, claimed_user_id, poll_state, session_verified
from enhancer.teams import SESSION_KEY, current_membership, require_membership

DASHBOARD_SIZE = 24
VERDICTS_SHOWN_FOR = timedelta(days=14)
# A page never shows more cards than this; more ids in a poll are ignored.
MAX_SHOWN = 200


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    return redirect("signup")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return redirect("team_new")
    cards = newest_cards(membership.team_id, DASHBOARD_SIZE)
    return render(
        request,
        "dashboard.html",
        {
            "cards": cards,
            "poll": cards.poll,
            "since": timezone.now().isoformat(),
            "scope": "team",
            # The person who shared a result is told of the client's answer here too.
            "verdicts": recent_verdicts(membership.team_id, request.user.pk),
        },
    )


def recent_verdicts(team_id: int, user_id: int) -> list[ShareLink]:
    """Clients' answers of the last two weeks to the links this person shared. Most people
    have none, which one plain statement tells before any queryset is built."""
    since = timezone.now() - VERDICTS_SHOWN_FOR
    connection = connections[router.db_for_read(ShareLink)]
    sql = (
        f"SELECT 1 FROM {connection.ops.quote_name(ShareLink._meta.db_table)}"  # noqa: S608  (the model's own table)
        " WHERE team_id = %s AND created_by_id = %s AND verdict_at >= %s LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [team_id, user_id, connection.ops.adapt_datetimefield_value(since)])
        if cursor.fetchone() is None:
            return []
    return list(
        ShareLink.objects.filter(team_id=team_id, created_by_id=user_id, verdict_at__gte=since)
        .select_related("job")
        .order_by("-verdict_at")[:5]
    )


def parse_since(value: str | None) -> datetime:
    try:
        parsed = parse_datetime(value or "")
    except ValueError:  # well-formed but impossible, such as month 13
        parsed = None
    if parsed is None or timezone.is_naive(parsed):
        return timezone.now()
    return parsed


def parse_ids(values: list[str]) -> set[uuid.UUID]:
    ids = set()
    for value in values[:MAX_SHOWN]:
        try:
            ids.add(uuid.UUID(value))
        except ValueError:
            continue
    return ids


@require_GET
def job_updates(request: HttpRequest) -> HttpResponse:
    """What changed since the last poll, for all of the page's cards at once.

    One request per interval whatever the number of pending jobs. The page sends the ids of the
    cards it shows: those that changed are swapped in place, out of band; on the dashboard, new
    jobs of the team (a teammate's, or from another tab) are added on top. HTTP 286 stops the
    polling once nothing in view is pending.

    Most polls find nothing new: after the session, one query (see enhancer/polling.py) reads
    the user, checks the membership and the page's jobs, and the answer is an empty 204, which
    htmx leaves alone, so the page asks again with the same `since`. Only when something
    changed are the cards loaded and rendered. A session the poll cannot verify by itself
    (no team chosen yet, a user no longer active or a password changed) goes Django's way,
    as `login_required` would: logged out and sent to the login page.
    """
    now = timezone.now()  # taken first: a change during this request is sent again next time
    since = parse_since(request.GET.get("since"))
    scope_name = request.GET.get("scope", "team")
    # The shown cards' ids decide what the query reads only for the "shown" scope; otherwise
    # they are parsed (two dozen UUIDs) only when something changed.
    shown = parse_ids(request.GET.getlist("shown")) if scope_name == "shown" else None
    scope = Scope.parse(scope_name, shown or set())
    team_id = request.session.get(SESSION_KEY)
    user_id = claimed_user_id(request)
    state = None
    if user_id is not None and team_id is not None:
        state = poll_state(user_id, team_id, since, scope)
        if state is not None and not session_verified(request, state):
            state = None
    if state is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if team_id is None:  # the session has not chosen a team yet: the full lookup
            team_id = require_membership(request).team_id
        state = poll_state(request.user.pk, team_id, since, scope)
    if state is None:  # no longer a member of the page's team
        raise Http404("No such team")
    if not state.changed:
        status = 204 if state.pending else HttpResponseStopPolling.status_code
        return HttpResponse(status=status)
    if shown is None:
        shown = parse_ids(request.GET.getlist("shown"))
    jobs = scope.filter(Job.objects.filter(team_id=team_id))
    changed = list(
        jobs.filter(updated_at__gt=since).for_cards().order_by("created_at")[:DASHBOARD_SIZE]
    )
    progress = batch_progress(jobs) if scope.kind == "batch" else None
    context = {
        "progress": progress,
        **(progress or {}),
        "replaced": [job for job in changed if job.pk in shown],
        "added": [job for job in changed if job.pk not in shown],
        "poll": state.pending,
        "since": now.isoformat(),
        "scope": scope_name,
    }
    response = render(request, "partials/job_updates.html", context)
    if not state.pending:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def batch_progress(jobs) -> dict:
    counts = jobs.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status=Job.Status.SUCCEEDED)),
        failed=Count("pk", filter=Q(status=Job.Status.FAILED)),
        finished=Count("pk", filter=Q(status__in=Job.FINAL_STATUSES)),
        started=Min("created_at"),
        last_finished=Max("finished_at"),
    )
    counts["time_left"] = time_left(counts)
    return counts


def time_left(counts: dict) -> str:
    """The batch's time left in words, from the pace of the jobs already finished: they run
    one after another on the engine, so the time per finished job is the best guess for the
    rest. Empty until one has finished, and once none is left."""
    finished, remaining = counts["finished"], counts["total"] - counts["finished"]
    if not finished or not remaining or not counts["last_finished"]:
        return ""
    per_job = (counts["last_finished"] - counts["started"]).total_seconds() / finished
    seconds = per_job * remaining
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    return f"about {minutes} minute{'s' if minutes != 1 else ''} left"
