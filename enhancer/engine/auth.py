"""Bearer-key authentication for the engine, and the site's own default key."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from enhancer.engine.contract import ContractError
from enhancer.engine.models import KEY_PREFIX, EngineKey, hash_key

DEFAULT_KEY_LABEL = "This site (default)"


def authenticate(request: HttpRequest) -> EngineKey:
    header = request.headers.get("Authorization", "")
    scheme, _, raw_key = header.partition(" ")
    if scheme.lower() != "bearer" or not raw_key.strip():
        raise ContractError(401, "Missing API key: send Authorization: Bearer <key>.")
    key = EngineKey.objects.authenticate(raw_key.strip())
    if key is None:
        raise ContractError(401, "Invalid API key.")
    # Touch at most once a minute: one write per poll would be wasted work.
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        EngineKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def default_key() -> str:
    """The key teams on the built-in engine use, without anyone having to create one.

    Derived from SECRET_KEY rather than stored, so it needs no file and no migration, and
    rotating SECRET_KEY rotates it. Its hash is registered on first use.
    """
    raw_key = (
        KEY_PREFIX
        + salted_hmac(
            "detailer.engine.default-key", "v1", secret=settings.SECRET_KEY, algorithm="sha256"
        ).hexdigest()
    )
    EngineKey.objects.get_or_create(
        key_hash=hash_key(raw_key), defaults={"label": DEFAULT_KEY_LABEL, "hint": raw_key[-4:]}
    )
    return raw_key
