"""BrowserFetcher: one shared Chromium, reused and recycled contexts, capped concurrent pages.

Lifecycles, because they decide the cost: launching Chromium takes about a second, a fresh
context about three fetches' worth of CPU, a page little. So the browser is launched lazily
and shared, a context serves ``browser_context_uses`` fetches before it is replaced, and the
browser itself is replaced after ``browser_relaunch_after`` pages (Chromium's memory only
grows) or as soon as it crashes. A replaced browser or context is closed once the pages
still using it have finished. A page with a saved session (``storage_state``) gets its own
context, so its cookies never leak into other fetches.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Generic, TypeVar
from urllib.parse import urldefrag

from playwright.async_api import Browser, BrowserContext, Page, Playwright, Route, async_playwright

from monitor.config import FetchConfig
from monitor.fetch.browser_page import (
    NetworkQuiet,
    PlaywrightError,
    check_navigation,
    check_rendered,
    error_kind,
    run_action,
    scroll_to_end,
    settle,
    short_message,
)
from monitor.fetch.chromium import LAUNCH_ARGS, chromium_executable
from monitor.fetch.common import Sleep, failed, fetch_politely, user_agent
from monitor.fetch.politeness import HostLimiter, RobotsCache
from monitor.fetch.static import build_client
from monitor.records import FetchErrorKind, FetchResult, Render, Watch

VIEWPORT = {"width": 1280, "height": 900}
# a page's own timeouts end a little before ours, so Playwright names what was slow
BACKSTOP = 2.0


@dataclass(slots=True)
class BrowserStats:
    """Counters for tests and benchmarks: how often the costly things happened."""

    launches: int = 0
    contexts: int = 0
    pages: int = 0
    crashes: int = 0


# a browser or a context: typed apart so a context is never mistaken for the browser
_Thing = TypeVar("_Thing", Browser, BrowserContext)


class _Shared(Generic[_Thing]):
    """A browser or context shared by fetches; closed when retired and no fetch uses it."""

    def __init__(self, thing: _Thing) -> None:
        self.thing: _Thing = thing
        self.uses = 0
        self.inflight = 0
        self.retired = False
        self.idle_pages: list[Page] = []  # a context's open pages waiting for the next fetch

    async def release(self) -> None:
        self.inflight -= 1
        await self.close_if_idle()

    async def close_if_idle(self) -> None:
        if self.retired and self.inflight == 0:
            try:
                await self.thing.close()
            except PlaywrightError:
                pass  # already gone with a crashed browser


class BrowserFetcher:
    """a real Chromium via Playwright, for pages whose scripts write the content"""

    key: ClassVar[Render] = Render.BROWSER

    def __init__(
        self,
        *,
        config: FetchConfig,
        executable_path: str | None = None,
        robots: RobotsCache | None = None,
        limiter: HostLimiter | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._cfg = config
        self._executable = executable_path
        # robots.txt is read over plain HTTP with the same honest User-Agent
        self._robots_client = None if robots else build_client(config)
        self._robots = robots or RobotsCache(
            self._robots_client,  # type: ignore[arg-type]
            user_agent=user_agent(config),
            timeout=config.timeout,
        )
        self._limiter = limiter or HostLimiter(per_host=config.per_host, delay=config.per_host_delay)
        self._sleep = sleep
        self._rng = rng
        self._pages_gate = asyncio.Semaphore(config.browser_pages)
        self._lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._browser: _Shared[Browser] | None = None
        self._context: _Shared[BrowserContext] | None = None
        self._blocked = frozenset(config.browser_block)
        self.stats = BrowserStats()

    @classmethod
    def from_config(cls, cfg: FetchConfig) -> BrowserFetcher:
        return cls(config=cfg, executable_path=chromium_executable(cfg.browser_path))

    async def __aenter__(self) -> BrowserFetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        async with self._lock:
            for shared in (self._context, self._browser):
                if shared is not None:
                    shared.retired = True
                    shared.inflight = 0
                    await shared.close_if_idle()
            self._context = self._browser = None
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None
        if self._robots_client is not None:
            await self._robots_client.aclose()

    async def fetch(self, watch: Watch, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """Render ``watch.url`` in Chromium; failures come back as error results.

        A browser always renders in full: ``etag``/``last_modified`` are accepted for the common
        interface but not sent, because a 304 to a navigation leaves the page blank.
        """

        async def attempt() -> tuple[FetchResult, Mapping[str, str]]:
            async with self._pages_gate:
                return await self._attempt(watch)

        return await fetch_politely(
            watch, attempt, cfg=self._cfg, limiter=self._limiter, robots=self._robots, sleep=self._sleep, rng=self._rng
        )

    # -- lifecycles ---------------------------------------------------------------------------

    async def _current_browser(self) -> _Shared[Browser]:
        """The shared browser, launched now if there is none, it crashed, or it is worn out."""
        shared = self._browser
        if shared is not None and shared.thing.is_connected() and shared.uses < self._cfg.browser_relaunch_after:
            return shared
        if shared is not None:
            if not shared.thing.is_connected():
                self.stats.crashes += 1
            shared.retired = True
            await shared.close_if_idle()
            await self._retire_context()
        if self._playwright is None:
            self._playwright = await async_playwright().start()
        browser = await self._playwright.chromium.launch(
            executable_path=self._executable, headless=True, args=list(LAUNCH_ARGS)
        )
        self.stats.launches += 1
        self._browser = _Shared(browser)
        return self._browser

    async def _retire_context(self) -> None:
        if self._context is not None:
            self._context.retired = True
            # closed now if idle, else by its last user's release()
            await self._context.close_if_idle()
            self._context = None

    async def _new_context(self, browser: Browser, watch: Watch) -> BrowserContext:
        context = await browser.new_context(
            user_agent=user_agent(self._cfg),
            viewport=VIEWPORT,  # type: ignore[arg-type]
            service_workers="block",  # a worker's cache would answer in place of the site
            storage_state=str(watch.storage_state) if watch.storage_state else None,
        )
        # routing also turns off Chromium's HTTP cache, so a reused context never serves a stale page
        await context.route("**/*", self._route)
        self.stats.contexts += 1
        return context

    async def _route(self, route: Route) -> None:
        if route.request.resource_type in self._blocked:
            await route.abort("blockedbyclient")
        else:
            await route.continue_()

    async def _lease(self, watch: Watch) -> tuple[_Shared[Browser], _Shared[BrowserContext]]:
        """(browser, context) for one page, counted as in use until released."""
        async with self._lock:
            browser = await self._current_browser()
            if watch.storage_state:
                context = _Shared(await self._new_context(browser.thing, watch))
                context.retired = True  # its own: closed right after this page
            else:
                if self._context is None or self._context.uses >= self._cfg.browser_context_uses:
                    await self._retire_context()
                    self._context = _Shared(await self._new_context(browser.thing, watch))
                context = self._context
            for shared in (browser, context):
                shared.uses += 1
                shared.inflight += 1
            self.stats.pages += 1
            return browser, context

    # -- one page -------------------------------------------------------------------------------

    async def _attempt(self, watch: Watch) -> tuple[FetchResult, Mapping[str, str]]:
        now = datetime.now(UTC)
        headers: Mapping[str, str] = {}
        try:
            # launching is not the site's fault: the attempt's clock starts after the lease
            browser, context = await self._lease(watch)
            page: Page | None = None
            reusable = False
            try:
                page = await self._page_for(watch, context)
                async with asyncio.timeout(self._cfg.timeout + BACKSTOP):
                    result, headers = await self._render(watch, page, now)
                # a page that timed out may still be loading, a screenshot page has its own route,
                # and a page that failed in the browser may be broken: only clean pages go back
                reusable = (
                    not watch.screenshot
                    and not context.retired
                    and (result.error is None or result.error.kind is not FetchErrorKind.BROWSER)
                )
                return result, headers
            finally:
                if page is not None:
                    if reusable:
                        context.idle_pages.append(page)
                    else:
                        await _close_page(page)
                await context.release()
                await browser.release()
        except (PlaywrightError, TimeoutError) as exc:
            kind = error_kind(exc)
            message = short_message(exc) if not isinstance(exc, TimeoutError) else "no page"
            if kind is FetchErrorKind.TIMEOUT:
                message = f"not rendered within {self._cfg.timeout:g}s ({message})"
            return failed(watch.url, now, kind, message), headers
        except ValueError as exc:  # a misconfigured action
            return failed(watch.url, now, FetchErrorKind.BROWSER, str(exc)), headers

    async def _page_for(self, watch: Watch, context: _Shared[BrowserContext]) -> Page:
        """An idle page of the context (a new page costs several navigations), or a new one."""
        if watch.screenshot or not context.idle_pages:
            page = await context.thing.new_page()
            if watch.screenshot:
                # a screenshot is for people: let images and fonts through for this page only
                await page.route("**/*", lambda route: route.continue_())
            return page
        page = context.idle_pages.pop()
        if urldefrag(page.url).url == urldefrag(watch.url).url and "#" in page.url + watch.url:
            # only the fragment differs: goto would scroll, not load; start from a blank page
            await page.goto("about:blank")
        return page

    async def _render(self, watch: Watch, page: Page, now: datetime) -> tuple[FetchResult, Mapping[str, str]]:
        cfg = self._cfg
        page.set_default_timeout(cfg.timeout * 1000)
        quiet = NetworkQuiet(page)
        try:
            response = await page.goto(watch.url, wait_until="load")
            if response is None:
                return failed(watch.url, now, FetchErrorKind.BROWSER, "navigation produced no response"), {}
            headers = response.headers
            known = {
                "status": response.status,
                "final_url": page.url,
                "content_type": headers.get("content-type"),
                "etag": headers.get("etag"),
                "last_modified": headers.get("last-modified"),
            }
            error = await check_navigation(response, max_bytes=cfg.max_bytes)
            if error is not None:
                return FetchResult(url=watch.url, fetched_at=now, error=error, **known), headers  # type: ignore[arg-type]
            await quiet.wait(cap=cfg.browser_quiet_cap)
            if watch.wait_for:
                try:
                    await page.wait_for_selector(watch.wait_for, state="attached")
                except PlaywrightError as exc:
                    message = f"wait_for {watch.wait_for!r}: {short_message(exc)}"
                    return failed(watch.url, now, FetchErrorKind.TIMEOUT, message, **known), headers
                await settle(page, quiet, cap=cfg.browser_quiet_cap)
            for action in watch.actions:
                try:
                    await run_action(page, action, quiet, cap=cfg.browser_quiet_cap)
                except PlaywrightError as exc:
                    message = f"action {action.action} {action.selector or ''}: {short_message(exc)}".strip()
                    return failed(watch.url, now, FetchErrorKind.BROWSER, message, **known), headers
            if watch.scroll:
                await scroll_to_end(page, quiet, cap=cfg.browser_quiet_cap)
            html = await page.content()
            error = check_rendered(html)
            if error is not None:
                return FetchResult(url=watch.url, fetched_at=now, error=error, **known), headers  # type: ignore[arg-type]
            shot = await page.screenshot(full_page=True, type="png") if watch.screenshot else None
            known["final_url"] = page.url
            result = FetchResult(url=watch.url, fetched_at=now, text=html, screenshot=shot, **known)  # type: ignore[arg-type]
            return result, headers
        finally:
            quiet.detach(page)


async def _close_page(page: Page) -> None:
    try:
        await page.close()
    except PlaywrightError:
        pass  # the browser went down with it; the next lease relaunches
