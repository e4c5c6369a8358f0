"""The product's background work: submit a job, follow it, collect its result.

Nothing here runs inside a web request. Every task re-reads the job and moves it forward only
through `Job.advance`, so running a task twice, late or out of order is harmless (a task whose
worker died is run again: see `enhancer/workers.py`).

A job's tasks run on its provider's queue (`queue_for`): calls to the cloud on `cloud`, calls to
the built-in engine on `default`, so a cloud API that hangs holds up only cloud work. Jobs reach
`submit_job` through `enhancer.dispatch`, which sends each API only as many as it has room for.

Retries are bounded by time, not by a count: a job that left our queue has
`DETAILER_JOB_MAX_AGE_MINUTES` to finish, with exponential backoff and jitter (or the API's own
Retry-After) between tries. Only a real refusal (a bad key, a bad image, the API's final
`failed`) or that age limit fails a job.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task

from enhancer.api import ApiClient, Artwork, retry_delay
from enhancer.api.errors import (
    ApiError,
    KeyRefused,
    NotFound,
    RateLimited,
)
from enhancer.crypto import DecryptionError
from enhancer.erasure import forget_at_engine
from enhancer.links import new_webhook_url, source_url
from enhancer.models import ApiJob, Job, Team
from enhancer.provenance.records import engine_description
from enhancer.providers import client_for, webhooks_reach_us
from enhancer.result_checks import check_result
from enhancer.results import ResultProblem, store_part, store_result
from enhancer.tiling.jobs import (
    FINISHING_NOTE,
    api_output_format,
    assemble_job,
    needs_finishing,
    tile_extension,
)

logger = logging.getLogger(__name__)

POLL_FIRST_DELAY = 2.0
POLL_MAX_DELAY = 60.0
PENDING = Job.PENDING_STATUSES


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def queue_for(job: Job) -> str:
    """The queue of a job's API calls: a slow cloud must never hold up built-in engine work."""
    return "cloud" if job.provider == Team.Provider.CLOUD else "default"


# Reading a job's state back frees its place for the next job: ahead of new work in the queue.
FOLLOW_PRIORITY = 10


def enqueue_for(
    job: Job, job_task: Task, *args, delay: float | None = None, priority: int = 0
) -> None:
    """Enqueue one of the job's tasks on its provider's queue, after `delay` seconds if given."""
    options: dict = {"queue_name": queue_for(job), "priority": priority}
    if delay is not None:
        options["run_after"] = later(delay)
    job_task.using(**options).enqueue(str(job.id), *args)


def room_freed() -> None:
    """A job left the API's hands: hand its place to the next queued job, once committed."""
    from enhancer.dispatch import dispatch

    transaction.on_commit(dispatch)


def fail(job: Job, message: str) -> bool:
    failed = job.advance(
        Job.Status.FAILED, allowed_from=PENDING, error_message=message, retry_note=""
    )
    if failed:
        room_freed()
    return failed


def mark_key_invalid(team: Team) -> None:
    if team.uses_cloud:
        Team.objects.filter(pk=team.pk).update(api_key_invalid_at=timezone.now())


def usable_client(job: Job) -> ApiClient | None:
    """The client for the job's own provider, or None after failing the job with the reason.

    A key removed, or an API address or stored secret that cannot be used, must end the job
    with words a person can act on, not leave it pending forever.
    """
    team = job.team
    if job.provider == Team.Provider.CLOUD and not team.api_key:
        fail(
            job,
            "This team has no API key for the Tengr.ai cloud. Ask a team admin to add "
            "one in Team settings.",
        )
        return None
    try:
        return client_for(team, job.provider)
    except (ValueError, DecryptionError) as exc:
        logger.warning("Job %s: the team's API settings cannot be used: %s", job.id, exc)
        fail(
            job,
            "The team's API settings cannot be used (the address or the key is not valid). "
            "Ask a team admin to check them in Team settings.",
        )
        return None


def load(job_id: str) -> Job | None:
    # A job deleted while its tasks were queued simply has nothing left to do.
    # Tiles included: they are sent and followed like any job (enhancer/tiling/jobs.py).
    return Job.all_objects.select_related("team").filter(pk=job_id).first()


# --- Submitting -------------------------------------------------------------------------------


@task()
def submit_job(job_id: str) -> str:
    job = load(job_id)
    if job is None:
        return "deleted"
    if job.status == Job.Status.QUEUED:
        # Only the dispatcher takes jobs out of the queue, when the API has room for them.
        from enhancer.dispatch import dispatch

        dispatch()
        return job.status
    if job.status != Job.Status.SUBMITTING or job.upstream_id:
        return job.status  # sent already (a duplicate or re-run task), or finished
    client = usable_client(job)
    if client is None:
        return job.status
    # After an attempt whose outcome we never learnt (a timeout, or a worker that died inside
    # `create`), look for the artwork it may have started before creating (and billing) another.
    earlier = find_earlier_submission(client, job) if job.create_in_doubt else None
    attempt = job.attempts + 1
    if earlier is None:
        webhook, token_hash = (
            new_webhook_url(job) if webhooks_reach_us(job.provider) else (None, "")
        )
        # The token's hash is stored before the API hears of the job: a fast engine may call
        # back before `create` has even returned.
        job.touch(attempts=attempt, webhook_token_hash=token_hash, create_in_doubt=True)
        try:
            artwork = client.create(
                source_url(job.original.name),
                scale_factor=job.scale,
                details=job.details,
                modification=job.modification,
                seed=job.seed,
                webhook=webhook,
                output_format=api_output_format(job),
                extensions=tile_extension(job),
            )
        except ApiError as exc:
            if not exc.outcome_unknown:
                job.touch(create_in_doubt=False)
            handle_submit_error(job, exc, attempt)
            return job.status
    else:
        artwork = earlier
    # The ledger that monthly limits count: one row per artwork the API accepted, kept whatever
    # becomes of the job (recorded once, however often this artwork is seen).
    ApiJob.record(job, artwork.id)
    if job.advance(
        Job.Status.STARTING,
        allowed_from=(Job.Status.SUBMITTING,),
        upstream_id=artwork.id,
        submitted_at=timezone.now(),
        retry_note="",
        create_in_doubt=False,
    ):
        apply_artwork(job, artwork, client)
        if not job.is_final:
            enqueue_for(job, poll_job, 1, delay=POLL_FIRST_DELAY, priority=FOLLOW_PRIORITY)
    return job.status


def find_earlier_submission(client: ApiClient, job: Job) -> Artwork | None:
    """The artwork an earlier attempt of this job started, if the API lists one."""
    try:
        recent = client.list(offset=0, limit=50)
    except ApiError:
        return None
    marker = str(job.id)
    return next((a for a in recent if marker in str(a.parameters.get("imageUrl", ""))), None)


def deadline(job: Job):
    return job.started_waiting_at + max_age()


def handle_submit_error(job: Job, exc: ApiError, attempt: int) -> None:
    logger.info("Submitting job %s failed (attempt %d): %s", job.id, attempt, exc)
    if isinstance(exc, KeyRefused):
        mark_key_invalid(job.team)
        fail(job, exc.user_message)
        return
    if not exc.retryable:  # a bad image or settings, or a key without permission
        fail(job, exc.user_message)
        return
    # A5: Retry-After when the API gives one, otherwise exponential backoff with jitter. Busy
    # (429) is the API's capacity, not a fault: it is waited out like any transient error, for
    # as long as the job's age allows.
    delay = max(1.0, retry_delay(exc, attempt - 1))
    if timezone.now() + timedelta(seconds=delay) > deadline(job):
        minutes = settings.DETAILER_JOB_MAX_AGE_MINUTES
        fail(
            job,
            f"{exc.user_message} We kept trying for {minutes} minutes and stopped; "
            "press Run again to try once more.",
        )
        return
    job.touch(retry_note=retry_note(exc, delay))
    enqueue_for(job, submit_job, delay=delay)


def retry_note(exc: ApiError, delay: float) -> str:
    wait = f"{round(delay)} s"
    if isinstance(exc, RateLimited):
        return f"The API asked us to slow down; retrying automatically in {wait}."
    return f"The API did not answer properly; retrying automatically in {wait}."


# --- Following --------------------------------------------------------------------------------


def max_age() -> timedelta:
    return timedelta(minutes=settings.DETAILER_JOB_MAX_AGE_MINUTES)


@task()
def poll_job(job_id: str, attempt: int) -> str:
    """Follow a job until a final state: covers every job whose webhook never comes."""
    job = load(job_id)
    if job is None or job.is_final or not job.upstream_id or job.result:
        # A result already collected is being finished (enhancer/tiling/jobs.py).
        return job.status if job else "deleted"
    if timezone.now() > deadline(job):
        minutes = settings.DETAILER_JOB_MAX_AGE_MINUTES
        fail(
            job,
            f"No result arrived within {minutes} minutes, so we stopped waiting. "
            "Press Run again to try once more.",
        )
        return job.status
    delay = None
    try:
        delay = refresh(job)
    finally:
        # Whatever went wrong in this poll, the next one is scheduled: a job is never left
        # pending with nothing following it (the age limit above ends it in the worst case).
        if not job.is_final:
            if delay is None:
                delay = min(POLL_MAX_DELAY, POLL_FIRST_DELAY * 1.5**attempt)
            enqueue_for(job, poll_job, attempt + 1, delay=delay, priority=FOLLOW_PRIORITY)
    return job.status


@task()
def check_job(job_id: str) -> str:
    """Read the job's state once, e.g. when a webhook says it changed (the webhook is a hint)."""
    job = load(job_id)
    if job is None or job.is_final or not job.upstream_id or job.result:
        return job.status if job else "deleted"
    refresh(job)
    return job.status


def refresh(job: Job) -> float | None:
    """Read the artwork and apply it. Returns a delay the API asked for, if any."""
    client = usable_client(job)
    if client is None:
        return None
    Job.objects.filter(pk=job.pk).update(polls=job.polls + 1)
    try:
        artwork = client.get(job.upstream_id)
    except RateLimited as exc:
        return max(1.0, retry_delay(exc, 1))
    except KeyRefused as exc:
        mark_key_invalid(job.team)
        fail(job, exc.user_message)
    except NotFound as exc:
        fail(job, exc.user_message)
    except ApiError as exc:
        if not exc.retryable:
            fail(job, exc.user_message)
        logger.info("Polling job %s: %s", job.id, exc)
    else:
        apply_artwork(job, artwork, client)
    return None


def apply_artwork(job: Job, artwork: Artwork, client: ApiClient) -> None:
    status = artwork.status
    if status == "processing":
        job.advance(
            Job.Status.PROCESSING,
            allowed_from=(Job.Status.SUBMITTING, Job.Status.STARTING),
        )
    elif status == "succeeded":
        collect(job, artwork)
    elif status == "failed":
        said = artwork.failure_text
        detail = f" It said: {said}" if said else ""
        fail(
            job,
            f"The enhancement failed at the API.{detail} Try again, perhaps with other settings.",
        )
    elif status == "canceled" and job.advance(
        Job.Status.CANCELED,
        allowed_from=PENDING,
        error_message="The API canceled this job.",
    ):
        room_freed()


def collect(job: Job, artwork: Artwork) -> None:
    """Copy the result into our storage (the cloud deletes it after 8 days), then finish."""
    if not artwork.results:
        fail(job, "The API reported success but sent no result. Press Run again to retry.")
        return
    # Known before storing: the Content Credentials embedded while storing name the engine.
    job.engine_version = engine_description(job, artwork)
    if job.parent_id or needs_finishing(job):
        collect_part(job, artwork)
        return
    try:
        stored = store_result(job, artwork.results[0], trusted_host=engine_host(job))
    except ResultProblem as exc:
        logger.warning("Collecting job %s failed: %s", job.id, exc)
        fail(job, exc.message)
        return
    if not job.advance(
        Job.Status.SUCCEEDED,
        allowed_from=PENDING,
        result=stored.result_name,
        result_width=stored.width,
        result_height=stored.height,
        result_bytes=stored.size,
        thumbnail=stored.thumbnail_name,
        duration=artwork.duration,
        retry_note="",
        result_sha256=stored.sha256,
        engine_version=job.engine_version,
        has_credentials=stored.has_credentials,
        credentials_note=stored.credentials_note,
    ):
        stored.discard()  # another worker finished it first, or it was canceled
    else:
        room_freed()
        check_result.enqueue(str(job.id))
    # We have our copy (or want none): the built-in engine may delete its own.
    forget_at_engine(job)


def collect_part(job: Job, artwork: Artwork) -> None:
    """A tile's result, or the one result of a job still to be finished: stored as it came (no
    thumbnail, signature or checks: those belong to the file delivered), then joined."""
    try:
        part, width, height = store_part(job, artwork.results[0], trusted_host=engine_host(job))
    except ResultProblem as exc:
        logger.warning("Collecting job %s failed: %s", job.id, exc)
        fail(job, exc.message)
        return
    if job.parent_id:
        done = job.advance(
            Job.Status.SUCCEEDED,
            allowed_from=PENDING,
            result=part,
            result_width=width,
            result_height=height,
            duration=artwork.duration,
            retry_note="",
            engine_version=job.engine_version,
        )
    else:
        # The API's place is free; the job itself ends when its file is finished. Once only:
        # a late poll or webhook finds the part already collected.
        done = bool(
            Job.all_objects.filter(pk=job.pk, status__in=PENDING, result="").update(
                status=Job.Status.PROCESSING,
                result=part,
                duration=artwork.duration,
                retry_note=FINISHING_NOTE,
                engine_version=job.engine_version,
                updated_at=timezone.now(),
            )
        )
        if done:
            transaction.on_commit(lambda: assemble_job.enqueue(str(job.id)))
    if done:
        room_freed()
    elif not Job.all_objects.filter(result=part).exists():
        # Another collection won; storage may have given both the same name, then it is theirs.
        default_storage.delete(part)
    forget_at_engine(job)


def engine_host(job: Job) -> str | None:
    """The built-in engine serves results from this site: allow exactly its address."""
    if job.provider == Team.Provider.BUILTIN:
        return urlsplit(settings.DETAILER_ENGINE_URL).netloc
    return None
