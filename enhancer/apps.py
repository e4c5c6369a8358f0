from __future__ import annotations

from django.apps import AppConfig


class EnhancerConfig(AppConfig):
    name = "enhancer"
    verbose_name = "Detailer"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the deployment checks
