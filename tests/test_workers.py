"""Extraction worker processes: same result as in the loop, and a failure costs one page, not the crawl."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest

from monitor import codec, workers
from monitor.config_sections import AUTO_WORKERS_FROM, FetchConfig
from monitor.extract import extract_page
from monitor.records import PageKind, Watch
from monitor.workers import Extractor, WorkerError

WATCH = Watch(competitor="Acme", url="http://127.0.0.1/pricing", kind=PageKind.PRICING)
HTML = """<html><head><title>Pricing</title></head><body><h1>Pricing</h1>
<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>$49 per month</td></tr>
<tr><td>Team</td><td>$99 per month</td></tr></table><p>Cancel any time.</p></body></html>"""


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_a_worker_gives_what_the_loop_gives_and_the_stored_json():
    async def go():  # type: ignore[no-untyped-def]
        extractor = Extractor(workers=2)
        try:
            results = await asyncio.gather(*(extractor.extract(HTML, WATCH) for _ in range(5)))
            return results, [os.getpriority(os.PRIO_PROCESS, w.pid) for w in extractor._procs]
        finally:
            await extractor.aclose()

    expected = extract_page(HTML, WATCH)
    results, nice = run(go())
    assert all(
        n == os.getpriority(os.PRIO_PROCESS, 0) + workers.WORKER_NICENESS for n in nice
    )  # they yield to the loop
    for encoded in results:
        assert encoded.page == expected
        assert encoded.content_hash == expected.content_hash and encoded.block_count == len(expected.blocks)
        assert codec.blocks_from_json(encoded.blocks_json) == expected.blocks


@pytest.mark.parametrize("workers", [0, 1])
def test_a_page_whose_content_is_the_last_snapshots_comes_back_as_none(workers):
    same = extract_page(HTML, WATCH).content_hash

    async def go():  # type: ignore[no-untyped-def]
        extractor = Extractor(workers=workers)
        try:
            return await extractor.extract(HTML, WATCH, unless=same), await extractor.extract(HTML, WATCH, unless="x")
        finally:
            await extractor.aclose()

    unchanged, changed = run(go())
    assert unchanged is None and changed is not None and changed.content_hash == same


def _pipe_max() -> int:
    try:
        return int(Path("/proc/sys/fs/pipe-max-size").read_text())
    except OSError:
        return 0


@pytest.mark.skipif(
    _pipe_max() < workers.PIPE_SIZE, reason="pipes cannot grow to PIPE_SIZE here (not Linux, or a lower pipe-max-size)"
)
def test_a_workers_queue_waits_in_its_pipe_not_in_the_loop():
    """Pages queued for a busy worker are in its pipe, so it reads the next one without waiting
    for the loop to wake; with a plain 64 KiB pipe all but the first would sit in the loop."""
    pages = [HTML.replace("Cancel any time.", f"Cancel any time. {i} " + "Filler text. " * 9000) for i in range(6)]

    async def go():  # type: ignore[no-untyped-def]
        extractor = Extractor(workers=1)
        try:
            await extractor.extract(HTML, WATCH)  # started
            worker = extractor._procs[0]
            assert worker.pid is not None and worker._transport is not None
            requests = worker._transport.get_pipe_transport(0)
            assert requests is not None
            os.kill(worker.pid, signal.SIGSTOP)  # busy: it reads nothing until it is continued
            try:
                jobs = [asyncio.ensure_future(extractor.extract(page, WATCH)) for page in pages]
                await asyncio.sleep(0.2)
                buffered = cast(asyncio.WriteTransport, requests).get_write_buffer_size()
            finally:
                os.kill(worker.pid, signal.SIGCONT)
            return buffered, await asyncio.gather(*jobs)
        finally:
            await extractor.aclose()

    assert sum(map(len, pages)) > 6 * 100_000  # far more than a plain pipe holds
    buffered, results = run(go())
    assert buffered == 0
    assert [r.page for r in results] == [extract_page(page, WATCH) for page in pages]


def test_a_closed_extractor_parses_stragglers_in_the_loop_and_starts_no_worker():
    async def go():  # type: ignore[no-untyped-def]
        extractor = Extractor(workers=1)
        await extractor.extract(HTML, WATCH)
        await extractor.aclose()
        late = await extractor.extract(HTML, WATCH)
        return late, extractor._procs

    late, procs = run(go())
    assert late is not None and late.page == extract_page(HTML, WATCH) and procs == []


def test_a_page_that_fails_in_a_worker_fails_alone():
    async def go():  # type: ignore[no-untyped-def]
        extractor = Extractor(workers=1)
        try:
            broken = replace(WATCH, ignore=("(",))  # config validation stops this; a worker must survive it
            with pytest.raises(WorkerError, match="extraction failed in a worker: error: missing \\)"):
                await extractor.extract(HTML, broken)
            return await extractor.extract(HTML, WATCH)  # the same worker goes on
        finally:
            await extractor.aclose()

    assert run(go()).page == extract_page(HTML, WATCH)


def test_a_dead_worker_fails_its_pages_and_is_replaced():
    async def go():  # type: ignore[no-untyped-def]
        extractor = Extractor(workers=1)
        try:
            await extractor.extract(HTML, WATCH)
            first = extractor._procs[0].pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            with pytest.raises(WorkerError, match="exited"):
                await extractor.extract(HTML * 200, WATCH)  # sent before or after the loop learns of it
            again = await extractor.extract(HTML, WATCH)
            assert extractor._procs[0].pid not in (None, first)
            return again
        finally:
            await extractor.aclose()

    assert run(go()).page == extract_page(HTML, WATCH)


@pytest.mark.parametrize(
    "broken",
    [
        "import sys; sys.exit(3)",
        # its input closes long before it exits, as a loaded machine reports a crash: pipe first
        "import os, time; os.close(0); time.sleep(60)",
    ],
)
def test_workers_that_cannot_start_leave_parsing_to_the_loop(monkeypatch, caplog, broken):
    monkeypatch.setattr(workers, "_WORKER_ARGS", ("-c", broken))

    async def go():  # type: ignore[no-untyped-def]
        extractor = Extractor(workers=2)
        failures = 0
        try:
            for _ in range(workers.FAILED_STARTS + 4):
                try:
                    return await extractor.extract(HTML, WATCH), failures, extractor.workers
                except WorkerError as exc:
                    assert "exited" in str(exc)
                    failures += 1
            raise AssertionError("never fell back to the loop")
        finally:
            await extractor.aclose()

    page, failures, left = run(go())
    assert page.page == extract_page(HTML, WATCH) and left == 0
    # a page sent to a worker not yet known to be dead fails too: at most one more per worker
    assert 1 <= failures <= workers.FAILED_STARTS + 2
    assert "parsing pages in the daemon's own process instead" in caplog.text


def test_a_worker_that_never_answers_is_killed_and_its_page_fails(monkeypatch):
    monkeypatch.setattr(workers, "_WORKER_ARGS", ("-c", "import sys, time; sys.stdin.buffer.read(1); time.sleep(60)"))
    monkeypatch.setattr(workers, "EXTRACT_TIMEOUT", 0.5)

    async def go():  # type: ignore[no-untyped-def]
        extractor = Extractor(workers=1)
        try:
            await extractor.extract(HTML, WATCH)  # starts the worker and its page waits
        except WorkerError as exc:
            pid = extractor._procs[0].pid
            return str(exc), pid
        finally:
            await extractor.aclose()
        raise AssertionError("a worker that never answers answered")

    message, pid = run(go())
    assert "no answer from the extraction worker in 0.5 s" in message
    assert pid is not None and not _running(pid)


LEFT_OPEN = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from monitor.records import Watch
from monitor.workers import Extractor

async def main():
    extractor, watch = Extractor(workers=2), Watch(competitor="A", url="http://127.0.0.1/")
    await asyncio.gather(*(extractor.extract("<p>x</p>", watch) for _ in range(4)))
    print(" ".join(str(w.pid) for w in extractor._procs), flush=True)

asyncio.run(main())  # ends without extractor.aclose()
"""


def test_workers_end_with_their_daemon_even_without_aclose():
    out = subprocess.run(
        [sys.executable, "-c", LEFT_OPEN, str(Path(__file__).resolve().parent.parent)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in pids)


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has ended; only its parent's bookkeeping is left


def test_extract_workers_auto_uses_the_cores_from_a_hundred_pages(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    auto = FetchConfig()
    assert auto.extract_workers == "auto"
    assert [auto.extraction_processes(n) for n in (1, AUTO_WORKERS_FROM - 1, AUTO_WORKERS_FROM, 5000)] == [0, 0, 4, 4]
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert auto.extraction_processes(AUTO_WORKERS_FROM) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # a worker beside the loop on one core gains nothing
    assert auto.extraction_processes(5000) == 0
    assert FetchConfig(extract_workers=3).extraction_processes(1) == 3  # a number is taken as it is
    assert FetchConfig(extract_workers=0).extraction_processes(5000) == 0


def test_an_app_with_hundreds_of_pages_parses_in_workers_by_default(tmp_path, monkeypatch):
    from monitor.app import App
    from monitor.config import load_config

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    pages = "".join(f"      - {{url: 'http://127.0.0.1:9/p{i}', kind: product}}\n" for i in range(AUTO_WORKERS_FROM))
    config = tmp_path / "rivalwatch.yaml"
    config.write_text(
        f"storage: sqlite:///{tmp_path / 'r.db'}\noutput: {tmp_path / 'out'}\n"
        f"competitors:\n  - name: Acme\n    pages:\n{pages}"
    )
    app = App(load_config(config), quiet=True)
    try:
        assert app.extractor.workers == 2
    finally:
        run(app.aclose())
