"""Extraction off the event loop: worker processes, so parsing uses every core.

The event loop fetches and stores; parsing a page is pure CPU, so with one loop a crawl could
use one core at most. ``Extractor`` runs ``extract_page`` in worker processes when asked to,
and in the loop itself otherwise (tests, one-page runs).

The workers are plain child processes (``python -m monitor.workers``) spoken to over their
stdin and stdout with asyncio's own pipes, not a ``ProcessPoolExecutor``: the executor's
helper threads share the event loop's GIL, and each hand-over to them stalled the loop for
up to a thread switch interval (5 ms) on every page. Here nothing but the loop runs in this
process. A frame is a 4-byte length and a pickle; a worker answers its jobs in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO

from monitor import codec
from monitor.codec import EncodedPage
from monitor.errors import RivalwatchError
from monitor.extract import extract_page
from monitor.records import Watch

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!I")
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)  # where ``monitor`` imports from
Encoded = tuple[str, str, str, int, str, str]  # url, title, content hash, block count, blocks and facts JSON


class WorkerError(RivalwatchError):
    """An extraction worker died or failed a page."""


def default_workers() -> int:
    return min(4, os.cpu_count() or 1)


class Extractor:
    def __init__(self, *, workers: int = 0):
        self.workers = workers
        self._procs: list[_Worker] = []
        self._starting: asyncio.Lock | None = None  # made in the loop that uses it

    async def extract(self, html: str, watch: Watch) -> EncodedPage:
        if self.workers <= 0:
            return EncodedPage.of(extract_page(html, watch))
        worker = await self._least_busy()
        url, title, content_hash, block_count, blocks_json, facts_json = await worker.run(html, watch)
        return EncodedPage(url, title, content_hash, block_count, blocks_json=blocks_json, facts_json=facts_json)

    async def _least_busy(self) -> _Worker:
        if len(self._procs) < self.workers or not all(w.alive for w in self._procs):
            self._starting = self._starting or asyncio.Lock()
            async with self._starting:  # checks arrive together: start each worker once
                self._procs = [w for w in self._procs if w.alive]  # a dead worker is replaced
                while len(self._procs) < self.workers:
                    self._procs.append(await _Worker.start())
        return min(self._procs, key=lambda w: len(w.pending))

    async def aclose(self) -> None:
        procs, self._procs = self._procs, []
        await asyncio.gather(*(w.stop() for w in procs))


class _Worker:
    """One child process and the futures of the jobs it has been sent, oldest first."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pending: deque[asyncio.Future[Encoded]] = deque()
        self.alive = True
        self._reader = asyncio.create_task(self._read_answers())

    @classmethod
    async def start(cls) -> _Worker:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "monitor.workers",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        return cls(process)

    async def run(self, html: str, watch: Watch) -> Encoded:
        assert self.process.stdin is not None
        if not self.alive:
            raise WorkerError("the extraction worker has exited")
        payload = pickle.dumps((html, watch), protocol=pickle.HIGHEST_PROTOCOL)
        future: asyncio.Future[Encoded] = asyncio.get_running_loop().create_future()
        # queued and written with no await between: the reader answers futures in writing order,
        # and fails this one too if the worker dies
        self.pending.append(future)
        self.process.stdin.write(_HEADER.pack(len(payload)) + payload)
        with contextlib.suppress(ConnectionError):  # the worker died: the reader fails the future
            await self.process.stdin.drain()
        return await future

    async def _read_answers(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                (size,) = _HEADER.unpack(await self.process.stdout.readexactly(_HEADER.size))
                ok, value = pickle.loads(await self.process.stdout.readexactly(size))
                future = self.pending.popleft()
                if future.done():  # its check was cancelled
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(WorkerError(f"extraction failed in a worker: {value}"))
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.process.wait()  # the worker exited
        except asyncio.CancelledError:
            self.process.kill()  # the loop is ending without stop(): the worker must not outlive it
            raise
        finally:
            self.alive = False
            failed = [f for f in self.pending if not f.done()]
            for future in failed:
                future.set_exception(
                    WorkerError(f"an extraction worker exited (code {self.process.returncode}) mid-page")
                )
            if failed:
                log.warning(
                    "an extraction worker exited (code %s); %d pages failed", self.process.returncode, len(failed)
                )
            self.pending.clear()

    async def stop(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()  # end of input: the worker finishes and exits
        try:
            await asyncio.wait_for(self.process.wait(), timeout=10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def _extract_encoded(html: str, watch: Watch) -> Encoded:
    """extract_page sent back as the JSON the store keeps: two strings cross between processes
    far cheaper than hundreds of records, and the event loop encodes nothing."""
    page = extract_page(html, watch)
    blocks_json, facts_json = codec.blocks_to_json(page.blocks), codec.facts_to_json(page.facts)
    return page.url, page.title, page.content_hash, len(page.blocks), blocks_json, facts_json


def _read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    return stream.read(size)


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The worker's loop: a page in, its extraction (or the error) out, until end of input."""
    while (frame := _read_frame(requests)) is not None:
        html, watch = pickle.loads(frame)
        answer: tuple[bool, Any]
        try:
            answer = (True, _extract_encoded(html, watch))
        except Exception as exc:  # noqa: BLE001 - one bad page must not end the worker
            answer = (False, f"{type(exc).__name__}: {exc}")
        payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(_HEADER.pack(len(payload)) + payload)
        answers.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the daemon's to handle; end of input ends us
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the answers
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
