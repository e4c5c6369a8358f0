"""Deployment checks (`manage.py check --deploy`) for the security set-up the README asks for."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_secrets_and_proxy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    found: list[CheckMessage] = []
    if settings.FIELD_ENCRYPTION_KEYS_GENERATED:
        found.append(
            Warning(
                "FIELD_ENCRYPTION_KEYS is read from field_encryption_key.txt in the data "
                "directory, beside the database it protects: a backup holds both.",
                hint="Set FIELD_ENCRYPTION_KEYS by variable (e.g. the value of that file) and "
                "move the file out of the data directory and its backups.",
                id="detailer.W001",
            )
        )
    if settings.SITE_IS_HTTPS and not settings.DETAILER_TRUSTED_PROXIES:
        found.append(
            Warning(
                "SITE_URL is https, so the site runs behind a TLS proxy, but "
                "DETAILER_TRUSTED_PROXIES is empty: every login attempt seems to come from the "
                "proxy, and failures from anyone lock an account for everyone.",
                hint="Set DETAILER_TRUSTED_PROXIES to the proxy's address as gunicorn sees it "
                "(e.g. 127.0.0.1).",
                id="detailer.W002",
            )
        )
    return found
