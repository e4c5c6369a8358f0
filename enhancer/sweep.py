"""The safety net under the task queue: nothing stays pending for ever.

Polling ends every job it follows, and the workers take back the tasks of a worker that died
(enhancer/workers.py), but a task can still be lost (a queue emptied by hand, a plain
`db_worker` without heartbeats). The sweep fails jobs that left our queue longer ago than their
maximum age allows, and engine artworks left in progress for an hour, with a reason. Jobs still
waiting in our own queue are never failed for their age: they are waiting their turn.
`manage.py serve` runs it every few minutes; deployments with their own process manager run
`manage.py sweep_jobs` from cron.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from enhancer.engine.models import Artwork
from enhancer.models import Job

# Past the polling age limit, so polling has ended its jobs before the sweep looks.
GRACE = timedelta(minutes=15)
ENGINE_MAX_AGE = timedelta(hours=1)


def fail_stale_jobs() -> int:
    cutoff = timezone.now() - timedelta(minutes=settings.DETAILER_JOB_MAX_AGE_MINUTES) - GRACE
    failed = 0
    out_of_queue = [status for status in Job.PENDING_STATUSES if status != Job.Status.QUEUED]
    # Tiles are swept like any job; a job sent in tiles ends with them (`settle_stuck_parents`).
    stale = (
        Job.all_objects.filter(status__in=out_of_queue)
        .filter(Q(tile_count=0) | Q(status=Job.Status.PREPARING))
        .filter(Q(dispatched_at__lt=cutoff) | Q(dispatched_at__isnull=True, created_at__lt=cutoff))
    )
    for job in stale:
        failed += job.advance(
            Job.Status.FAILED,
            allowed_from=Job.PENDING_STATUSES,
            error_message="This job stopped without finishing (the server may have restarted). "
            "Press Run again to send it once more.",
            retry_note="",
        )
    return failed


def fail_stale_artworks() -> int:
    """Free the engine's in-flight slots that a dead engine worker would hold for ever."""
    cutoff = timezone.now() - ENGINE_MAX_AGE
    return Artwork.objects.filter(
        status__in=(Artwork.Status.STARTING, Artwork.Status.PROCESSING), created_at__lt=cutoff
    ).update(
        status=Artwork.Status.FAILED,
        message="The engine stopped before finishing this image.",
        finished_at=timezone.now(),
    )


def sweep() -> tuple[int, int]:
    from enhancer.previews import delete_old_previews  # it imports the task machinery
    from enhancer.tiling.jobs import settle_stuck_parents

    delete_old_previews()
    failed = fail_stale_jobs()
    settle_stuck_parents()
    return failed, fail_stale_artworks()
