"""When to try a failed fetch again, and how long to wait first. Pure.

Transient failures (timeouts, refused connections, 5xx, 429) are retried with exponential
backoff and full jitter, so many watches failing together do not retry in lockstep. A
server's Retry-After wins over our own schedule, capped so one answer cannot park a watch
for an hour.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from monitor.records import FetchError, FetchErrorKind

_TRANSIENT_KINDS = frozenset(
    {
        FetchErrorKind.TIMEOUT,
        FetchErrorKind.CONNECT,
        FetchErrorKind.RATE_LIMITED,
        FetchErrorKind.TRUNCATED,
        FetchErrorKind.BROWSER,  # a crashed renderer or browser; the next attempt relaunches
    }
)
_TRANSIENT_STATUSES = frozenset({408, 425, 500, 502, 503, 504})


def is_transient(error: FetchError, status: int | None) -> bool:
    """Whether another attempt might succeed; a 404 or a challenge will not change in seconds."""
    if error.kind in _TRANSIENT_KINDS:
        return True
    return error.kind is FetchErrorKind.HTTP_STATUS and status in _TRANSIENT_STATUSES


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """The wait a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    value = None
    for key, found in headers.items():
        if key.lower() == "retry-after":
            value = found.strip()
            break
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(cap, base * (2**attempt))
    return (rng or random).uniform(0.0, ceiling)


def retry_delay(
    attempt: int,
    headers: Mapping[str, str],
    *,
    base: float,
    cap: float,
    retry_after_cap: float,
    rng: random.Random | None = None,
) -> float:
    """The wait before attempt ``attempt + 1``: the server's Retry-After (capped) or our backoff."""
    asked = retry_after_seconds(headers)
    if asked is not None:
        return min(asked, retry_after_cap)
    return backoff_delay(attempt, base=base, cap=cap, rng=rng)
