"""The Test connection button: one cheap authenticated call, reported in plain words.

It runs inside the request on purpose (someone is waiting for the answer), with short
timeouts. The call is `GET /v2/artworks?limit=1`, which needs only the generator scope and
creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from enhancer.api import ApiClient
from enhancer.api.errors import ApiError, ApiUnreachable, KeyRefused, PermissionDenied
from enhancer.models import Team

TIMEOUT = (5.0, 10.0)


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str


def check_connection(team: Team, provider: str, typed_key: str = "") -> ConnectionResult:
    """Try `provider` with the key just typed, or else the team's saved key."""
    if provider == Team.Provider.CLOUD:
        base_url = team.api_base_url or settings.DETAILER_API_URL
        key = typed_key or team.api_key
        uses_saved_key = not typed_key
        name = f"The Tengr.ai cloud at {base_url}"
        which_key = "the saved key" if uses_saved_key else "the key you typed (not saved yet)"
        if not key:
            return ConnectionResult(False, "Enter an API key first, then test it.")
    else:
        from enhancer.engine.auth import default_key

        base_url, key, uses_saved_key = settings.DETAILER_ENGINE_URL, default_key(), False
        name, which_key = "The built-in engine on this server", "its own key"
    try:
        client = ApiClient(base_url, key, timeout=TIMEOUT)
    except ValueError:
        return ConnectionResult(
            False, "This key has spaces or characters an API key cannot have. Copy it again."
        )
    with client:
        try:
            client.list(offset=0, limit=1)
        except KeyRefused:
            if uses_saved_key:
                Team.objects.filter(pk=team.pk).update(api_key_invalid_at=timezone.now())
            return ConnectionResult(
                False,
                "Key refused: the API does not accept this key. Check that you copied all of "
                "it, or create a new key in your Tengr.ai account.",
            )
        except PermissionDenied:
            return ConnectionResult(
                False,
                "No permission: the API knows this key, but it may not create images. "
                "Use a key with the generator scope.",
            )
        except ApiUnreachable as exc:
            waited = " in time" if exc.timed_out else ""
            # Not the person's typing: this server may have no internet access at all.
            return ConnectionResult(
                False,
                f"Unreachable: {name} did not answer{waited}. This server may have no "
                "internet access, or the service may be down for a while. The address is "
                "set by the site administrator.",
            )
        except ApiError as exc:
            return ConnectionResult(False, f"{name} answered: {exc.user_message}")
    if uses_saved_key and team.api_key_invalid_at:
        Team.objects.filter(pk=team.pk).update(api_key_invalid_at=None)
        team.api_key_invalid_at = None
    return ConnectionResult(True, f"It works: {name} answered and accepted {which_key}.")
