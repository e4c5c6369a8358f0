"""ASGI entry point, for deployments that prefer an ASGI server."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "detailer_site.settings")

application = get_asgi_application()
