"""Client for the Detailer Upscaler API (see CONTRACT.md): `ApiClient`, `Artwork`, typed errors."""

from __future__ import annotations

from .artwork import FINAL_STATUSES, STATUSES, Artwork
from .client import DEFAULT_BASE_URL, ApiClient, default_base_url
from .errors import (
    ApiError,
    ApiUnreachable,
    BadRequest,
    KeyRefused,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    UnexpectedStatus,
)
from .retry import backoff_delay, parse_retry_after, retry_delay

__all__ = [
    "DEFAULT_BASE_URL",
    "FINAL_STATUSES",
    "STATUSES",
    "ApiClient",
    "ApiError",
    "ApiUnreachable",
    "Artwork",
    "BadRequest",
    "KeyRefused",
    "MalformedResponse",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "UnexpectedStatus",
    "backoff_delay",
    "default_base_url",
    "parse_retry_after",
    "retry_delay",
]
