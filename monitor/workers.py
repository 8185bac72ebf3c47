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
from monitor.records import Block, BlockKind, Fact, Page, Watch


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
        compact = await asyncio.get_running_loop().run_in_executor(self._pool, _extract_compact, html, watch)
        return _page(compact)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# A page crosses between processes as plain tuples: pickling hundreds of dataclass instances
# costs more than building them again on this side.
_Compact = tuple[str, str, str, list[tuple[str, str, tuple[str, ...], str | None]], list[tuple[str, str, str, str]]]


def _extract_compact(html: str, watch: Watch) -> _Compact:
    page = extract_page(html, watch)
    blocks = [(b.kind.value, b.text, b.path, b.group) for b in page.blocks]
    facts = [(f.kind, f.subject, f.attribute, f.value) for f in page.facts]
    return page.url, page.title, page.content_hash, blocks, facts


def _page(compact: _Compact) -> Page:
    url, title, content_hash, blocks, facts = compact
    return Page(
        url=url,
        title=title,
        blocks=tuple(Block(BlockKind(k), text, path, group) for k, text, path, group in blocks),
        facts=tuple(Fact(*fact) for fact in facts),
        content_hash=content_hash,
    )
