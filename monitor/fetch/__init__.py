"""Fetchers: turn a ``Watch`` into a ``FetchResult``, politely, and never raise for the network.

fetcher = FETCHERS[watch.render].from_config(config.fetch)
result = await fetcher.fetch(watch, etag=..., last_modified=...)
await fetcher.aclose()
"""

from __future__ import annotations

from monitor.fetch.browser import BrowserFetcher
from monitor.fetch.static import StaticFetcher
from monitor.records import Render

FETCHERS: dict[Render, type[StaticFetcher] | type[BrowserFetcher]] = {
    Render.STATIC: StaticFetcher,
    Render.BROWSER: BrowserFetcher,
}

__all__ = ["FETCHERS", "BrowserFetcher", "StaticFetcher"]
