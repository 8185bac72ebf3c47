"""What both fetchers share: the User-Agent, error results, and the polite retry loop."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.config import FetchConfig
from monitor.fetch.backoff import is_transient, retry_delay
from monitor.fetch.politeness import HostLimiter, RobotsCache
from monitor.records import FetchError, FetchErrorKind, FetchResult, Watch

PRODUCT = "rivalwatch/0.1"
HTML_TYPES = ("text/html", "application/xhtml+xml")

# one attempt: the result and the response headers (for Retry-After)
Attempt = Callable[[], Awaitable[tuple[FetchResult, Mapping[str, str]]]]
Sleep = Callable[[float], Awaitable[object]]


def user_agent(cfg: FetchConfig) -> str:
    """An honest User-Agent: who we are and where a site owner can reach us."""
    return f"{PRODUCT} (+{cfg.contact})"


def failed(url: str, fetched_at: datetime, kind: FetchErrorKind, message: str, **fields: object) -> FetchResult:
    return FetchResult(url=url, fetched_at=fetched_at, error=FetchError(kind, message), **fields)  # type: ignore[arg-type]


def is_html_type(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media in HTML_TYPES


def looks_like_html(head: bytes) -> bool:
    """For a response without a Content-Type: sniff the first bytes as browsers do."""
    start = head[:1024].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--"))


async def fetch_politely(
    watch: Watch,
    attempt: Attempt,
    *,
    cfg: FetchConfig,
    limiter: HostLimiter,
    robots: RobotsCache,
    sleep: Sleep,
    rng: random.Random | None = None,
) -> FetchResult:
    """robots.txt, then attempts in a per-host slot, retrying transient failures with backoff."""
    fetched_at = datetime.now(UTC)
    started = time.monotonic()
    if watch.respect_robots:
        allowed, why = await robots.allowed(watch.url)
        if not allowed:
            return failed(watch.url, fetched_at, FetchErrorKind.ROBOTS, why)
    crawl_delay = robots.crawl_delay(watch.url) if watch.respect_robots else 0.0
    result: FetchResult | None = None
    number = 0
    for number in range(cfg.retries + 1):
        async with limiter.slot(watch.url, min_delay=crawl_delay):
            result, headers = await attempt()
        if result.error is None or number == cfg.retries or not is_transient(result.error, result.status):
            break
        await sleep(
            retry_delay(
                number,
                headers,
                base=cfg.retry_backoff,
                cap=cfg.retry_backoff_max,
                retry_after_cap=cfg.retry_after_cap,
                rng=rng,
            )
        )
    assert result is not None
    elapsed = timedelta(seconds=time.monotonic() - started)
    if result.error is not None and number > 0:
        error = FetchError(result.error.kind, f"{result.error.message} (after {number + 1} attempts)")
        return replace(result, fetched_at=fetched_at, elapsed=elapsed, error=error)
    return replace(result, fetched_at=fetched_at, elapsed=elapsed)
