"""Benchmark: BrowserFetcher against a bare Playwright loop, on script-rendered loopback pages.

    .venv/bin/python bench/browser.py [--pages 200] [--concurrency 4] [--rounds 2]

Serves ``--pages`` pages whose text a script writes, then renders all of them with
  * bare: one context, ``concurrency`` workers doing new_page, goto, content, close;
  * bare-reuse: the same, but each worker keeps its page (the fastest loop Playwright allows);
  * fetcher: ``BrowserFetcher.fetch`` for every page with browser_pages = concurrency,
    robots.txt, limits, failure checks and network-quiet waits included.
Both use the same Chromium and launch flags. Prints pages/s, the fetcher's ratio to each
bare loop (target >= 0.6 against "bare"), and peak memory (PSS, or RSS where PSS cannot be read)
of the browser processes and RSS of this Python process. Every rendered page is checked for
its script-written text, so a fast but wrong run cannot pass unnoticed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.async_api import async_playwright  # noqa: E402

from monitor.config import FetchConfig  # noqa: E402
from monitor.fetch.browser import BrowserFetcher  # noqa: E402
from monitor.fetch.chromium import LAUNCH_ARGS, chromium_executable  # noqa: E402
from monitor.records import Render, Watch  # noqa: E402

APP_JS = b"""(function () {
  var n = document.body.dataset.n, rows = '';
  for (var i = 0; i < 40; i++) rows += '<li>Feature ' + i + ' of plan ' + n + '</li>';
  document.getElementById('app').innerHTML =
    '<h1>Plan ' + n + ' costs $' + (10 + Number(n)) + '</h1><ul>' + rows + '</ul>';
})();"""


def page_html(n: int) -> bytes:
    return (
        f'<!doctype html><html><head><title>Page {n}</title></head><body data-n="{n}">'
        f'<div id="app">loading</div><p>{"Static copy for padding. " * 200}</p>'
        f'<script src="/app.js"></script></body></html>'
    ).encode()


def expected_text(n: int) -> str:
    return f"Plan {n} costs ${10 + n}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # header and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK can hold each response back by up to 40 ms
    disable_nagle_algorithm = True

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/app.js":
            body, ctype, status = APP_JS, "application/javascript", 200
        elif self.path.startswith("/p/"):
            body, ctype, status = page_html(int(self.path[3:])), "text/html; charset=utf-8", 200
        else:
            body, ctype, status = b"not found", "text/plain", 404
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # a browser closed a page mid-load


class MemoryPeak:
    """Samples the memory of this process's descendants (node driver, Chromium) in a thread."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self.kind = "PSS"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_kib = max(self.peak_kib, self._sample())

    def _sample(self) -> int:
        me, parents = os.getpid(), {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        total = 0
        for pid in parents:
            up = parents.get(pid)
            while up and up != me:
                up = parents.get(up)
            if up == me:
                total += self._memory_kib(pid)
        return total

    def _memory_kib(self, pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    self.kind = "RSS"  # PSS unreadable: shared pages count once per process
                    return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return 0


async def bare_loop(urls: list[str], *, concurrency: int, reuse_page: bool) -> list[str]:
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for item in enumerate(urls):
        queue.put_nowait(item)
    out = [""] * len(urls)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium_executable(), args=list(LAUNCH_ARGS))
        context = await browser.new_context()

        async def worker() -> None:
            page = await context.new_page() if reuse_page else None
            while not queue.empty():
                index, url = queue.get_nowait()
                current = page or await context.new_page()
                await current.goto(url)
                out[index] = await current.content()
                if page is None:
                    await current.close()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        await browser.close()
    return out


async def fetcher_run(urls: list[str], *, concurrency: int) -> list[str]:
    cfg = FetchConfig(per_host=concurrency, per_host_delay=0.0, browser_pages=concurrency, retries=0)
    async with BrowserFetcher.from_config(cfg) as fetcher:
        results = await asyncio.gather(
            *(fetcher.fetch(Watch(competitor="Bench", url=u, render=Render.BROWSER)) for u in urls)
        )
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{len(failed)} fetches failed, first: {failed[0].error}")
    return [r.text or "" for r in results]


def timed(label: str, run, urls: list[str]) -> tuple[float, int]:
    with MemoryPeak() as memory:
        started = time.perf_counter()
        pages = asyncio.run(run(urls))
        seconds = time.perf_counter() - started
    wrong = [i for i, html in enumerate(pages) if expected_text(int(urls[i].rsplit("/", 1)[1])) not in html]
    if wrong:
        raise SystemExit(f"{label}: {len(wrong)} pages lack their script-written text (first: {urls[wrong[0]]})")
    rate = len(urls) / seconds
    print(f"  {label:<11} {rate:7.1f} pages/s   peak browser {memory.kind} {memory.peak_kib / 1024:7.1f} MiB")
    return rate, memory.peak_kib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    urls = [f"{base}/p/{n}" for n in range(args.pages)]
    print(f"{args.pages} script-rendered pages on loopback, concurrency {args.concurrency}, {args.rounds} rounds")
    runs = {
        "bare": lambda u: bare_loop(u, concurrency=args.concurrency, reuse_page=False),
        "bare-reuse": lambda u: bare_loop(u, concurrency=args.concurrency, reuse_page=True),
        "fetcher": lambda u: fetcher_run(u, concurrency=args.concurrency),
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for number in range(args.rounds):
        print(f"round {number + 1}")
        for name, run in runs.items():  # interleaved so drift in the machine hits all alike
            rates[name].append(timed(name, run, urls)[0])
    median = {name: statistics.median(values) for name, values in rates.items()}
    print("median pages/s: " + ", ".join(f"{k} {v:.1f}" for k, v in median.items()))
    print(f"ratio fetcher/bare       {median['fetcher'] / median['bare']:.2f}  (target >= 0.6)")
    print(f"ratio fetcher/bare-reuse {median['fetcher'] / median['bare-reuse']:.2f}")
    print(f"peak RSS of this Python process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    server.shutdown()


if __name__ == "__main__":
    main()
