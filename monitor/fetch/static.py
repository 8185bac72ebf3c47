"""StaticFetcher: one shared httpx client, pooled keep-alive, streamed and capped bodies."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import urlsplit

import httpx

from monitor.config import FetchConfig
from monitor.fetch.common import (
    Sleep,
    failed,
    fetch_politely,
    is_html_type,
    looks_like_html,
    user_agent,
)
from monitor.fetch.decode import decode_html
from monitor.fetch.failures import classify_response
from monitor.fetch.politeness import HostLimiter, RobotsCache
from monitor.records import FetchErrorKind, FetchResult, Render, Watch

ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"


# httpcore's pool re-checks every connection, and for each idle one every connection again, each
# time a request starts or ends: at 16 connections some 600 checks per page, a third of a fetch's
# CPU. Several small pools, each of at most POOL_SIZE connections, keep those scans short.
POOL_SIZE = 4


def build_client(cfg: FetchConfig, *, connections: int | None = None) -> httpx.AsyncClient:
    """A client with the fetch settings; its pool holds ``connections`` (default: concurrency)."""
    connections = connections or cfg.concurrency
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent(cfg), "Accept": ACCEPT},
        timeout=httpx.Timeout(connect=cfg.connect_timeout, read=cfg.read_timeout, write=cfg.read_timeout, pool=None),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        follow_redirects=True,
        max_redirects=cfg.max_redirects,
        trust_env=False,  # a monitor's traffic goes where its config says, not where a stray env var does
    )


def build_clients(cfg: FetchConfig) -> list[httpx.AsyncClient]:
    """Clients whose pools together hold ``concurrency`` connections, at most POOL_SIZE each, so
    no fetch waits for a connection and no pool is long to scan."""
    count = -(-cfg.concurrency // POOL_SIZE)
    return [build_client(cfg, connections=-(-cfg.concurrency // count)) for _ in range(count)]


class StaticFetcher:
    """plain HTTP with httpx"""

    key: ClassVar[Render] = Render.STATIC

    def __init__(
        self,
        *,
        client: httpx.AsyncClient | Sequence[httpx.AsyncClient],
        config: FetchConfig,
        limiter: HostLimiter | None = None,
        robots: RobotsCache | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._clients = [client] if isinstance(client, httpx.AsyncClient) else list(client)
        self._busy = [0] * len(self._clients)  # requests in flight on each client
        self._cfg = config
        self._limiter = limiter or HostLimiter(per_host=config.per_host, delay=config.per_host_delay)
        self._robots = robots or RobotsCache(self._clients[0], user_agent=user_agent(config), timeout=config.timeout)
        self._sleep = sleep
        self._rng = rng
        # the pools hold ``concurrency`` connections in all; queue here, outside the attempt's
        # timeout, so waiting for a turn is never reported as the site timing out
        self._gate = asyncio.Semaphore(config.concurrency)

    @classmethod
    def from_config(cls, cfg: FetchConfig) -> StaticFetcher:
        return cls(client=build_clients(cfg), config=cfg)

    async def __aenter__(self) -> StaticFetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    def _pick(self, url: str) -> int:
        """The client for one request: the least busy, and among those the host's own first, so
        a host's kept-alive connections are reused when the pools are not all busy."""
        count = len(self._clients)
        if count == 1:
            return 0
        home = hash(urlsplit(url).netloc) % count
        busy = self._busy
        return min(((home + n) % count for n in range(count)), key=busy.__getitem__)

    async def fetch(self, watch: Watch, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """Fetch ``watch.url`` once (with retries); network trouble comes back as an error result."""
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified

        async def attempt() -> tuple[FetchResult, Mapping[str, str]]:
            async with self._gate:
                return await self._attempt(watch.url, conditional)

        return await fetch_politely(
            watch,
            attempt,
            cfg=self._cfg,
            limiter=self._limiter,
            robots=self._robots,
            sleep=self._sleep,
            rng=self._rng,
        )

    async def _attempt(self, url: str, conditional: dict[str, str]) -> tuple[FetchResult, Mapping[str, str]]:
        now = datetime.now(UTC)
        chosen = self._pick(url)
        self._busy[chosen] += 1
        try:
            async with asyncio.timeout(self._cfg.timeout):
                async with self._clients[chosen].stream("GET", url, headers=conditional) as response:
                    return await self._read(url, now, response), response.headers
        except TimeoutError:
            return failed(url, now, FetchErrorKind.TIMEOUT, f"no complete answer within {self._cfg.timeout:g}s"), {}
        except httpx.TimeoutException as exc:
            return failed(url, now, FetchErrorKind.TIMEOUT, f"{type(exc).__name__}: {exc or 'timed out'}"), {}
        except httpx.TooManyRedirects:
            message = f"more than {self._cfg.max_redirects} redirects (a loop?)"
            return failed(url, now, FetchErrorKind.REDIRECTS, message), {}
        except httpx.RemoteProtocolError as exc:
            # the server hung up mid-body (fewer bytes than Content-Length) or spoke garbage
            return failed(url, now, FetchErrorKind.TRUNCATED, f"connection broke off: {exc}"), {}
        except httpx.DecodingError as exc:
            return failed(url, now, FetchErrorKind.TRUNCATED, f"body could not be decompressed: {exc}"), {}
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            return failed(url, now, FetchErrorKind.CONNECT, f"{type(exc).__name__}: {exc}"), {}
        finally:
            self._busy[chosen] -= 1

    async def _read(self, url: str, now: datetime, response: httpx.Response) -> FetchResult:
        status = response.status_code
        content_type = response.headers.get("content-type")
        known = {
            "status": status,
            "final_url": str(response.url),
            "content_type": content_type,
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
        }
        if status == 304:
            return FetchResult(url=url, fetched_at=now, not_modified=True, **known)  # type: ignore[arg-type]
        if content_type and not is_html_type(content_type):
            if status < 400:
                return failed(url, now, FetchErrorKind.NOT_HTML, f"content type {content_type!r}", **known)
            # an error in JSON or plain text: its status is all we need
            error = classify_response(status, response.headers, "")
            assert error is not None
            return FetchResult(url=url, fetched_at=now, error=error, **known)  # type: ignore[arg-type]
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._cfg.max_bytes:
            message = f"Content-Length {declared} is over the {self._cfg.max_bytes}-byte cap"
            return failed(url, now, FetchErrorKind.TOO_LARGE, message, **known)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._cfg.max_bytes:
                message = f"body over the {self._cfg.max_bytes}-byte cap; stopped reading"
                return failed(url, now, FetchErrorKind.TOO_LARGE, message, **known)
            chunks.append(chunk)
        body = b"".join(chunks)
        if status < 400 and not content_type and body and not looks_like_html(body):
            return failed(url, now, FetchErrorKind.NOT_HTML, "no Content-Type and the body is not HTML", **known)
        text = decode_html(body, content_type)
        error = classify_response(status, response.headers, text)
        if error is not None:
            return FetchResult(url=url, fetched_at=now, error=error, **known)  # type: ignore[arg-type]
        return FetchResult(url=url, fetched_at=now, text=text, **known)  # type: ignore[arg-type]
