"""What happens inside one browser page: waiting, scrolling, actions, and naming failures.

Kept apart from ``browser.py`` (which owns the browser's and contexts' lifecycles) so each
file has one job. Everything here works on a single Playwright ``Page``.
"""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, Request, Response
from playwright.async_api import TimeoutError as PlaywrightTimeout

from monitor.fetch.common import is_html_type
from monitor.fetch.decode import decode_html
from monitor.fetch.failures import classify_response, classify_status, detect_challenge, visible_text
from monitor.records import BrowserAction, FetchError, FetchErrorKind

# after the last request ends, scripts need a moment to turn the response into DOM
QUIET_SETTLE = 0.03
MAX_SCROLL_ROUNDS = 25
# lets the page run a frame, so IntersectionObserver and scroll handlers fire before we look
_NEXT_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(0))))"
_SCROLL_TO_END = (
    "() => { window.scrollTo(0, document.documentElement.scrollHeight); return document.documentElement.scrollHeight; }"
)
_HEIGHT = "() => document.documentElement.scrollHeight"


class NetworkQuiet:
    """Counts a page's requests in flight, to wait for "network quiet" without a fixed delay.

    Playwright's own ``networkidle`` always waits 500 ms; this returns at once when nothing is
    in flight, and otherwise when the last request has ended and nothing new started for
    ``QUIET_SETTLE`` seconds, or at the cap (long-polling pages never go quiet).
    """

    def __init__(self, page: Page) -> None:
        self._inflight: set[Request] = set()
        self._activity = asyncio.Event()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def detach(self, page: Page) -> None:
        """Stop listening, so a page reused for the next fetch carries no old counters."""
        page.remove_listener("request", self._started)
        page.remove_listener("requestfinished", self._ended)
        page.remove_listener("requestfailed", self._ended)

    def _started(self, request: Request) -> None:
        self._inflight.add(request)
        self._activity.set()

    def _ended(self, request: Request) -> None:
        self._inflight.discard(request)
        self._activity.set()

    async def wait(self, *, cap: float) -> bool:
        """Wait for quiet; True if reached, False if the cap ran out first."""
        if not self._inflight:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + cap
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return False
            self._activity.clear()
            if self._inflight:
                window = left
            else:
                window = min(QUIET_SETTLE, left)
            try:
                await asyncio.wait_for(self._activity.wait(), window)
            except TimeoutError:
                if not self._inflight:
                    return True


async def scroll_to_end(page: Page, quiet: NetworkQuiet, *, cap: float) -> None:
    """Scroll until the page stops growing, letting lazy content load after each step."""
    height = await page.evaluate(_HEIGHT)
    for _ in range(MAX_SCROLL_ROUNDS):
        await page.evaluate(_SCROLL_TO_END)
        await page.evaluate(_NEXT_FRAMES)
        await quiet.wait(cap=cap)
        grown = await page.evaluate(_HEIGHT)
        if grown <= height:
            return
        height = grown


async def settle(page: Page, quiet: NetworkQuiet, *, cap: float) -> None:
    await page.evaluate(_NEXT_FRAMES)
    await quiet.wait(cap=cap)


async def run_action(page: Page, action: BrowserAction, quiet: NetworkQuiet, *, cap: float) -> None:
    """One configured step (click, fill, wait, scroll), then let its effects land."""
    match action.action:
        case "click":
            await page.click(_need(action.selector, action))
        case "fill":
            await page.fill(_need(action.selector, action), action.value or "")
        case "wait":
            if action.selector:
                await page.wait_for_selector(action.selector)
            if action.ms:
                await page.wait_for_timeout(action.ms)  # the user asked for this pause
        case "scroll":
            if action.selector:
                await page.locator(action.selector).first.scroll_into_view_if_needed()
            else:
                await scroll_to_end(page, quiet, cap=cap)
        case other:
            raise ValueError(f"unknown browser action {other!r}")
    await settle(page, quiet, cap=cap)


def _need(selector: str | None, action: BrowserAction) -> str:
    if not selector:
        raise ValueError(f"browser action {action.action!r} needs a selector")
    return selector


async def check_navigation(response: Response, *, max_bytes: int) -> FetchError | None:
    """The raw answer's verdict before any waiting: status, type, size, challenge, truncation.

    Chromium's serialised DOM always closes its tags, so truncation and emptiness can only be
    seen in the bytes the server sent.
    """
    content_type = response.headers.get("content-type")
    if response.status < 400 and content_type and not is_html_type(content_type):
        return FetchError(FetchErrorKind.NOT_HTML, f"content type {content_type!r}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return FetchError(FetchErrorKind.TOO_LARGE, f"Content-Length {declared} is over the {max_bytes}-byte cap")
    try:
        body = await response.body()
    except PlaywrightError:
        # some bodies are gone (e.g. after a client-side redirect): the status and render decide
        return classify_status(response.status, response.headers)
    if len(body) > max_bytes:
        return FetchError(FetchErrorKind.TOO_LARGE, f"body of {len(body)} bytes is over the {max_bytes}-byte cap")
    return classify_response(response.status, response.headers, decode_html(body, content_type))


def check_rendered(html: str) -> FetchError | None:
    """Scripts can draw a challenge too, or draw nothing at all."""
    challenge = detect_challenge(html)
    if challenge:
        return FetchError(FetchErrorKind.BLOCKED, f"rendered page is a {challenge}")
    if not visible_text(html):
        return FetchError(FetchErrorKind.EMPTY, "the rendered page has no text")
    return None


_NET_ERRORS: tuple[tuple[re.Pattern[str], FetchErrorKind], ...] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"ERR_TOO_MANY_REDIRECTS", FetchErrorKind.REDIRECTS),
        (r"ERR_TIMED_OUT|ERR_CONNECTION_TIMED_OUT", FetchErrorKind.TIMEOUT),
        (r"ERR_EMPTY_RESPONSE", FetchErrorKind.EMPTY),
        (r"ERR_CONTENT_LENGTH_MISMATCH|ERR_INCOMPLETE_CHUNKED_ENCODING", FetchErrorKind.TRUNCATED),
        (r"Download is starting", FetchErrorKind.NOT_HTML),
        (
            r"ERR_CONNECTION_|ERR_NAME_NOT_RESOLVED|ERR_ADDRESS_|ERR_SSL|ERR_CERT_|ERR_NETWORK_|"
            r"ERR_INTERNET_DISCONNECTED|ERR_PROXY",
            FetchErrorKind.CONNECT,
        ),
    )
)


def error_kind(exc: BaseException) -> FetchErrorKind:
    """The fetch-error kind a Playwright exception stands for."""
    if isinstance(exc, PlaywrightTimeout | TimeoutError):
        return FetchErrorKind.TIMEOUT
    message = str(exc)
    for pattern, kind in _NET_ERRORS:
        if pattern.search(message):
            return kind
    return FetchErrorKind.BROWSER


def short_message(exc: BaseException) -> str:
    """Playwright messages carry a call log; the first line is the part a person needs."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return first[:300]


__all__ = [
    "NetworkQuiet",
    "check_navigation",
    "check_rendered",
    "PlaywrightError",
    "error_kind",
    "run_action",
    "scroll_to_end",
    "settle",
    "short_message",
]
