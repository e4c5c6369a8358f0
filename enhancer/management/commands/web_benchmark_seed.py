"""`manage.py web_benchmark_seed N`: the web benchmark's set-up, run inside its environment.

Not for people: `web_benchmark` runs it with the benchmark's settings and database, reads the
JSON it prints last (the session cookie, the URLs to drive, each page's SQL queries) and starts
gunicorn on the same database.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enhancer.models import Job
from enhancer.views.pages import DASHBOARD_SIZE
from enhancer.webbench.seed import SEARCH_WORD, TEAM_NAME, seed


class Command(BaseCommand):
    help = "Seed the web benchmark's team (used by web_benchmark)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("jobs", type=int)
        parser.add_argument("--reuse", action="store_true")

    def handle(self, *args, jobs: int, reuse: bool, **options) -> None:
        started = time.monotonic()
        team = None
        if reuse:
            from enhancer.models import Team

            team = Team.objects.filter(name=TEAM_NAME).first()
            if team is not None and Job.objects.filter(team=team).count() != jobs:
                team = None
        if team is None:
            team, user = seed(jobs)
        else:
            user = team.memberships.order_by("pk").first().user
        seeded = time.monotonic() - started
        client = Client()
        client.force_login(user, backend="enhancer.auth_backend.ModelBackend")
        newest = Job.objects.filter(team=team).order_by("-created_at")[:DASHBOARD_SIZE]
        shown = [str(pk) for pk in newest.values_list("pk", flat=True)]
        page_job = (
            Job.objects.filter(team=team, status=Job.Status.SUCCEEDED)
            .exclude(thumbnail="")
            .order_by("-created_at")
            .values_list("pk", flat=True)
            .first()
        )
        since = timezone.now().isoformat()
        poll_query = urlencode(
            [("since", since), ("scope", "team")] + [("shown", i) for i in shown]
        )
        pages = {
            "bare view": ("/bench/bare/", False),
            "poll": (f"/jobs/updates/?{poll_query}", True),
            "dashboard": ("/dashboard/", False),
            "gallery": ("/gallery/", False),
            "gallery, search": (f"/gallery/?q={SEARCH_WORD}", False),
            # A filtered gallery's count follows its page, as a request of its own.
            "search's count": (f"/gallery/count/?q={SEARCH_WORD}", True),
            "usage": ("/usage/", False),
            "job page": (f"/jobs/{page_job}/", False),
        }
        report = {"seconds_to_seed": round(seeded, 1), "vendor": connection.vendor, "pages": {}}
        for name, (url, htmx) in pages.items():
            headers = {"HX-Request": "true"} if htmx else {}
            client.get(url, headers=headers)  # first use warms caches, as wrk's warm-up does
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, headers=headers)
            if response.status_code >= 400:
                raise RuntimeError(f"{name}: {url} answered {response.status_code}")
            report["pages"][name] = {
                "url": url,
                "htmx": htmx,
                "queries": len(queries),
                "status": response.status_code,
                "bytes": len(response.content),
            }
        report["cookie"] = f"sessionid={client.cookies['sessionid'].value}"
        report["jobs"] = Job.objects.filter(team=team).count()
        self.stdout.write(json.dumps(report))
