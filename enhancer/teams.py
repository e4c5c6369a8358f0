"""Resolving the current team, and loading team-scoped objects through it.

Every team-scoped view goes through these helpers, so an outsider can never reach another
team's objects: what is not found through the user's memberships is a 404.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import connections, models, router, transaction
from django.http import Http404, HttpRequest
from django.utils import timezone

from enhancer import rows
from enhancer.models import Membership, Team
from enhancer.prepared import prepared_cursor

SESSION_KEY = "current_team_id"
M = TypeVar("M", bound=models.Model)


def current_membership(request: HttpRequest) -> Membership | None:
    """The membership of the team the user works in now, or None when they have no team.

    Order of preference: the team kept in the session, then the one they last switched to.
    Cached on the request so a page asks the database once.
    """
    if hasattr(request, "_current_membership"):
        return request._current_membership
    membership = None
    if request.user.is_authenticated:
        team_id = request.session.get(SESSION_KEY)
        if isinstance(team_id, int):
            membership = membership_in(request.user.pk, team_id)
        if membership is None:
            # Only now: building this queryset cost every page more than the query above.
            memberships = Membership.objects.filter(user=request.user).select_related("team")
            membership = memberships.order_by(
                models.F("last_selected_at").desc(nulls_last=True), "joined_at"
            ).first()
            if membership is not None:
                request.session[SESSION_KEY] = membership.team_id
    request._current_membership = membership
    return membership


def membership_in(user_id: int, team_id: int) -> Membership | None:
    """The user's membership of the team, with its team, or None: what every page of a
    logged-in person asks first, so as one plain SQL statement (as a queryset, building the
    query cost about three times running it)."""
    if not 0 < team_id < 2**63:
        return None
    member_fields, team_fields = Membership._meta.concrete_fields, Team._meta.concrete_fields
    connection = connections[router.db_for_read(Membership)]
    quote = connection.ops.quote_name
    member, team = quote(Membership._meta.db_table), quote(Team._meta.db_table)
    sql = (
        f"SELECT {rows.columns(quote, 'm', member_fields)}, {rows.columns(quote, 't', team_fields)}"  # noqa: S608  (the models' own tables)
        f" FROM {member} m JOIN {team} t ON t.id = m.team_id"
        " WHERE m.user_id = %s AND m.team_id = %s"
    )
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [user_id, team_id])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(member_fields)
    membership = rows.instance(connection, Membership, member_fields, row[:split])
    membership.team = rows.instance(connection, Team, team_fields, row[split:])
    return membership


def require_membership(request: HttpRequest, *, admin: bool = False) -> Membership:
    """The current membership, or 404. With admin=True, only a team admin passes."""
    membership = current_membership(request)
    if membership is None or (admin and not membership.is_admin):
        raise Http404("No such team")
    return membership


def switch_team(request: HttpRequest, team_id: int) -> Membership:
    if not 0 < team_id < 2**63:  # beyond any id; the database would refuse to compare it
        raise Http404("No such team")
    membership = (
        Membership.objects.filter(user=request.user, team_id=team_id).select_related("team").first()
    )
    if membership is None:
        raise Http404("No such team")
    membership.last_selected_at = timezone.now()
    membership.save(update_fields=["last_selected_at"])
    request.session[SESSION_KEY] = membership.team_id
    request._current_membership = membership
    return membership


@transaction.atomic
def create_team(user, name: str) -> Team:
    team = Team.objects.create(name=name, created_by=user)
    Membership.objects.create(
        team=team, user=user, role=Membership.Role.ADMIN, last_selected_at=timezone.now()
    )
    return team


def get_team_object(request: HttpRequest, queryset: models.QuerySet[M], **lookup) -> M:
    """Load one object of the current user's current team, or raise 404.

    The queryset's model must have a `team` foreign key. Anything outside the team is
    indistinguishable from something that does not exist.
    """
    membership = require_membership(request)
    try:
        return queryset.get(team=membership.team, **lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404("Not found") from exc
