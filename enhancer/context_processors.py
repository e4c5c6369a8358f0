from __future__ import annotations

from django.http import HttpRequest

from enhancer.teams import current_membership


def current_team(request: HttpRequest) -> dict:
    """Expose the current membership and team to every template (one query, cached)."""
    membership = current_membership(request) if hasattr(request, "user") else None
    return {
        "membership": membership,
        "current_team": membership.team if membership else None,
    }
