"""`/healthz`: is the database answering, and is the task queue being worked?"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult

# A task that has waited this long with nobody picking it up means no worker is running.
STALE_AFTER = timedelta(minutes=5)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any driver error means "down"; say which
        healthy = False
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
    if checks["database"]["ok"]:
        ready = DBTaskResult.objects.ready()
        oldest = ready.order_by("enqueued_at").values_list("enqueued_at", flat=True).first()
        stale = oldest is not None and timezone.now() - oldest > STALE_AFTER
        checks["queue"] = {
            "ok": not stale,
            "waiting": ready.count(),
            "oldest_waiting_seconds": (
                round((timezone.now() - oldest).total_seconds()) if oldest else None
            ),
        }
        healthy = healthy and not stale
    status = "ok" if healthy else "unavailable"
    return JsonResponse({"status": status, "checks": checks}, status=200 if healthy else 503)
