"""Which API a team's jobs go to, with which key, and whether a webhook can reach us."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings

from enhancer.api import ApiClient
from enhancer.models import Team


def client_for(team: Team, provider: str | None = None) -> ApiClient:
    """The client for `provider` (a job's own, fixed at submission) or the team's current one."""
    if (provider or team.provider) == Team.Provider.CLOUD:
        return ApiClient(
            team.api_base_url or settings.DETAILER_API_URL,
            team.api_key,
            timeout=(5.0, float(settings.DETAILER_API_TIMEOUT_SECONDS)),
        )
    from enhancer.engine.auth import default_key

    # The engine downloads the image inside `create` (up to 20 s): the default 30 s read.
    return ApiClient(settings.DETAILER_ENGINE_URL, default_key())


def site_is_public_https() -> bool:
    """Can the cloud reach our webhooks? It refuses anything but https on a public host."""
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme != "https" or not parts.hostname:
        return False
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return "." in host  # a DNS name; whether it is public is the deployer's promise


def webhooks_reach_us(provider: str) -> bool:
    # The built-in engine runs beside us and may call loopback; the cloud needs public https.
    return provider != Team.Provider.CLOUD or site_is_public_https()


def webhook_secret_for(team: Team, provider: str) -> str:
    """The secret a job's webhook signature is checked with (A3); empty = no signature check.

    `provider` is the job's own: a job sent to the engine is signed by the engine, even if the
    team has switched to the cloud since.
    """
    if provider == Team.Provider.CLOUD:
        return team.webhook_secret
    return settings.DETAILER_ENGINE_WEBHOOK_SECRET
