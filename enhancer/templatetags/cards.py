"""`{% job_card job %}`: a job's card (see enhancer/cards.py for why not an include)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from enhancer.cards import render_card

register = template.Library()


@register.simple_tag
def job_card(job, oob: bool = False) -> SafeString:
    return render_card(job, oob=oob)
