from __future__ import annotations

from django.apps import AppConfig


class EngineConfig(AppConfig):
    """The built-in engine: serves the Detailer Upscaler contract from this site."""

    name = "enhancer.engine"
    label = "engine"
    verbose_name = "Built-in engine"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
