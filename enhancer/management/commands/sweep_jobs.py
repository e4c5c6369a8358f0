"""`python manage.py sweep_jobs`: fail jobs and engine artworks that can no longer finish."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from enhancer.sweep import sweep


class Command(BaseCommand):
    help = "Fail jobs left pending past the age limit, e.g. after a worker died."

    def handle(self, *args, **options) -> None:
        jobs, artworks = sweep()
        self.stdout.write(f"Failed {jobs} stale job(s) and {artworks} stale engine artwork(s).")
