"""Job cards, rendered once per look: the dashboard and the gallery show 24 at a time.

Rendering a card through the template engine cost about half a millisecond, most of a page's
time. A finished card is remembered, in this process, under everything it shows (status,
title, settings, sizes, messages, sender, and its "3 days ago" as text), so a remembered card is
by construction the card that would be rendered now: nothing ever has to be invalidated, and
another web host's memory cannot be wrong either. A running job's card shows its elapsed
seconds, so those are in its key too: remembered for the second they are right, which on a
busy page is many requests. Membership and permissions are never remembered: the views check
them first.
"""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import floatformat
from django.template.loader import get_template
from django.utils.safestring import SafeString

from enhancer.fragments import Remembered
from enhancer.models import Job

TEMPLATE = "partials/job_card.html"
# About 1.5 KB each: a few megabytes per process at most.
REMEMBERED = 3000

_cards = Remembered(REMEMBERED)


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
        # As the card shows it ("for 12 s"); nothing for a finished job.
        floatformat(job.elapsed_seconds, 0) if job.is_pending else None,
    )


def render_card(job: Job, *, oob: bool = False) -> SafeString:
    key = card_key(job, oob)
    # The elapsed seconds of the key, not read again: a second may have passed since.
    context = {"job": job, "oob": oob, "elapsed": key[-1]}
    return _cards.get(key, lambda: get_template(TEMPLATE).render(context))
