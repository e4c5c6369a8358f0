"""System checks: a misconfigured engine core is reported when the site starts, not per job."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from . import cores


@register()
def check_engine_core(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.DETAILER_ENGINE_ENABLED:
        return []
    name = settings.DETAILER_ENGINE_CORE
    if name not in cores.available_cores():
        return [
            Error(
                f"DETAILER_ENGINE_CORE is {name!r}, which is not a core.",
                hint=f"Use one of: {', '.join(cores.available_cores())}.",
                id="engine.E001",
            )
        ]
    if name != "learned":
        return []
    from . import learned

    missing = [
        str(learned.WEIGHTS_DIR / f"x{scale}.onnx")
        for scale in learned.NETWORK_SCALES
        if not (learned.WEIGHTS_DIR / f"x{scale}.onnx").is_file()
    ]
    if missing:
        return [
            Error(
                f"The learned core's models are missing: {', '.join(missing)}.",
                hint="Restore them from git, retrain with `make train`, or set "
                "DETAILER_ENGINE_CORE=classical.",
                id="engine.E002",
            )
        ]
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return [
            Error(
                "The learned core needs onnxruntime, which is not installed.",
                hint="pip install -e .  (or set DETAILER_ENGINE_CORE=classical)",
                id="engine.E003",
            )
        ]
    return []
