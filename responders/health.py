"""Page health as responders see it: a row per watched page, and the broken/recovered events.

The store counts consecutive failed fetches and decides when a page turns broken (its
failures reach the threshold) or recovers; responders only render. These records have the
same fields as the store's own, so responders accept either without importing the store
(``classifiers/`` and ``responders/`` never import it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class HealthRow(Protocol):
    """How one watched page is doing (the digest's page-health table)."""

    @property
    def url(self) -> str: ...
    @property
    def competitor(self) -> str: ...
    @property
    def last_checked_at(self) -> datetime | None: ...
    @property
    def last_success_at(self) -> datetime | None: ...
    @property
    def last_error(self) -> str | None: ...  # "kind: message", as FetchError prints
    @property
    def error_streak(self) -> int: ...  # consecutive failed fetches; 0 when healthy


class HealthChange(Protocol):
    """A page crossed the broken threshold, or came back after being reported broken."""

    @property
    def url(self) -> str: ...
    @property
    def competitor(self) -> str: ...
    @property
    def kind(self) -> str: ...  # broken | recovered
    @property
    def error(self) -> str | None: ...  # the last error ("kind: message" or the kind alone)
    @property
    def streak(self) -> int: ...  # failed fetches in a row (before recovery, for "recovered")


@dataclass(frozen=True, slots=True)
class PageHealth:
    """A ``HealthRow`` record, for callers (and tests) that do not have the store's."""

    url: str
    competitor: str
    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    error_streak: int = 0


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """A ``HealthChange`` record, for callers (and tests) that do not have the store's."""

    url: str
    competitor: str
    kind: str
    error: str | None
    streak: int


def error_kind(error: str | None) -> str:
    """The kind part of "kind: message" (``FetchErrorKind`` values contain no colon)."""
    if not error:
        return "unknown error"
    return error.split(":", 1)[0].strip() or "unknown error"
