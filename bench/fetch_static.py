"""Benchmark: a first crawl with StaticFetcher against plain concurrent httpx GETs.

    .venv/bin/python bench/fetch_static.py [--pages 500] [--kib 60] [--concurrency 16] [--rounds 3]

A server in a child process (so it does not share this process's GIL) serves ``--pages``
distinct HTML pages of ``--kib`` KiB on loopback. Both sides use the same concurrency:
  * httpx: one AsyncClient, a semaphore, ``GET`` and ``.text`` for every page;
  * fetcher: ``StaticFetcher.fetch`` (robots.txt, per-host limiter with delay 0, streamed
    size cap, charset detection, failure checks) for every page.
Prints pages/s for each, their ratio (the requirement is >= 0.5), and the fetcher's CPU time
per page. Every fetch must succeed and return its page's marker, or the run stops.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from monitor.config import FetchConfig  # noqa: E402
from monitor.fetch.static import StaticFetcher  # noqa: E402
from monitor.records import Watch  # noqa: E402


def page(n: int, kib: int) -> bytes:
    row = f"<tr><td>Feature {n}</td><td>Included in Pro and Enterprise plans</td></tr>\n"
    rows = row * (kib * 1024 // len(row))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Page {n}</title></head>"
        f"<body><h1>marker-{n}</h1><table>{rows}</table></body></html>"
    ).encode()


def serve(port_out: multiprocessing.Queue, pages: int, kib: int) -> None:
    """One asyncio loop, one write per response: never the bottleneck (a threaded http.server
    was, through Nagle stalls between its header and body writes and its threads' GIL)."""
    bodies = [page(n, kib) for n in range(pages)]

    def response(path: bytes) -> bytes:
        if path.startswith(b"/p/"):
            body, status, ctype = bodies[int(path[3:])], b"200 OK", b"text/html; charset=utf-8"
        else:
            body, status, ctype = b"not found", b"404 Not Found", b"text/plain"
        return b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s" % (status, ctype, len(body), body)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(response(head.split(b" ", 2)[1]))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_out.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


async def plain_httpx(urls: list[str], concurrency: int) -> list[str]:
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def get(url: str) -> str:
            async with gate:
                return (await client.get(url)).text

        return await asyncio.gather(*(get(u) for u in urls))


async def with_fetcher(urls: list[str], concurrency: int) -> list[str]:
    cfg = FetchConfig(concurrency=concurrency, per_host=concurrency, per_host_delay=0.0)
    async with StaticFetcher.from_config(cfg) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(Watch(competitor="Bench", url=u)) for u in urls))
    bad = [r for r in results if not r.ok]
    if bad:
        raise SystemExit(f"{len(bad)} fetches failed; first: {bad[0].error}")
    return [r.text or "" for r in results]


def measure(run, urls: list[str], concurrency: int) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    texts = asyncio.run(run(urls, concurrency))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for n, text in enumerate(texts):
        if f"marker-{n}<" not in text:
            raise SystemExit(f"page {n} came back without its marker")
    return len(urls) / wall, cpu / len(urls) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--kib", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, args.pages, args.kib), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{ports.get(timeout=30)}"
    urls = [f"{base}/p/{n}" for n in range(args.pages)]
    print(f"{args.pages} pages of {args.kib} KiB on loopback, concurrency {args.concurrency}, {args.rounds} rounds")
    rates: dict[str, list[float]] = {"httpx": [], "fetcher": []}
    cpu: dict[str, list[float]] = {"httpx": [], "fetcher": []}
    for number in range(args.rounds):
        for name, run in (("httpx", plain_httpx), ("fetcher", with_fetcher)):  # interleaved against drift
            rate, ms = measure(run, urls, args.concurrency)
            rates[name].append(rate)
            cpu[name].append(ms)
            print(f"  round {number + 1} {name:<8} {rate:7.1f} pages/s  {ms:5.2f} ms CPU per page")
    httpx_rate, fetcher_rate = statistics.median(rates["httpx"]), statistics.median(rates["fetcher"])
    print(f"median pages/s: httpx {httpx_rate:.1f}, fetcher {fetcher_rate:.1f}")
    print(f"ratio fetcher/httpx {fetcher_rate / httpx_rate:.2f}  (requirement >= 0.5)")
    print(
        f"median CPU per page: httpx {statistics.median(cpu['httpx']):.2f} ms, "
        f"fetcher {statistics.median(cpu['fetcher']):.2f} ms"
    )
    server.terminate()
    server.join()


if __name__ == "__main__":
    main()
