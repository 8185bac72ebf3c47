"""Extraction off the event loop: a process pool, so parsing uses every core.

The event loop fetches and stores; parsing a page is pure CPU, so with one loop a crawl could
use one core at most. ``Extractor`` runs ``extract_page`` in worker processes when asked to,
and in the loop itself otherwise (tests, one-page runs).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from monitor.extract import extract_page
from monitor.records import Page, Watch


def default_workers() -> int:
    return min(4, os.cpu_count() or 1)


class Extractor:
    def __init__(self, *, workers: int = 0):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def extract(self, html: str, watch: Watch) -> Page:
        if self.workers <= 0:
            return extract_page(html, watch)
        if self._pool is None:
            # spawn: workers start clean, not as copies of a process with a running loop and sockets
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return await asyncio.get_running_loop().run_in_executor(self._pool, extract_page, html, watch)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
