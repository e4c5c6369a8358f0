"""Everything expires: finished task records and the engine's leftover copies.

(And on SQLite, the planner's statistics are refreshed on the way: see
`refresh_sqlite_statistics`.)

- Task records: every job leaves about six rows in the task table (submit, polls, webhooks,
  collecting), with their arguments and results. Finished ones are deleted after
  DETAILER_TASK_RETENTION_DAYS; waiting and running ones are never touched.
- The engine's copies: the product asks the engine to forget each job once collected or
  deleted (enhancer/erasure.py). Whatever is left (a job canceled mid-way, a key used by another
  tool, a forget call that never got through) goes DETAILER_ENGINE_KEEP_HOURS after it finished,
  together with any file whose artwork no longer exists.

`manage.py serve` runs `clean_up` every few minutes; deployments with their own process
manager run `manage.py clean_up` from cron.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from enhancer.engine.files import INPUTS, RESULTS
from enhancer.engine.models import Artwork
from enhancer.engine.result_links import remove_files


@dataclass(frozen=True)
class Cleaned:
    task_results: int
    artworks: int
    stray_files: int


def prune_task_results(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.DETAILER_TASK_RETENTION_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def expire_engine_artworks(now: datetime) -> int:
    cutoff = now - timedelta(hours=settings.DETAILER_ENGINE_KEEP_HOURS)
    expired = Artwork.objects.filter(status__in=Artwork.FINAL_STATUSES).filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )
    count = 0
    for artwork_id, input_file in expired.values_list("id", "input_file").iterator():
        Artwork.objects.filter(pk=artwork_id).delete()
        remove_files(str(artwork_id), input_file)
        count += 1
    return count


def remove_stray_engine_files(now: datetime) -> int:
    """Files of artworks that no longer exist (e.g. a worker killed while writing)."""
    cutoff = now - timedelta(hours=settings.DETAILER_ENGINE_KEEP_HOURS)
    removed = 0
    for kind, folder in (("inputs", INPUTS), ("results", RESULTS)):
        if not default_storage.exists(folder) and not hasattr(default_storage, "bucket_name"):
            continue
        folders, files = default_storage.listdir(folder)
        for entry in files if kind == "inputs" else folders:
            try:
                artwork_id = uuid.UUID(entry.split(".", 1)[0])
            except ValueError:
                continue  # not ours: leave it
            if Artwork.objects.filter(pk=artwork_id).exists() or too_recent(
                f"{folder}/{entry}", kind, cutoff
            ):
                continue
            remove_files(str(artwork_id), entry if kind == "inputs" else "")
            removed += 1
    return removed


def too_recent(name: str, kind: str, cutoff: datetime) -> bool:
    """Written after the cutoff (a worker may still be writing the artwork's other files)."""
    names = (
        [name]
        if kind == "inputs"
        else [f"{name}/{file}" for file in default_storage.listdir(name)[1]]
    )
    return any(default_storage.get_modified_time(each) >= cutoff for each in names)


def refresh_sqlite_statistics() -> None:
    """SQLite's planner without statistics took the gallery's version check for a scan per
    row (100 ms a page at 1,000 jobs, 11 ms with them); PostgreSQL's autovacuum keeps its own.
    A sampled ANALYZE (analysis_limit) stays quick on any size."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")


def clean_up(now: datetime | None = None) -> Cleaned:
    from enhancer.workers import forget_old_workers

    now = now or timezone.now()
    forget_old_workers()
    refresh_sqlite_statistics()
    return Cleaned(
        task_results=prune_task_results(now),
        artworks=expire_engine_artworks(now),
        stray_files=remove_stray_engine_files(now),
    )
