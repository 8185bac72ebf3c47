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
import logging
import os
import pickle
import signal
import struct
import sys
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO, cast

from monitor import codec
from monitor.codec import EncodedPage
from monitor.errors import RivalwatchError
from monitor.extract import extract_page
from monitor.records import Watch

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!I")
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)  # where ``monitor`` imports from
Encoded = tuple[str, str, str, int, str, str]  # url, title, content hash, block count, blocks and facts JSON
_WORKER_ARGS = ("-m", "monitor.workers")
EXTRACT_TIMEOUT = 120.0  # seconds for a worker to answer a page, queue included; a 5 MB page takes ~1 s
FAILED_STARTS = 3  # workers that die before their first answer, in a row, before the loop parses itself
# Linux pipes hold 64 KiB, about one page: a worker that finished a page then waited for the loop
# to wake and write the next one, idling its core on almost every page. A pipe this size (the
# default limit for unprivileged processes) holds a worker's queue, so it reads on without a wait.
PIPE_SIZE = 1 << 20


class WorkerError(RivalwatchError):
    """An extraction worker died or failed a page."""


class Extractor:
    def __init__(self, *, workers: int = 0):
        self.workers = workers
        self._procs: list[_Worker] = []
        self._starting: asyncio.Lock | None = None  # made in the loop that uses it
        self._failed_starts = 0
        self._closed = False
        # killed workers whose exit the loop has not heard yet: aclose waits for them, or their
        # process objects outlive the loop unreaped ("subprocess ... is still running")
        self._discarded: list[_Worker] = []

    async def extract(self, html: str, watch: Watch, *, unless: str | None = None) -> EncodedPage | None:
        """The page, or None when its content hash is ``unless`` (the last snapshot's): an
        unchanged page is neither encoded nor sent back."""
        worker = await self._least_busy() if self.workers > 0 else None
        if worker is None:
            page = extract_page(html, watch)
            return None if page.content_hash == unless else EncodedPage.of(page)
        answer = await worker.run(html, watch, unless)
        if answer is None:
            return None
        url, title, content_hash, block_count, blocks_json, facts_json = answer
        return EncodedPage(url, title, content_hash, block_count, blocks_json=blocks_json, facts_json=facts_json)

    async def _least_busy(self) -> _Worker | None:
        """The worker with the fewest pages queued; None when workers cannot run here, or after
        ``aclose`` (a check that outlives its extractor parses in the loop, and starts nothing)."""
        if self._closed:
            return None
        if len(self._procs) < self.workers or not all(w.alive for w in self._procs):
            self._starting = self._starting or asyncio.Lock()
            async with self._starting:  # checks arrive together: start each worker once
                self._discarded = [w for w in self._discarded if not w.exited]
                for dead in (w for w in self._procs if not w.alive):
                    self._failed_starts = 0 if dead.answered else self._failed_starts + 1
                    dead.discard()
                    self._discarded.append(dead)
                self._procs = [w for w in self._procs if w.alive]  # a dead worker is replaced
                if self._failed_starts >= FAILED_STARTS and self.workers > 0:
                    log.error(
                        "extraction workers keep exiting before their first page (their errors are above); "
                        "parsing pages in the daemon's own process instead"
                    )
                    self.workers = 0
                while len(self._procs) < self.workers:
                    self._procs.append(await _Worker.start())
        return min(self._procs, key=lambda w: len(w.pending)) if self._procs else None

    async def aclose(self) -> None:
        self._closed = True
        procs, self._procs, self._discarded = self._procs + self._discarded, [], []
        await asyncio.gather(*(w.stop() for w in procs))


class _Worker(asyncio.SubprocessProtocol):
    """One child process, as an asyncio protocol: answers arrive as pipe data and resolve the
    futures of the jobs sent, oldest first (a worker answers in order)."""

    def __init__(self) -> None:
        self.pending: deque[asyncio.Future[Encoded | None]] = deque()
        self._running = True  # until the loop hears the process exit
        self._stopping = False
        self.answered = 0
        self._transport: asyncio.SubprocessTransport | None = None
        self._buffer = bytearray()
        self._exited = asyncio.get_running_loop().create_future()

    @classmethod
    async def start(cls) -> _Worker:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))}
        _, worker = await asyncio.get_running_loop().subprocess_exec(
            cls,
            sys.executable,
            *_WORKER_ARGS,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,  # a worker's crash report goes where the daemon's own errors go
            env=env,
        )
        return worker

    @property
    def alive(self) -> bool:
        """False once the process has exited or its input pipe broke; a busy machine can tell the
        loop of the broken pipe well before it reports the exit."""
        requests = self._transport.get_pipe_transport(0) if self._transport is not None else None
        return self._running and requests is not None and not requests.is_closing()

    @property
    def exited(self) -> bool:
        """The loop has heard the process exit (it is reaped)."""
        return self._exited.done()

    @property
    def pid(self) -> int | None:
        return self._transport.get_pid() if self._transport is not None else None

    async def run(self, html: str, watch: Watch, unless: str | None) -> Encoded | None:
        requests = self._transport.get_pipe_transport(0) if self._transport is not None else None
        if not self.alive or requests is None:
            raise WorkerError("the extraction worker has exited")
        payload = pickle.dumps((html, watch, unless), protocol=pickle.HIGHEST_PROTOCOL)
        future: asyncio.Future[Encoded | None] = asyncio.get_running_loop().create_future()
        self.pending.append(future)  # answered in writing order, or failed if the worker dies
        cast(asyncio.WriteTransport, requests).write(_HEADER.pack(len(payload)) + payload)  # buffered: never blocks
        try:
            async with asyncio.timeout(EXTRACT_TIMEOUT):
                return await future  # cancelled with its check: the answer is then skipped
        except TimeoutError:
            log.warning("an extraction worker gave no answer in %g s; killing it", EXTRACT_TIMEOUT)
            self.discard()  # its pages fail, and the next page starts a new worker
            raise WorkerError(f"no answer from the extraction worker in {EXTRACT_TIMEOUT:g} s") from None

    def discard(self) -> None:
        """Let go of a worker found dead: kill it if its process is somehow still there."""
        if self._transport is not None:
            self._transport.close()

    async def stop(self) -> None:
        if self._transport is None:
            return
        requests = self._transport.get_pipe_transport(0)
        self._stopping = True
        if requests is not None:
            requests.close()  # end of input: the worker finishes what it has and exits
        try:
            await asyncio.wait_for(asyncio.shield(self._exited), timeout=10)
        except TimeoutError:
            log.warning("an extraction worker did not exit in 10 s; killing it")
        self._transport.close()  # kills it if it is still running, and closes the pipes

    # ---- asyncio.SubprocessProtocol ------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.SubprocessTransport, transport)  # uvloop's is no subclass of it
        for fd in (0, 1):
            _widen(self._transport.get_pipe_transport(fd))

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self._buffer += cast(bytes, data)  # pipes opened without text mode carry bytes
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + size:
                return
            ok, value = pickle.loads(self._buffer[_HEADER.size : _HEADER.size + size])
            del self._buffer[: _HEADER.size + size]
            self.answered += 1
            future = self.pending.popleft()
            if future.done():  # its check was cancelled
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(WorkerError(f"extraction failed in a worker: {value}"))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 0 and not self._stopping and self._transport is not None:
            # its input broke while we did not close it: it can take no page and may never answer
            log.warning("an extraction worker's input closed (%s); killing it", exc or "closed by the worker")
            self._transport.close()

    def process_exited(self) -> None:
        self._running = False  # no new jobs; answers already written may still be in the pipe

    def connection_lost(self, exc: Exception | None) -> None:
        """The worker has exited and its pipes are drained: whatever is unanswered now never will be."""
        assert self._transport is not None
        self._running = False
        code = self._transport.get_returncode()
        failed = [f for f in self.pending if not f.done()]
        for future in failed:
            future.set_exception(WorkerError(f"an extraction worker exited (code {code}) mid-page"))
        if failed:
            log.warning("an extraction worker exited (code %s); %d pages failed", code, len(failed))
        self.pending.clear()
        if not self._exited.done():
            self._exited.set_result(code)
        self._transport.close()  # marks it closed: nothing is left for the collector to warn of


def _widen(pipe: asyncio.BaseTransport | None) -> None:
    """Grow a pipe to PIPE_SIZE where the system allows (Linux); elsewhere it keeps its size."""
    file = pipe.get_extra_info("pipe") if pipe is not None else None
    if file is None:
        return
    try:
        import fcntl  # Unix only

        fcntl.fcntl(file.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)  # F_SETPIPE_SZ: Linux only
    except (ImportError, AttributeError, OSError) as exc:  # or a lower /proc/sys/fs/pipe-max-size
        log.debug("could not grow an extraction worker's pipe (slower, still correct): %s", exc)


def _extract_encoded(html: str, watch: Watch, unless: str | None) -> Encoded | None:
    """extract_page sent back as the JSON the store keeps: two strings cross between processes
    far cheaper than hundreds of records, and the event loop encodes nothing. None when the
    content hash is ``unless``."""
    page = extract_page(html, watch)
    if page.content_hash == unless:
        return None
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
        html, watch, unless = pickle.loads(frame)
        answer: tuple[bool, Any]
        try:
            answer = (True, _extract_encoded(html, watch, unless))
        except Exception as exc:  # noqa: BLE001 - one bad page must not end the worker
            answer = (False, f"{type(exc).__name__}: {exc}")
        payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(_HEADER.pack(len(payload)) + payload)
        answers.flush()


WORKER_NICENESS = 10


def main() -> None:
    # a page's parse can wait a moment; the event loop, which fetches, stores and alerts for every
    # page, must not: when the cores are busy the scheduler serves the daemon first
    os.nice(WORKER_NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the daemon's to handle; end of input ends us
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the answers
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
