"""Where the engine keeps its input and result files (under MEDIA_ROOT/engine/)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+\.(png|webp|jpg|jpeg)$")


def engine_dir(kind: str) -> Path:
    path = Path(settings.MEDIA_ROOT) / "engine" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def input_path(name: str) -> Path:
    return engine_dir("inputs") / name


def result_path(artwork_id: str, name: str) -> Path | None:
    """The file behind a result URL, or None for a name that is not one of ours."""
    if not SAFE_NAME.match(name):
        return None
    return engine_dir("results") / str(artwork_id) / name
