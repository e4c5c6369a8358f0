"""The artwork object of the contract (create, read, list and, A2, webhook bodies), parsed
strictly from untrusted JSON."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .errors import MalformedResponse

STATUSES = frozenset({"starting", "processing", "succeeded", "failed", "canceled"})
FINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})
# Ids go into URL paths: refuse anything that could change the path ("/", "..", "?", "%").
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


@dataclass(frozen=True)
class Artwork:
    """An artwork as the contract describes it (create, read, list and, A2, webhook bodies)."""

    id: str
    status: str
    artwork_type: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    results: list[str] = field(default_factory=list)
    duration: float | None = None  # A8: seconds of processing
    created_at: datetime | None = None
    # A9: a failed artwork has no documented error field; keep whatever message/error it carries.
    message: str | None = None
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def failure_text(self) -> str | None:
        """The server's own words about a failure (A9), for display; None if it gave none."""
        parts = [p for p in (self.message, self.error) if p]
        return ": ".join(dict.fromkeys(parts)) or None

    @classmethod
    def from_json(cls, data: Any) -> Artwork:
        """Build from a decoded JSON body; raise MalformedResponse for anything off-contract.

        Strict on what the product acts on (id, status, results, timings), because a webhook body
        (A2) is untrusted input. Lenient only on artworkType (list() returns every artwork of the
        key, not only detailer_upscaler ones) and on the display-only message/error (A9).
        """
        if not isinstance(data, dict):
            raise MalformedResponse(f"artwork must be a JSON object, got {kind(data)}")
        art_id = data.get("id")
        if not isinstance(art_id, str) or not ID_RE.fullmatch(art_id):
            raise MalformedResponse(f"artwork id is missing or invalid: {excerpt(art_id)}")
        status = data.get("status")
        if not isinstance(status, str) or status not in STATUSES:
            raise MalformedResponse(f"artwork {art_id} has an unknown status: {excerpt(status)}")
        artwork_type = data.get("artworkType")
        if artwork_type is not None and not isinstance(artwork_type, str):
            raise MalformedResponse(f"artwork {art_id}: artworkType must be a string")
        parameters = data.get("parameters")
        if parameters is None:
            parameters = {}
        elif not isinstance(parameters, dict):
            raise MalformedResponse(f"artwork {art_id}: parameters must be an object")
        return cls(
            id=art_id,
            status=status,
            artwork_type=artwork_type,
            parameters=dict(parameters),
            results=_results(art_id, data.get("results")),
            duration=_duration(art_id, data.get("duration")),
            created_at=_timestamp(art_id, data.get("createdAt")),
            message=_loose_text(data.get("message")),
            error=_loose_text(data.get("error")),
            raw=data,
        )


def _results(art_id: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedResponse(f"artwork {art_id}: results must be a list")
    for item in value:
        # Results are downloaded by collect_results: only absolute http(s) URLs make sense.
        if not isinstance(item, str) or urlsplit(item).scheme not in ("http", "https"):
            raise MalformedResponse(f"artwork {art_id}: result is not a URL: {excerpt(item)}")
    return list(value)


def _duration(art_id: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedResponse(f"artwork {art_id}: duration must be a number")
    if not math.isfinite(value) or value < 0:
        raise MalformedResponse(f"artwork {art_id}: duration out of range: {value!r}")
    return float(value)


def _timestamp(art_id: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)  # 3.11+: accepts "Z" and any fraction length
        except ValueError:
            parsed = None
        if parsed is not None:
            # A naive timestamp from an API is UTC in practice; Django wants aware datetimes.
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise MalformedResponse(f"artwork {art_id}: createdAt is not ISO 8601: {excerpt(value)}")


def _loose_text(value: Any) -> str | None:
    """Any JSON value as display text (A9); losing a whole artwork over a label would be worse."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.strip()[:500] or None


def kind(value: Any) -> str:
    """What a JSON value is, in words, for error messages."""
    return {dict: "an object", list: "an array", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def excerpt(value: Any, limit: int = 80) -> str:
    """A short repr of an untrusted value, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
