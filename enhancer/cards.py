"""Job cards, rendered once per look: the dashboard and the gallery show 24 at a time.

Rendering a card through the template engine cost about half a millisecond, most of a page's
time. A finished card is remembered, in this process, under everything it shows (status,
title, settings, sizes, messages, sender, and its "3 days ago" as text), so a remembered card is
by construction the card that would be rendered now: nothing ever has to be invalidated, and
another web host's memory cannot be wrong either. Running jobs (their elapsed time moves) are
always rendered. Membership and permissions are never remembered: the views check them first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

from enhancer.models import Job

TEMPLATE = "partials/job_card.html"
# About 1.5 KB each: a few megabytes per process at most.
REMEMBERED = 3000

_cards: OrderedDict[tuple, str] = OrderedDict()
_lock = threading.Lock()


def card_key(job: Job, oob: bool) -> tuple:
    """Every value the card shows, or that decides what it shows."""
    return (
        job.pk,
        oob,
        job.status,
        job.title,
        job.original_name,
        job.scale,
        job.details,
        job.modification,
        job.made_for,
        job.result_width,
        job.result_height,
        job.retry_note,
        job.error_message,
        bool(job.original or job.thumbnail),
        job.fit_message,
        tuple(job.check_warnings or ()),
        job.approval,
        getattr(job, "versions_count", None),  # annotated in the gallery
        job.created_by.get_username() if job.created_by_id else None,
        naturaltime(job.created_at),
    )


def render_card(job: Job, *, oob: bool = False) -> SafeString:
    if job.is_pending:
        return get_template(TEMPLATE).render({"job": job, "oob": oob})
    key = card_key(job, oob)
    with _lock:
        html = _cards.get(key)
        if html is not None:
            _cards.move_to_end(key)
            return mark_safe(html)  # noqa: S308  (our own template's output, remembered)
    html = get_template(TEMPLATE).render({"job": job, "oob": oob})
    with _lock:
        _cards[key] = html
        while len(_cards) > REMEMBERED:
            _cards.popitem(last=False)
    return html
