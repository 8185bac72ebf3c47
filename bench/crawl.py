"""Crawl throughput of the static pipeline against the ceiling of plain httpx GETs.

    python bench/crawl.py [--pages 500] [--size 60000] [--concurrency 16] [--workers N]

Serves N generated pages (about 60 KB each, with a per-request counter as noise) from a
separate process on loopback, then in this one run measures:
  1. plain concurrent httpx GETs of every page (the ceiling),
  2. a first crawl through the whole pipeline (fetch, extract, store the baseline),
  3. an unchanged re-crawl (fetch, extract, compare, record the check),
and prints pages per second and CPU time of each: this process, its extraction workers
(--workers 0 parses in the event loop) and the page server, which shares the cores. Each
round pairs a ceiling with both crawls on a fresh store, so a shared machine's changing load
weighs on both sides of a ratio; the median ratio over --rounds is the figure. One App serves
both crawls of a round, as in the daemon; its start-up is not timed.

The page server is a single-threaded asyncio server that sends each response in one write,
so the ceiling is what httpx itself can do (CPU-bound in one process), not the server. An
http.server with a thread per connection, used here until session 3, capped the ceiling at
about 300 pages/s: its header and body went out in two writes, which Nagle's algorithm and
delayed ACKs hold back by up to 40 ms, and its 16 threads queued on the GIL. Against that
server the ratios below read about 1.5x too high.
The header says whether the parser ran compiled (mypyc, as `pip install` builds it where gcc is
present) or from source (RIVALWATCH_PURE=1 runs the source, for a comparison in one window).
Targets (issue 5): first crawl >= 0.5x the ceiling; re-crawl faster than the first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = r"""
import asyncio, itertools, random, sys
WORDS = ("analytics event funnel retention dashboard team plan seat warehouse replay flag insight "
         "export segment cohort growth product pricing billing annual monthly secure audit").split()
def page(i, size):
    rng = random.Random(i)
    parts = [f"<!doctype html><html><head><title>Page {i}</title><style>body{{margin:0}}</style></head><body>",
             "<nav><ul>" + "".join(f"<li><a href='/p{j}'>{rng.choice(WORDS).title()}</a></li>" for j in range(12)) + "</ul></nav><main>"]
    n = 0
    while sum(map(len, parts)) < size - 400:
        n += 1
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40)))
        if n % 9 == 1:
            parts.append(f"<h2>Section {n} {rng.choice(WORDS)}</h2>")
        if n % 7 == 0:
            parts.append("<table><tr><th>Plan</th><th>Price</th></tr>" + "".join(
                f"<tr><td>{rng.choice(WORDS).title()}</td><td>${rng.randint(9, 199)} per month</td></tr>" for _ in range(4)) + "</table>")
        parts.append(f"<p class='c{n % 5}'>{words}.</p>")
    parts.append("<p class='stamp'>{COUNTER} teams signed up this week</p></main></body></html>")
    return "".join(parts)
size = int(sys.argv[2]); n = int(sys.argv[3])
PAGES = [page(i, size).encode().split(b"{COUNTER}") for i in range(n)]
counter = itertools.count(100)
async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            before, after = PAGES[int(path.strip("/p") or 0)]
            body = b"%s%d%s" % (before, next(counter), after)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


async def plain_gets(urls: list[str], concurrency: int) -> None:
    import httpx

    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency)) as client:

        async def one(url: str) -> None:
            async with limit:
                response = await client.get(url)
                response.text  # decode, as the pipeline must  # noqa: B018

        await asyncio.gather(*(one(u) for u in urls))


def write_config(folder: Path, urls: list[str], concurrency: int, workers: int | None) -> Path:
    """The bench's config; ``workers`` None leaves fetch.extract_workers at its default ("auto")."""
    chosen = "" if workers is None else f", extract_workers: {workers}"
    lines = [
        f"storage: sqlite:///{folder / 'bench.db'}",
        f"output: {folder / 'out'}",
        f"fetch: {{concurrency: {concurrency}, per_host: {concurrency}, per_host_delay: 0{chosen}}}",
        "detect: {confirm_delay: 0}",
        "responders: {console: false}",
        "competitors:",
        "  - name: Bench",
        "    pages:",
    ] + [f"      - {{url: '{u}', kind: product, robots: false}}" for u in urls]
    path = folder / "rivalwatch.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _descendants(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = task.read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
        for child in children:
            out += [int(child), *_descendants(int(child))]
    return out


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # it ended meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu(server: int) -> tuple[float, float, float]:
    """CPU seconds of this process, of its other live descendants (the extraction workers, when
    there are some: part of the crawl's cost) and of the page server (shares the machine's cores)."""
    workers = sum(_process_cpu(pid) for pid in _descendants(os.getpid()) if pid != server)
    return time.process_time(), workers, _process_cpu(server)


async def measure(label: str, coro_factory, pages: int, *, server: int) -> float:  # type: ignore[no-untyped-def]
    wall, before = time.perf_counter(), _cpu(server)
    await coro_factory()
    wall = time.perf_counter() - wall
    own, workers, served = (b - a for a, b in zip(before, _cpu(server), strict=True))
    cpu = own + workers
    split = f": {own / pages * 1000:.1f} here + {workers / pages * 1000:.1f} in workers" if workers else ""
    print(
        f"{label:28s} {pages / wall:8.1f} pages/s   {wall:6.2f} s wall   {cpu:6.2f} CPU s "
        f"({cpu / pages * 1000:.1f} ms CPU/page{split}; page server {served / pages * 1000:.1f})"
    )
    return pages / wall


async def run(config, urls: list[str], args: argparse.Namespace, *, server: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """One round: the ceiling, then one App for both crawls, as the daemon runs; the App's
    start-up (imports, worker processes) is not timed."""
    from monitor.app import App

    ceiling = await measure(
        "plain httpx GETs (ceiling)", lambda: plain_gets(urls, args.concurrency), len(urls), server=server
    )
    app = App(config, quiet=True)
    try:
        if app.extractor.workers:
            await asyncio.gather(
                *(app.extractor.extract("<p>warm</p>", app.watches[0]) for _ in range(app.extractor.workers * 2))
            )

        async def crawl() -> None:
            outcomes = await app.check_all()
            bad = [o for o in outcomes if o.status == "error"]
            if bad:
                raise SystemExit(f"{len(bad)} pages failed, e.g. {bad[0].error}")

        first = await measure("first crawl (baseline)", crawl, len(urls), server=server)
        again = await measure("unchanged re-crawl", crawl, len(urls), server=server)
    finally:
        await app.aclose()
    return first, again, ceiling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--size", type=int, default=60_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="fetch.extract_workers: parsing processes (default: the config's default, auto: one per core, "
        "at most 4, from 100 pages; 0: in the loop)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of ceiling + both crawls (fresh store each)")
    args = parser.parse_args()

    from bench.corpus_run import free_port
    from monitor import _native
    from monitor.config import load_config
    from monitor.config_sections import FetchConfig

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), str(args.size), str(args.pages)], stdout=subprocess.PIPE
    )
    rounds = []
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == b"ready"
        urls = [f"http://127.0.0.1:{port}/p{i}" for i in range(args.pages)]
        random.Random(1).shuffle(urls)
        setting = "auto" if args.workers is None else args.workers
        workers = FetchConfig(extract_workers=setting).extraction_processes(args.pages)
        print(
            f"{args.pages} pages of ~{args.size // 1000} KB, concurrency {args.concurrency}, "
            f"{workers} workers{' (extract_workers: auto)' if args.workers is None else ''}, "
            f"parser {_native.mode()}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            for number in range(1, args.rounds + 1):
                print(f"round {number}")
                folder = Path(tmp) / f"round{number}"
                folder.mkdir()
                config = load_config(write_config(folder, urls, args.concurrency, args.workers))
                rounds.append(asyncio.run(run(config, urls, args, server=server.pid)))
    finally:
        server.terminate()
        server.wait()
    firsts = [first / ceiling for first, _, ceiling in rounds]
    agains = [again / ceiling for _, again, ceiling in rounds]
    speedups = [again / first for first, again, _ in rounds]

    def figures(values: list[float]) -> str:
        return f"median {statistics.median(values):.2f}  (rounds: {', '.join(f'{v:.2f}' for v in values)})"

    print(f"first crawl / ceiling:   {figures(firsts)}  target >= 0.50")
    print(f"re-crawl / ceiling:      {figures(agains)}")
    print(f"re-crawl / first crawl:  {figures(speedups)}  target > 1.00")


if __name__ == "__main__":
    main()
