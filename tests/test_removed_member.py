"""A member removed from a team loses every page of it on the very next request, whatever the
pages remembered (cards, the gallery's filters): membership is read on every request."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from enhancer.models import Membership
from tests.conftest import logged_in
from tests.factories import make_job

pytestmark = pytest.mark.django_db


def test_a_removed_member_sees_nothing_of_the_team_on_the_next_request(team, admin_user_, teammate):
    done = make_job(team, admin_user_, status="succeeded", name="secret-harbour.png")
    running = make_job(team, admin_user_, status="processing", name="secret-busy.png")
    client = logged_in(teammate)
    htmx = {"HX-Request": "true"}
    pages = [
        (reverse("dashboard"), {}, {}),
        (reverse("gallery"), {}, {}),
        (reverse("gallery"), {"q": "secret"}, {}),
        (reverse("usage"), {}, {}),
        (reverse("usage"), {"storage": "1"}, {}),
        (reverse("usage_storage"), {}, htmx),
        (reverse("job_detail", args=[done.id]), {}, {}),
    ]
    for url, params, headers in pages:  # every page seen, and remembered, as a member
        assert client.get(url, params, headers=headers).status_code == 200
    since = timezone.now().isoformat()
    poll = (reverse("job_updates"), {"since": since, "shown": [str(running.id)]}, htmx)

    Membership.objects.filter(team=team, user=teammate).delete()  # as another host would

    for url, params, headers in [*pages, poll]:
        response = client.get(url, params, headers=headers)
        assert response.status_code in (302, 404), url
        assert b"secret-" not in response.content, url
