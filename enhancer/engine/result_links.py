"""Signed, expiring result URLs, and forgetting an artwork's files.

A result URL used to be the artwork's UUID and nothing else: whoever saw it once could fetch the
result for ever, even after the job was deleted. Now each URL carries its expiry time and an
HMAC over the artwork, the file name and that time, as the source URLs the product hands to the
API do. Every read of the artwork (`GET /v2/artworks/:id`, the webhook) signs afresh, so a caller
always has a working URL, and a copied link dies after `DETAILER_ENGINE_RESULT_URL_MINUTES`.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.crypto import constant_time_compare, salted_hmac

from enhancer.engine.files import CONTEXT_EXTENSIONS, RESULTS, input_name

SALT = "detailer.engine.result-url"


def signature(artwork_id: str, name: str, expires: int) -> str:
    return salted_hmac(SALT, f"{artwork_id}/{name}/{expires}", algorithm="sha256").hexdigest()


def lifetime_seconds() -> int:
    return settings.DETAILER_ENGINE_RESULT_URL_MINUTES * 60


def signed_query(artwork_id: str, name: str, *, now: float | None = None) -> str:
    """`?expires=…&signature=…` for one result file; `now` lets tests sign in the past."""
    expires = int(now if now is not None else time.time()) + lifetime_seconds()
    return "?" + urlencode(
        {"expires": expires, "signature": signature(str(artwork_id), name, expires)}
    )


def is_valid(artwork_id: str, name: str, expires: str, given: str) -> bool:
    """The signature matches and the expiry has not passed (an expiry is never extended:
    it is inside what is signed)."""
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return constant_time_compare(signature(str(artwork_id), name, int(expires)), given)


def remove_files(artwork_id: str, input_file: str) -> None:
    """Delete the engine's copies of one artwork, wherever storage keeps them: its input (and
    a tile's context image) and its results."""
    if input_file:
        default_storage.delete(input_name(input_file))
        if input_file.split(".", 1)[0] == artwork_id:
            # A tile's context, if any: the name is known but for the format.
            for extension in CONTEXT_EXTENSIONS:
                default_storage.delete(input_name(f"{artwork_id}.context.{extension}"))
    folder = f"{RESULTS}/{artwork_id}"
    if default_storage.exists(folder) or getattr(default_storage, "bucket_name", None):
        for name in default_storage.listdir(folder)[1]:
            default_storage.delete(f"{folder}/{name}")
