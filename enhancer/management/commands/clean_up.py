"""`python manage.py clean_up`: delete finished task records and the engine's expired copies.

`manage.py serve` does this by itself every few minutes; run it from cron (hourly is plenty)
when the processes run under another process manager.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from enhancer.cleanup import clean_up


class Command(BaseCommand):
    help = "Delete finished task records and the engine's copies past their retention."

    def handle(self, *args, **options) -> None:
        cleaned = clean_up()
        self.stdout.write(
            f"Deleted {cleaned.task_results} finished task record(s), "
            f"{cleaned.artworks} expired engine artwork(s) and "
            f"{cleaned.stray_files} stray engine file(s)."
        )
