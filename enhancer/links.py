"""URLs we hand to the API: the original image it fetches and the webhook it calls back.

Both are absolute URLs on SITE_URL, because the API calls them from outside any request.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.urls import reverse

from enhancer.models import Job

SOURCE_SALT = "detailer.job-source"
# Long enough for a retried submission and the cloud's own queue; short enough that a leaked
# link soon stops working.
SOURCE_MAX_AGE = 24 * 60 * 60


def absolute(path: str) -> str:
    return settings.SITE_URL + path


# Only these stored files may ever be handed out through a source URL.
SOURCE_PREFIXES = ("originals/", "staged/", "previews/", "tiles/")


def source_url(storage_name: str) -> str:
    """An unguessable, expiring URL serving one stored file (a job's original, or an image an
    operator staged with `manage.py enhance`)."""
    token = signing.TimestampSigner(salt=SOURCE_SALT).sign(storage_name)
    return absolute(reverse("job_source", args=[token]))


def storage_name_from_source_token(token: str) -> str | None:
    try:
        name = signing.TimestampSigner(salt=SOURCE_SALT).unsign(token, max_age=SOURCE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not name.startswith(SOURCE_PREFIXES) or ".." in name:
        return None
    return name


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_webhook_url(job: Job) -> tuple[str, str]:
    """A webhook URL with a fresh per-job secret; returns (url, token hash to store)."""
    token = secrets.token_urlsafe(32)
    return absolute(reverse("job_webhook", args=[job.id, token])), hash_token(token)
