"""The webhook the API calls when a job reaches a final state.

It is a hint, never the truth: the per-job token proves the caller knows the URL we handed out,
the signature (when the team has a secret, A3) proves it came from the API, and even then the
job is only moved after reading the artwork back with the team's own key (`check_job`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from enhancer.api import Artwork
from enhancer.api.errors import MalformedResponse
from enhancer.links import hash_token
from enhancer.models import Job, WebhookEvent
from enhancer.providers import webhook_secret_for
from enhancer.tasks import FOLLOW_PRIORITY, check_job, enqueue_for

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024


def signature_matches(body: bytes, header: str, secret: str) -> bool:
    # A3: HMAC-SHA256 of the raw body, hex, with or without a "sha256=" prefix.
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = header.strip().removeprefix("sha256=")
    return constant_time_compare(expected, given.lower())


@csrf_exempt  # called by the API, authenticated by the token in its URL instead
@require_POST
def job_webhook(request: HttpRequest, job_id: uuid.UUID, token: str) -> JsonResponse:
    job = Job.all_objects.select_related("team").filter(pk=job_id).first()  # tiles too
    if (
        job is None
        or not job.webhook_token_hash
        or not constant_time_compare(hash_token(token), job.webhook_token_hash)
    ):
        raise Http404("No such webhook")
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return JsonResponse({"error": "The body is too large."}, status=413)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return JsonResponse({"error": "The body is too large."}, status=413)

    secret = webhook_secret_for(job.team, job.provider)
    if secret:
        header = request.headers.get(settings.DETAILER_WEBHOOK_SIGNATURE_HEADER, "")
        if not signature_matches(body, header, secret):
            logger.warning("Webhook for job %s with a bad signature", job.id)
            return JsonResponse({"error": "The signature does not match."}, status=403)

    try:
        artwork = Artwork.from_json(json.loads(body))
    except (ValueError, MalformedResponse) as exc:
        return JsonResponse({"error": f"The body is not an artwork: {exc}"}, status=400)
    if job.upstream_id and artwork.id != job.upstream_id:
        return JsonResponse({"error": "The artwork id does not match this job."}, status=400)

    try:
        with transaction.atomic():
            WebhookEvent.objects.create(job=job, status=artwork.status)
    except IntegrityError:
        return JsonResponse({"ok": True, "duplicate": True})
    if not job.is_final:
        enqueue_for(job, check_job, priority=FOLLOW_PRIORITY)
    return JsonResponse({"ok": True, "duplicate": False})
