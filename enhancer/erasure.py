"""Deleted means gone: a deleted job's files, and the engine's copies of every job.

Our own files go at once, in the request. The built-in engine keeps an input and a result per
job; the product asks it to forget them (`DELETE /engine/v2/artworks/:id`, over HTTP like every
other engine call, so from a task) as soon as it has its own copy and when a job is deleted.
The engine's result URLs expire on their own, and the engine removes anything left over after
DETAILER_ENGINE_KEEP_HOURS (enhancer/cleanup.py). The cloud has no delete call: it removes
its files 8 days after creation (CONTRACT.md), which the README says.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from enhancer.api import ApiClient
from enhancer.api.errors import ApiError, NotFound
from enhancer.models import Job, Team

logger = logging.getLogger(__name__)

FORGET_ATTEMPTS = 4
FORGET_RETRY_SECONDS = 30


def delete_job(job: Job) -> None:
    from enhancer.tasks import room_freed  # tasks imports this module

    # Mark it final first, so no task in flight stores files for a job that is going away.
    if job.advance(Job.Status.CANCELED, allowed_from=Job.PENDING_STATUSES):
        if job.tile_count:
            from enhancer.tiling.jobs import cancel_tiles

            cancel_tiles(job, "The image was deleted.")
        room_freed()
    # Versions made by Run again share one stored original: it goes with the last of them.
    files = [job.result, job.thumbnail]
    original_goes = not job.original_shared()
    if original_goes:
        files.append(job.original)
    if job.tile_count:
        from enhancer.tiling.jobs import delete_tile_files

        delete_tile_files(job, original_goes=original_goes)
    for field in files:
        if field:
            field.delete(save=False)
    forget_at_engine(job)
    job.delete()


def forget_at_engine(job: Job) -> None:
    """Ask the built-in engine to delete its copies of this job, once the transaction holds."""
    if job.provider == Team.Provider.BUILTIN and job.upstream_id:
        upstream_id = job.upstream_id
        transaction.on_commit(lambda: forget_engine_artwork.enqueue(upstream_id, 1))


@task()
def forget_engine_artwork(upstream_id: str, attempt: int) -> str:
    from enhancer.engine.auth import default_key

    try:
        with ApiClient(settings.DETAILER_ENGINE_URL, default_key()) as client:
            client.delete(upstream_id)
    except NotFound:
        return "already gone"
    except ApiError as exc:
        if attempt >= FORGET_ATTEMPTS:
            # The engine's own clean-up removes it after DETAILER_ENGINE_KEEP_HOURS.
            logger.warning("The engine did not forget artwork %s: %s", upstream_id, exc)
            return "gave up"
        forget_engine_artwork.using(
            run_after=timezone.now() + timedelta(seconds=FORGET_RETRY_SECONDS * attempt)
        ).enqueue(upstream_id, attempt + 1)
        return "retrying"
    return "forgotten"
