"""When to try an API call again (A5): Retry-After, or exponential backoff with equal jitter.

Shared by the client's callers: the job tasks retry submits and polls with these.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from .errors import ApiError, RateLimited

_SECONDS_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_retry_after(
    value: str | None, *, now: datetime | None = None, cap: float = 600.0
) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None.

    Never negative (a date in the past means "now": 0) and never above `cap`, so a broken or
    hostile header cannot park a job for a day. Unparseable values give None: fall back to backoff.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    cap = max(0.0, float(cap))
    if _SECONDS_RE.fullmatch(text):
        return min(float(text), cap)  # float() of a huge digit string is inf, then capped
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None instead of raising
        return None
    if when.tzinfo is None:  # "-0000" means UTC with no claim about local time
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, min((when - now).total_seconds(), cap))


class _Uniform(Protocol):
    def uniform(self, a: float, b: float, /) -> float: ...


def backoff_delay(
    attempt: int, *, base: float = 2.0, cap: float = 60.0, rng: _Uniform = random
) -> float:
    """Exponential backoff with equal jitter (A5): a delay in [c/2, c], c = min(cap, base * 2^n).

    Equal rather than full jitter: full jitter may draw ~0 s and hammer a rate-limited API, while
    half the ceiling is a guaranteed wait and the other half still spreads the workers apart.
    `attempt` counts from 0.
    """
    if attempt < 0:
        raise ValueError("attempt counts from 0")
    ceiling = min(cap, base * 2.0 ** min(attempt, 64))  # the exponent clamp avoids overflow
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_delay(error: ApiError, attempt: int, *, rng: _Uniform = random) -> float:
    """How long to wait before retrying after `error`: the server's Retry-After when it gave one
    (A5, already capped), otherwise `backoff_delay(attempt)`."""
    if isinstance(error, RateLimited) and error.retry_after is not None:
        return error.retry_after
    return backoff_delay(attempt, rng=rng)
