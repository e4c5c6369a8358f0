from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Detailer administration"
admin.site.site_title = "Detailer admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("enhancer.urls")),
]

if settings.DETAILER_ENGINE_ENABLED:
    urlpatterns.append(path("engine/", include("enhancer.engine.urls")))
