"""Politeness: at most N requests at once per host, a minimum gap between them, robots.txt.

``HostLimiter`` hands out per-host slots; with a zero delay it is a bare semaphore, so a
crawl of one loopback host pays nothing for it. A robots.txt Crawl-delay raises the delay
for its host (capped at a minute). ``RobotsCache`` fetches each origin's
robots.txt once (with the fetcher's own client and User-Agent) and keeps it for a day, as
RFC 9309 allows. A missing robots.txt (any 4xx) allows everything; one that answers 5xx
disallows for a while, as the RFC asks; one we cannot reach at all is not cached, and the
page fetch that follows reports the network problem under its own name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

ROBOTS_TTL = 24 * 3600.0
ROBOTS_ERROR_TTL = 600.0  # a 5xx robots.txt: disallow, and ask again in ten minutes
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB, ignore the rest
CRAWL_DELAY_CAP = 60.0  # a Crawl-delay of an hour would silence a watch; a minute is polite enough


def host_key(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class HostLimiter:
    """Per-host concurrency cap and minimum delay between request starts.

    The delay is kept as a per-host "next free start" time claimed under no lock (asyncio is
    single-threaded between awaits), so waiters queue in arrival order without holding a
    slot while they sleep.
    """

    def __init__(
        self,
        *,
        per_host: int,
        delay: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._per_host = per_host
        self._delay = delay
        self._clock = clock
        self._sleep = sleep
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, url: str, *, min_delay: float = 0.0) -> AsyncIterator[None]:
        """Hold one of the host's slots; ``min_delay`` raises the gap (a robots.txt Crawl-delay)."""
        host = host_key(url)
        semaphore = self._slots.get(host)
        if semaphore is None:
            semaphore = self._slots[host] = asyncio.Semaphore(self._per_host)
        delay = max(self._delay, min_delay)
        async with semaphore:
            if delay > 0:
                now = self._clock()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + delay
                if start > now:
                    await self._sleep(start - now)
            yield


@dataclass(frozen=True, slots=True)
class _Robots:
    parser: RobotFileParser | None  # None: everything allowed
    disallow_all: bool
    expires: float
    reason: str
    crawl_delay: float = 0.0


class RobotsCache:
    """robots.txt per origin, fetched once even when many fetches ask at the same moment."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        user_agent: str,
        timeout: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._agent = user_agent.split("/")[0]  # robots.txt groups name the product token
        self._clock = clock
        self._rules: dict[str, _Robots] = {}
        self._pending: dict[str, asyncio.Task[_Robots | None]] = {}
        self._last_delay: dict[str, float] = {}

    def crawl_delay(self, url: str) -> float:
        """The Crawl-delay robots.txt asks of us (capped), once ``allowed`` has read it; else 0."""
        return self._last_delay.get(origin(url), 0.0)

    async def allowed(self, url: str) -> tuple[bool, str]:
        """(allowed, why): whether robots.txt lets us fetch ``url``."""
        key = origin(url)
        rules = self._rules.get(key)
        if rules is None or rules.expires <= self._clock():
            task = self._pending.get(key)
            if task is None:
                task = self._pending[key] = asyncio.ensure_future(self._load(key))
                task.add_done_callback(lambda _task: self._pending.pop(key, None))
            rules = await asyncio.shield(task)
            if rules is None:
                return True, "robots.txt unreachable"
            self._rules[key] = rules
        self._last_delay[key] = rules.crawl_delay
        if rules.disallow_all:
            return False, rules.reason
        if rules.parser is None or rules.parser.can_fetch(self._agent, url):
            return True, rules.reason
        return False, f"disallowed by {key}/robots.txt for {self._agent}"

    async def _load(self, key: str) -> _Robots | None:
        now = self._clock()
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.get(key + "/robots.txt", follow_redirects=True)
        except (httpx.HTTPError, httpx.InvalidURL, TimeoutError):
            return None
        if response.status_code >= 500:
            return _Robots(None, True, now + ROBOTS_ERROR_TTL, f"robots.txt answered {response.status_code}")
        if response.status_code >= 400:
            return _Robots(None, False, now + ROBOTS_TTL, "no robots.txt")
        parser = RobotFileParser()
        parser.parse(response.content[:ROBOTS_MAX_BYTES].decode("utf-8", "replace").splitlines())
        asked = parser.crawl_delay(self._agent)
        delay = min(float(asked), CRAWL_DELAY_CAP) if asked else 0.0
        return _Robots(parser, False, now + ROBOTS_TTL, "robots.txt allows", delay)
