"""Optional retention: delete old results and originals from storage, keep the job records.

Off by default. With DETAILER_DELETE_RESULTS_AFTER_DAYS (or ..._ORIGINALS_...) set, the files
of jobs that finished more than that many days ago are deleted (a result with its thumbnail),
while each job stays in the list, the gallery and the usage figures with its settings, sizes and
times, and its page says the file was deleted. `manage.py serve` applies it with every sweep;
deployments that run their own processes run `manage.py expire_files` daily from cron.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from enhancer.models import Job, Team
from enhancer.tiling.jobs import delete_tile_files

# Enough per pass to keep a sweep short; the rest waits for the next one.
BATCH = 500


@dataclass(frozen=True)
class Expired:
    results: int = 0
    originals: int = 0


def retention_days() -> tuple[int, int]:
    """(results, originals): days files are kept after a job ends; 0 keeps them for ever."""
    return (
        settings.DETAILER_DELETE_RESULTS_AFTER_DAYS,
        settings.DETAILER_DELETE_ORIGINALS_AFTER_DAYS,
    )


def expire_files(now: datetime | None = None) -> Expired:
    now = now or timezone.now()
    result_days, original_days = retention_days()
    results = originals = 0
    if result_days > 0:
        old = Job.objects.filter(
            status__in=Job.FINAL_STATUSES, finished_at__lt=now - timedelta(days=result_days)
        ).exclude(result="", thumbnail="")
        for job in old.order_by("finished_at")[:BATCH]:
            for field in (job.result, job.thumbnail):
                if field:
                    field.storage.delete(field.name)
            if job.tile_count:  # its tiles' results kept for Run again, and their inputs
                delete_tile_files(job, original_goes=False, forget=False)
            # A conditional update on the names just deleted: a concurrent pass counts once.
            results += Job.objects.filter(
                pk=job.pk, result=job.result.name or "", thumbnail=job.thumbnail.name or ""
            ).update(result="", thumbnail="", files_deleted_at=now)
    if original_days > 0:
        old = Job.objects.filter(
            status__in=Job.FINAL_STATUSES, finished_at__lt=now - timedelta(days=original_days)
        ).exclude(original="")
        for job in old.order_by("finished_at")[:BATCH]:
            job.original.storage.delete(job.original.name)
            if job.tile_count:  # its tiles' inputs, and results kept for Run again
                delete_tile_files(job, original_goes=True, forget=False)
            originals += Job.objects.filter(pk=job.pk, original=job.original.name).update(
                original="", files_deleted_at=now
            )
    return Expired(results, originals)


@dataclass(frozen=True)
class StorageUse:
    originals: int
    results: int

    @property
    def total(self) -> int:
        return self.originals + self.results


def storage_used(team: Team) -> StorageUse:
    """Bytes of the originals and results the team's jobs keep in storage (thumbnails, a few
    kilobytes each, are left out)."""
    sums = Job.objects.filter(team=team).aggregate(
        originals=Sum("original_bytes", filter=~Q(original="")),
        results=Sum("result_bytes", filter=~Q(result="")),
    )
    return StorageUse(sums["originals"] or 0, sums["results"] or 0)
