"""`/healthz`: is the database answering, and is every task queue being worked?

Each queue reports its live workers (by heartbeat, see enhancer/workers.py) and its oldest
waiting task; the answer is 503, naming the queue, when a queue has had no live worker for a
minute (or, never having had one, has kept a task waiting for a minute).
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from enhancer.workers import queue_health


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
    body: dict = {}
    if checks["database"]["ok"]:
        queues = queue_health()
        checks["queues"] = queues
        unworked = [name for name, queue in queues.items() if not queue["ok"]]
        if unworked:
            healthy = False
            body["error"] = "No live worker for the queue(s): " + ", ".join(unworked)
    status = "ok" if healthy else "unavailable"
    return JsonResponse(
        {"status": status, **body, "checks": checks}, status=200 if healthy else 503
    )
