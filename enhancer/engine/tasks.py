"""The engine's background work: processing artworks and delivering their webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks import task

if TYPE_CHECKING:
    from enhancer.engine.pipeline import EnhanceSettings

from enhancer.engine.files import CONTEXT_EXTENSIONS, input_name, result_name
from enhancer.engine.models import Artwork
from enhancer.engine.result_links import remove_files
from enhancer.net import FetchPolicy, FetchProblem, post_json
from enhancer.storage import iter_chunks

logger = logging.getLogger(__name__)

WEBHOOK_MAX_ATTEMPTS = 6
# Refusals that no retry can change: the URL itself is not acceptable.
REFUSED_FOR_GOOD = {"malformed", "bad_scheme", "credentials", "forbidden_address"}
FAILURE_MESSAGE = "The image could not be processed."


# A queue of its own: a long 8x job must never hold up submitting, polling or collecting.
@task(queue_name="engine")
def process_artwork(artwork_id: str) -> str:
    from enhancer.engine.pipeline import EnhanceSettings, TilePlace

    artwork = Artwork.objects.filter(pk=artwork_id).first()
    if artwork is None:
        return "deleted"  # forgotten (DELETE) before a worker took it
    started = timezone.now()
    # From PROCESSING too: this task runs again only when its worker died mid-way (see
    # enhancer/workers.py), and the artwork is then processed afresh; the result is delivered
    # once, since the artwork, and the job behind it, only move forward.
    if not artwork.advance(
        Artwork.Status.PROCESSING,
        allowed_from=(Artwork.Status.STARTING, Artwork.Status.PROCESSING),
        started_at=started,
    ):
        return artwork.status  # canceled, or finished already
    params = artwork.parameters
    options = EnhanceSettings(
        scale=params["scaleFactor"],
        details=params["details"],
        modification=params["modification"],
        seed=params.get("seed"),
        output_format=params.get("outputFormat", "auto"),
        tile=TilePlace(
            left=params["tile"]["left"],
            top=params["tile"]["top"],
            image_width=params["tile"]["imageWidth"],
            image_height=params["tile"]["imageHeight"],
        )
        if params.get("tile")
        else None,
    )
    clock = time.monotonic()
    try:
        result_file = enhance_stored(artwork, options)
    except Exception:
        # Whatever broke, the artwork must end in a final state; the log keeps the details.
        logger.exception("Engine failed to process artwork %s", artwork.id)
        artwork.advance(
            Artwork.Status.FAILED,
            allowed_from=(Artwork.Status.PROCESSING,),
            message=FAILURE_MESSAGE,
            duration=time.monotonic() - clock,
            finished_at=timezone.now(),
        )
    else:
        artwork.advance(
            Artwork.Status.SUCCEEDED,
            allowed_from=(Artwork.Status.PROCESSING,),
            result_files=[result_file],
            duration=time.monotonic() - clock,
            finished_at=timezone.now(),
        )
    if not Artwork.objects.filter(pk=artwork.pk).exists():
        # Forgotten while we worked: what we wrote must not outlive it.
        remove_files(str(artwork.id), artwork.input_file)
        return "deleted"
    if artwork.webhook_url:
        deliver_webhook.enqueue(str(artwork.id), 1)
    return artwork.status


def enhance_stored(artwork: Artwork, options: EnhanceSettings) -> str:
    """Enhance the artwork's stored input into a stored result; returns the result's name.

    The pipeline works on files, so the input is copied into a scratch directory that is
    removed straight after: with a bucket, no image stays on the worker's disk.
    """
    from enhancer.engine.pipeline import enhance_file

    with tempfile.TemporaryDirectory(prefix="detailer-engine-") as scratch:
        source = Path(scratch) / artwork.input_file
        with source.open("wb") as copy:
            for chunk in iter_chunks(input_name(artwork.input_file)):
                copy.write(chunk)
        context = None
        if options.tile is not None:
            context = copy_context(str(artwork.id), Path(scratch))
        result = enhance_file(source, Path(scratch) / "result", options, context=context)
        with result.path.open("rb") as produced:
            stored = default_storage.save(
                result_name(str(artwork.id), result.path.name), File(produced)
            )
    return PurePath(stored).name


def copy_context(artwork_id: str, scratch: Path) -> Path | None:
    """A tiled artwork's context image (views.py stored it beside the input), copied into
    `scratch`; None when it is gone (the tile is then enhanced with its own CLAHE)."""
    for extension in CONTEXT_EXTENSIONS:
        name = input_name(f"{artwork_id}.context.{extension}")
        if default_storage.exists(name):
            copy = scratch / f"context.{extension}"
            with copy.open("wb") as out:
                for chunk in iter_chunks(name):
                    out.write(chunk)
            return copy
    logger.warning("Context image of tiled artwork %s is missing", artwork_id)
    return None


def sign(body: bytes, secret: str) -> str:
    """A3: HMAC-SHA256 of the raw body under the webhook secret, as `sha256=<hex>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_retry_delay(attempt: int) -> float:
    # 10 s, 20 s, 40 s, ... with jitter so many failed deliveries do not retry in lockstep.
    return min(600.0, 10.0 * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)  # noqa: S311


def webhook_policy() -> FetchPolicy:
    """Webhooks go to this site (which may be on loopback) or to public addresses only, so an
    engine key can never make the engine call into the private network."""
    return FetchPolicy.public_only(settings.DETAILER_ENGINE_WEBHOOK_HOSTS)


@task()
def deliver_webhook(artwork_id: str, attempt: int) -> bool:
    from enhancer.engine.contract import serialize_artwork

    artwork = Artwork.objects.filter(pk=artwork_id).first()
    if artwork is None:
        return True  # forgotten: there is nothing left to tell
    url = artwork.webhook_url
    if not url or artwork.webhook_delivered_at is not None:
        return True
    body = json.dumps(serialize_artwork(artwork)).encode()
    headers = {
        "X-Signature": sign(body, settings.DETAILER_ENGINE_WEBHOOK_SECRET),
        "User-Agent": "Detailer-Engine",
    }
    try:
        status = post_json(url, body, headers=headers, policy=webhook_policy(), timeout=15.0)
        delivered, outcome = 200 <= status < 300, str(status)
    except FetchProblem as exc:
        if exc.code in REFUSED_FOR_GOOD:
            logger.warning("Webhook for %s refused: %s", artwork_id, exc.message)
            return False
        delivered, outcome = False, exc.code
    Artwork.objects.filter(pk=artwork.pk).update(
        webhook_attempts=attempt,
        webhook_delivered_at=timezone.now() if delivered else None,
    )
    if delivered:
        return True
    if attempt >= WEBHOOK_MAX_ATTEMPTS:
        logger.warning(
            "Webhook for %s given up after %d attempts (%s)", artwork_id, attempt, outcome
        )
        return False
    logger.info("Webhook for %s failed (%s); retrying", artwork_id, outcome)
    deliver_webhook.using(
        run_after=timezone.now() + timedelta(seconds=webhook_retry_delay(attempt))
    ).enqueue(artwork_id, attempt + 1)
    return False
