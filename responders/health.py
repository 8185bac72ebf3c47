"""Page health as responders see it: a row per watched page, and when to say it broke.

The store counts consecutive failed fetches per page; responders only render. A page is
reported broken once, when its failures reach the threshold, and recovered once, on the
first good fetch after that; the failures in between are not news.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from monitor.records import FetchError


@dataclass(frozen=True, slots=True)
class PageHealth:
    """How one watched page is doing: consecutive failures, the last error, the last good fetch."""

    competitor: str
    url: str
    consecutive_failures: int = 0
    last_error: FetchError | None = None
    failing_since: datetime | None = None
    last_ok_at: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0


class HealthEvent(enum.StrEnum):
    BROKEN = "broken"
    RECOVERED = "recovered"


def health_event(*, previous: PageHealth | None, current: PageHealth, threshold: int) -> HealthEvent | None:
    """Whether this fetch turns the page broken or recovered (at most once each way).

    ``previous`` is the health before this fetch (None for a page never fetched); ``threshold``
    is how many failures in a row make a page broken (a single 503 is not news).
    """
    if threshold < 1:
        raise ValueError(f"threshold must be 1 or more, not {threshold}")
    before = previous.consecutive_failures if previous else 0
    now = current.consecutive_failures
    if before < threshold <= now:
        return HealthEvent.BROKEN
    if before >= threshold and now == 0:
        return HealthEvent.RECOVERED
    return None
