"""Page health as responders see it: the records the store hands over, and their wording.

The store counts consecutive failed fetches and decides when a page turns broken (its
failures reach the threshold) or recovers; responders only render.
"""

from __future__ import annotations

from monitor.records import HealthEvent, PageHealth

__all__ = ["HealthEvent", "PageHealth", "error_kind"]


def error_kind(error: str | None) -> str:
    """The kind part of "kind: message" (``FetchErrorKind`` values contain no colon)."""
    if not error:
        return "unknown error"
    return error.split(":", 1)[0].strip() or "unknown error"
