"""StaticFetcher against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml
from loopback import LoopbackSite, Response

from monitor.config import FetchConfig
from monitor.fetch.politeness import HostLimiter
from monitor.fetch.static import POOL_SIZE, StaticFetcher, build_client, build_clients
from monitor.records import FetchErrorKind, FetchResult, Watch

CASES = yaml.safe_load((Path(__file__).parent / "data" / "fetch_static_cases.yaml").read_text())
QUICK = {"retries": 0, "per_host_delay": 0.0}


def watch(url: str, **options: object) -> Watch:
    return Watch(competitor="Acme", url=url, **options)  # type: ignore[arg-type]


class RecordingSleep:
    """Stands in for asyncio.sleep so retry waits are observed, not spent."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fetch_once(
    url: str,
    *,
    sleep: RecordingSleep | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    w: Watch | None = None,
    **config: object,
) -> FetchResult:
    cfg = FetchConfig(**{**QUICK, **config})

    async def run() -> FetchResult:
        fetcher = StaticFetcher(client=build_client(cfg), config=cfg, sleep=sleep or RecordingSleep())
        async with fetcher:
            return await fetcher.fetch(w or watch(url), etag=etag, last_modified=last_modified)

    return asyncio.run(run())


def _response(spec: dict, path: str) -> Response:
    if spec.get("redirect_to_self"):
        return Response(b"", status=302, headers={"Location": path})
    headers = spec.get("headers", {"Content-Type": "text/html; charset=utf-8"})
    if "body_latin1" in spec:
        body: bytes | str = spec["body_latin1"].encode("iso-8859-1")
    else:
        body = spec.get("body", "").replace("{big}", "x" * 5000)
    return Response(body, status=spec.get("status", 200), headers=dict(headers), delay=spec.get("delay", 0.0))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_static_fetch_cases(site: LoopbackSite, case: dict) -> None:
    site.set("/page", _response(case["response"], "/page"))
    result = fetch_once(site.url("/page"), **case.get("config", {}))
    expect = case["expect"]
    if "kind" in expect:
        assert result.error is not None, f"expected {expect['kind']}, got a page"
        assert result.error.kind == FetchErrorKind(expect["kind"]), result.error
        assert result.text is None  # failure is never content
    else:
        assert result.ok, result.error
        assert expect["contains"] in (result.text or "")
    if "status" in expect:
        assert result.status == expect["status"]


def test_user_agent_is_honest_and_names_a_contact(site: LoopbackSite) -> None:
    site.set("/", "<html><body>hi</body></html>")
    fetch_once(site.url("/"), contact="https://example.org/bots")
    _, _, headers = site.requests[-1]
    assert headers["User-Agent"] == "rivalwatch/0.1 (+https://example.org/bots)"


def test_conditional_get_304_is_not_modified(site: LoopbackSite) -> None:
    tag, stamp = '"v1"', "Wed, 01 Jan 2026 00:00:00 GMT"

    def page(handler) -> Response:
        if handler.headers.get("If-None-Match") == tag:
            return Response(b"", status=304, headers={"ETag": tag})
        return Response(
            "<html><body>v1</body></html>",
            headers={"Content-Type": "text/html", "ETag": tag, "Last-Modified": stamp},
        )

    site.set("/p", page)
    first = fetch_once(site.url("/p"))
    assert first.ok and first.etag == tag and first.last_modified == stamp and not first.not_modified
    second = fetch_once(site.url("/p"), etag=first.etag, last_modified=first.last_modified)
    assert second.ok and second.not_modified and second.status == 304 and second.text is None
    _, _, headers = site.requests[-1]
    assert headers["If-None-Match"] == tag and headers["If-Modified-Since"] == stamp


def test_retry_after_is_honoured_then_succeeds(site: LoopbackSite) -> None:
    answers = iter(
        [
            Response("<h1>slow down</h1>", status=429, headers={"Retry-After": "1"}),
            Response("<h1>slow down</h1>", status=429, headers={"Retry-After": "7200"}),
        ]
    )
    site.set("/p", lambda handler: next(answers, Response("<html><body>finally</body></html>")))
    sleep = RecordingSleep()
    result = fetch_once(site.url("/p"), sleep=sleep, retries=2, retry_after_cap=60)
    assert result.ok and "finally" in (result.text or "")
    assert sleep.waits == [1.0, 60.0]  # the second Retry-After is capped
    assert site.hits("/p") == 3


def test_transient_errors_back_off_then_give_up(site: LoopbackSite) -> None:
    site.set("/p", Response("<h1>Service Unavailable</h1>", status=503))
    sleep = RecordingSleep()
    result = fetch_once(site.url("/p"), sleep=sleep, retries=3, retry_backoff=0.5, retry_backoff_max=1.5)
    assert result.error is not None and result.error.kind is FetchErrorKind.HTTP_STATUS
    assert result.error.message == "HTTP 503 (after 4 attempts)"
    assert site.hits("/p") == 4
    assert len(sleep.waits) == 3
    assert all(0 <= w <= cap for w, cap in zip(sleep.waits, [0.5, 1.0, 1.5], strict=True))


def test_permanent_errors_are_not_retried(site: LoopbackSite) -> None:
    site.set("/gone", Response("<h1>Not found</h1>", status=404))
    sleep = RecordingSleep()
    result = fetch_once(site.url("/gone"), sleep=sleep, retries=3)
    assert result.error is not None and result.error.kind is FetchErrorKind.HTTP_STATUS
    assert site.hits("/gone") == 1 and sleep.waits == []


def test_robots_txt_is_honoured_unless_the_watch_opts_out(site: LoopbackSite) -> None:
    site.set(
        "/robots.txt",
        Response("User-agent: rivalwatch\nDisallow: /private\n", headers={"Content-Type": "text/plain"}),
    )
    site.set("/private", "<html><body>secret pricing</body></html>")
    site.set("/public", "<html><body>public pricing</body></html>")
    cfg = FetchConfig(**QUICK)

    async def run() -> list[FetchResult]:
        async with StaticFetcher.from_config(cfg) as fetcher:
            jobs = [fetcher.fetch(watch(site.url("/private"))) for _ in range(3)]
            jobs += [fetcher.fetch(watch(site.url("/public"))) for _ in range(3)]
            jobs.append(fetcher.fetch(watch(site.url("/private"), respect_robots=False)))
            return await asyncio.gather(*jobs)

    results = asyncio.run(run())
    assert [r.error.kind if r.error else None for r in results[:3]] == [FetchErrorKind.ROBOTS] * 3
    assert all(r.ok for r in results[3:6])
    assert results[6].ok and "secret pricing" in (results[6].text or "")
    assert site.hits("/robots.txt") == 1  # fetched once for all concurrent fetches
    assert site.hits("/private") == 1  # only the opted-out watch reached it


def test_missing_robots_allows_and_failing_robots_disallows(site: LoopbackSite) -> None:
    site.set("/p", "<html><body>ok</body></html>")
    assert fetch_once(site.url("/p")).ok  # /robots.txt answers 404
    site.set("/robots.txt", Response("<h1>down</h1>", status=503))
    result = fetch_once(site.url("/p"))
    assert result.error is not None and result.error.kind is FetchErrorKind.ROBOTS


def test_robots_crawl_delay_spaces_fetches(site: LoopbackSite) -> None:
    site.set("/robots.txt", Response("User-agent: *\nCrawl-delay: 5\n", headers={"Content-Type": "text/plain"}))
    site.set("/p", "<html><body>ok</body></html>")
    cfg = FetchConfig(**QUICK)
    sleep = RecordingSleep()

    async def run() -> list[FetchResult]:
        limiter = HostLimiter(per_host=2, delay=0.0, sleep=sleep)
        async with StaticFetcher(client=build_client(cfg), config=cfg, limiter=limiter) as fetcher:
            return [await fetcher.fetch(watch(site.url("/p"))) for _ in range(3)]

    assert all(r.ok for r in asyncio.run(run()))
    # the waits were recorded, not slept: each start is booked 5 s after the one before
    assert len(sleep.waits) == 2
    assert 4.0 < sleep.waits[0] <= 5.0 and 9.0 < sleep.waits[1] <= 10.0


class HeldRoute:
    """A route that holds each request until ``until`` are in flight (so the peak is reached
    however loaded the machine is), lingers, and records the peak of requests in flight."""

    def __init__(self, until: int, *, linger: float = 0.0) -> None:
        self.until, self.linger = until, linger
        self.now = self.peak = 0
        self.arrived = threading.Condition()

    def __call__(self, handler) -> Response:  # type: ignore[no-untyped-def]
        with self.arrived:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.arrived.notify_all()
            self.arrived.wait_for(lambda: self.now >= self.until, timeout=5)
        time.sleep(self.linger)
        with self.arrived:
            self.now -= 1
        return Response("<html><body>ok</body></html>")


def test_per_host_concurrency_is_capped(site: LoopbackSite) -> None:
    # a client over its cap would pile more requests on while the first two are held
    state = HeldRoute(2, linger=0.05)
    site.set("/slow", state)
    cfg = FetchConfig(**QUICK, per_host=2, concurrency=16)

    async def run() -> list[FetchResult]:
        async with StaticFetcher.from_config(cfg) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(watch(site.url("/slow"))) for _ in range(6)))

    assert all(r.ok for r in asyncio.run(run()))
    assert state.peak == 2


def test_small_pools_together_carry_the_full_concurrency(site: LoopbackSite) -> None:
    # concurrency 10 is spread over pools of at most POOL_SIZE connections; all ten fetches of one
    # host must still be in flight at once (none waits for a connection in a full pool)
    state = HeldRoute(10)
    site.set("/held", state)
    cfg = FetchConfig(**QUICK, per_host=10, concurrency=10)
    assert len(build_clients(cfg)) > 1 and 10 > POOL_SIZE

    async def run() -> list[FetchResult]:
        async with StaticFetcher.from_config(cfg) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(watch(site.url(f"/held?{n}"))) for n in range(10)))

    assert all(r.ok for r in asyncio.run(run()))
    assert state.peak == 10


def test_one_after_another_a_host_keeps_one_connection(site: LoopbackSite) -> None:
    # with several pools, a host's fetches go to its own pool while that one is free: its
    # kept-alive connection is reused, not a new one opened in each pool
    ports: list[int] = []

    def note_port(handler) -> Response:
        ports.append(handler.client_address[1])
        return Response("<html><body>ok</body></html>")

    site.set("/p", note_port)
    cfg = FetchConfig(**QUICK, concurrency=16)

    async def run() -> None:
        async with StaticFetcher.from_config(cfg) as fetcher:
            for _ in range(6):
                assert (await fetcher.fetch(watch(site.url("/p")))).ok

    asyncio.run(run())
    assert len(ports) == 6 and len(set(ports)) == 1


def test_waiting_for_a_turn_is_not_counted_as_the_site_timing_out(site: LoopbackSite) -> None:
    # one connection for all fetches: the third waits ~1 s for its turn, then takes ~0.5 s
    # itself; only the second part is the site's, and it fits in the 1 s budget
    site.set("/p", Response("<html><body>ok</body></html>", delay=0.5))
    cfg = FetchConfig(**QUICK, concurrency=1, per_host=4, timeout=1.0)

    async def run() -> list[FetchResult]:
        async with StaticFetcher.from_config(cfg) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(watch(site.url("/p"))) for _ in range(3)))

    results = asyncio.run(run())
    assert [r.error for r in results] == [None, None, None]


def test_host_limiter_spaces_request_starts() -> None:
    clock = {"t": 100.0}
    sleep = RecordingSleep()
    limiter = HostLimiter(per_host=4, delay=1.5, clock=lambda: clock["t"], sleep=sleep)

    async def run() -> None:
        for _ in range(3):
            async with limiter.slot("http://a.example/x"):
                pass
        async with limiter.slot("http://b.example/x"):  # another host has its own schedule
            pass
        clock["t"] += 10  # long after: no wait
        async with limiter.slot("http://a.example/y"):
            pass

    asyncio.run(run())
    assert sleep.waits == [1.5, 3.0]


def test_host_limiter_without_delay_never_sleeps() -> None:
    sleep = RecordingSleep()
    limiter = HostLimiter(per_host=2, delay=0.0, sleep=sleep)

    async def run() -> None:
        for _ in range(5):
            async with limiter.slot("http://a.example/"):
                pass

    asyncio.run(run())
    assert sleep.waits == []


async def _raw_server(reply: bytes) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if reader.at_eof():
            return
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _fetch_raw(reply: bytes, path: str = "/p", **config: object) -> FetchResult:
    cfg = FetchConfig(**{**QUICK, **config})

    async def run() -> FetchResult:
        server, port = await _raw_server(reply)
        async with server, StaticFetcher.from_config(cfg) as fetcher:
            return await fetcher.fetch(watch(f"http://127.0.0.1:{port}{path}", respect_robots=False))

    return asyncio.run(run())


def test_streamed_body_stops_at_the_size_cap() -> None:
    # no Content-Length: the body ends when the server closes; the cap must stop the read
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html><body>" + b"x" * 300_000
    result = _fetch_raw(reply, max_bytes=10_000)
    assert result.error is not None and result.error.kind is FetchErrorKind.TOO_LARGE


def test_connection_cut_before_content_length_is_truncated() -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<html><body><p>Pro"
    result = _fetch_raw(reply)
    assert result.error is not None and result.error.kind is FetchErrorKind.TRUNCATED


def test_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # robots.txt is unreachable too: that allows the fetch, which then names the real problem
    result = fetch_once(f"http://127.0.0.1:{port}/")
    assert result.error is not None and result.error.kind is FetchErrorKind.CONNECT
    assert result.text is None and result.elapsed.total_seconds() >= 0
