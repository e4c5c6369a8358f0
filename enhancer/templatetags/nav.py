"""`{% site_nav %}`: the main navigation of every page, remembered under all it shows.

Rendering it (eight links, the team and the account) was about a third of a small page. Its
HTML depends on who is logged in, their team, whether they administer it or the site, and
which page is open: those are the key (enhancer/fragments.py), so a remembered navigation is
the one that would be rendered now. The log-out form's CSRF token differs per session and
request, so it is never remembered: it goes in after.
"""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AnonymousUser
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from enhancer.fragments import Remembered

register = template.Library()

# A few hundred bytes each: one per person, team and page in use.
_navs = Remembered(2000)
TOKEN = "\x00csrf-token\x00"  # where the token goes; nothing a template renders contains it


@register.simple_tag(takes_context=True)
def site_nav(context) -> SafeString:
    # Pages rendered outside a view (a refused upload's 413) have no request or user.
    request, user = context.get("request"), context.get("user") or AnonymousUser()
    team, membership = context.get("current_team"), context.get("membership")
    signed_in = user.is_authenticated
    key = (
        user.pk if signed_in else None,
        user.get_username() if signed_in else "",
        signed_in and user.is_staff,
        team.pk if team else None,
        team.name if team else None,
        bool(membership and membership.is_admin),
        getattr(getattr(request, "resolver_match", None), "url_name", None),
    )

    def render() -> str:
        nav = {"user": user, "current_team": team, "membership": membership}
        return get_template("partials/nav.html").render(
            {**nav, "request": request, "csrf_token": TOKEN}
        )

    html = _navs.get_value(key, render)
    return mark_safe(html.replace(TOKEN, escape(str(context.get("csrf_token", "")))))  # noqa: S308  (our own template; the token escaped)
