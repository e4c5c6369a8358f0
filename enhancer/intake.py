"""Taking images in: the web request stores bytes, a worker decodes, checks and cleans them.

A web request does only what is cheap and bounded: each upload arrives in a temporary file
(enhancer/uploads.py), its first bytes and header are read (`peek_image`: the format, and the
dimensions, so a decompression bomb or a PDF is refused in the form at once), and it is streamed
into storage as it came. An image URL is not fetched at all: the job records it.

`prepare_job` then runs in a worker: it fetches the URL through the SSRF guard ("Fetching the
image..." on the card meanwhile), decodes the image fully, checks it, turns it upright, converts
it to sRGB, strips its metadata and fits it to the API's area limit (enhancer/images.py). A
problem fails the job with the reason; a good image moves the job into the queue.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from pathlib import PurePath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from enhancer.images import ImageProblem, prepare_image
from enhancer.models import Job, Membership
from enhancer.net import FetchPolicy, FetchProblem, fetch_image_url, message_for
from enhancer.quotas import QuotaExceeded, check_quota
from enhancer.tasks import fail, load
from enhancer.tiling.grid import plan_tiles
from enhancer.tiling.jobs import split, store_inputs, tile_settled
from enhancer.tiling.sizes import OutputTooLarge, plan_output

logger = logging.getLogger(__name__)

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
URL_FETCH_TIMEOUT = 15.0
# How long the file as uploaded outlives its checked copy (a page may be showing it).
UPLOAD_GRACE = timedelta(minutes=2)
# What a link led to when it was not a picture we take (a web page, a GIF, nothing).
NOT_A_PICTURE = {"empty", "not_an_image", "unsupported_format"}


def fetching_note(url: str) -> str:
    host = urlsplit(url).hostname or "the address given"
    return f"Fetching the image from {host}…"


CHECKING_NOTE = "Checking the image…"


def name_from_url(url: str) -> str:
    return (PurePath(urlsplit(url).path).name or "image")[:200]


@task()
def prepare_job(job_id: str) -> str:
    job = load(job_id)
    if job is None or job.status != Job.Status.PREPARING:
        return job.status if job else "deleted"
    if job.original_sha256 and job.original:
        # Run again: the stored original was checked when its first version was made.
        return plan_and_queue(job, job.original.name, job.original_width, job.original_height)
    try:
        data = fetch_source(job) if job.source_url else read_upload(job)
        image = prepare_image(
            data,
            max_bytes=settings.DETAILER_MAX_UPLOAD_BYTES,
            auto_fit=True,
            keep_size=not job.fit_to_limit,
        )
    except FetchProblem as exc:
        fail(job, exc.message)  # the message table's words (enhancer/net/messages.py)
        return job.status
    except ImageProblem as exc:
        if job.source_url and exc.code in NOT_A_PICTURE:
            # "This file is not an image" means little for a link: say what to do instead.
            fail(job, message_for("not_an_image", host=urlsplit(job.source_url).hostname or ""))
        else:
            fail(job, exc.message)
        return job.status
    as_uploaded = job.original.name
    # Saved beside the upload first (storage picks a free name): a worker that dies here
    # leaves the upload in place, and the task's next run starts again from it.
    stored = default_storage.save(
        f"originals/{job.id}.{EXTENSIONS[image.format]}", ContentFile(image.content)
    )
    status = plan_and_queue(
        job,
        stored,
        image.width,
        image.height,
        fit_message=image.message or "",
        original_bytes=len(image.content),
        # Provenance: the file as it came, before any conversion, and as stored.
        upload_sha256=hashlib.sha256(data).hexdigest(),
        original_sha256=hashlib.sha256(image.content).hexdigest(),
    )
    if status == Job.Status.QUEUED:
        if as_uploaded and as_uploaded != stored:
            # Not at once: a page may be showing the upload as the card's picture right now.
            delete_upload.using(run_after=timezone.now() + UPLOAD_GRACE).enqueue(as_uploaded)
    else:  # canceled or deleted meanwhile, or too large for its format
        if not Job.all_objects.filter(original=stored).exclude(pk=job.pk).exists():
            default_storage.delete(stored)
    return status


def plan_and_queue(job: Job, stored: str, width: int, height: int, **fields) -> str:
    """Decide what is sent (whole or in tiles, at which Enlarge, to which final size) and queue
    it: the job itself, or its tiles."""
    try:
        plan = plan_output(
            width, height, scale=job.scale, made_for=job.made_for, fmt=job.output_format
        )
    except OutputTooLarge as exc:
        fail(job, exc.message)
        return job.status
    rects = plan_tiles(width, height)
    tile_count = len(rects) if len(rects) > 1 else 0
    # The tiles' inputs first: seconds of decoding and encoding, never inside a transaction.
    inputs = store_inputs(stored, rects) if tile_count else []
    # A version made by Run again inherits its notes: each is said once.
    notes = " ".join(
        dict.fromkeys(
            note for note in (fields.pop("fit_message", job.fit_message), plan.note) if note
        )
    )
    job.original.name = stored
    with transaction.atomic():
        if tile_count > max(1, job.tile_count) and not within_quota(job, tile_count):
            return job.status
        if not job.advance(
            Job.Status.QUEUED,
            allowed_from=(Job.Status.PREPARING,),
            original=stored,
            original_width=width,
            original_height=height,
            scale=plan.scale,
            final_width=plan.final[0],
            final_height=plan.final[1],
            tile_count=tile_count,
            fit_message=notes[:255],
            retry_note="",
            **fields,
        ):
            return job.status
        if job.tile_count:
            split(job, rects, inputs)
            transaction.on_commit(lambda: tile_settled(job.pk))
    from enhancer.dispatch import dispatch

    dispatch()
    return job.status


def within_quota(job: Job, tile_count: int) -> bool:
    """An image URL (or a header that misled) turned out to need more tiles than were counted
    when the job was made: check the monthly limits for the rest, or fail the job saying so."""
    membership = Membership.objects.filter(team_id=job.team_id, user_id=job.created_by_id).first()
    if membership is None:
        return True  # the sender has left the team: the team's limit was checked at sending
    try:
        check_quota(membership, tile_count - max(1, job.tile_count), tiles=True)
    except QuotaExceeded as exc:
        fail(job, f"This image needs {tile_count} API jobs (one per tile). {exc.message}")
        return False
    return True


@task()
def delete_upload(name: str) -> None:
    # Run again shares stored originals between versions: only a file no job uses goes.
    if not Job.objects.filter(original=name).exists():
        default_storage.delete(name)


def fetch_source(job: Job) -> bytes:
    fetched = fetch_image_url(
        job.source_url,
        max_bytes=settings.DETAILER_MAX_UPLOAD_BYTES,
        timeout=URL_FETCH_TIMEOUT,
        policy=FetchPolicy.for_user_urls(),
    )
    name = name_from_url(fetched.final_url.split("?", 1)[0])
    if name != job.original_name:
        job.touch(original_name=name)
    return fetched.content


def read_upload(job: Job) -> bytes:
    if not job.original:
        raise ImageProblem("empty", "This file is empty. Choose a JPEG, PNG or WebP picture.")
    with job.original.open("rb") as upload:
        # One byte past the limit is enough to say it is too large.
        return upload.read(settings.DETAILER_MAX_UPLOAD_BYTES + 1)
