"""`python manage.py expire_files`: apply the optional retention (see enhancer/retention.py)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from enhancer.retention import expire_files, retention_days


class Command(BaseCommand):
    help = "Delete results and originals older than the retention settings; keep the records."

    def handle(self, *args, **options) -> None:
        result_days, original_days = retention_days()
        if result_days <= 0 and original_days <= 0:
            self.stdout.write(
                "Retention is off: set DETAILER_DELETE_RESULTS_AFTER_DAYS or "
                "DETAILER_DELETE_ORIGINALS_AFTER_DAYS to delete old files."
            )
            return
        expired = expire_files()
        self.stdout.write(
            f"Deleted the files of {expired.results} result(s) and {expired.originals} "
            "original(s); their jobs are kept."
        )
