"""The real URLs plus the bare view the benchmark measures every page against."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from detailer_site.urls import urlpatterns as site_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    """The floor: Django's whole middleware stack, no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *site_urlpatterns]
