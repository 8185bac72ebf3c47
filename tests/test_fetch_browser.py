"""BrowserFetcher driving a real headless Chromium against pages on 127.0.0.1.

One browser for the module (a launch costs about a second); the few tests that need other
settings (timeouts, recycling, a crash) start their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from loopback import LoopbackSite, Response

from monitor.config import FetchConfig
from monitor.fetch import FETCHERS
from monitor.fetch.browser import BrowserFetcher
from monitor.records import BrowserAction, FetchErrorKind, FetchResult, Render, Watch

pytestmark = pytest.mark.browser
CASES = yaml.safe_load((Path(__file__).parent / "data" / "fetch_browser_cases.yaml").read_text())
QUICK = {"retries": 0, "per_host_delay": 0.0, "timeout": 10.0}

RENDERED = """<!doctype html><html><head><title>Pricing</title>
<style>@font-face { font-family: Brand; src: url(/brand.woff2) format('woff2'); } body { font-family: Brand; }</style>
</head><body><div id="app">loading</div><img src="/hero.png" alt="">
<script>fetch('/plans.json').then(r => r.json()).then(d => {
  document.getElementById('app').textContent = 'Pro plan ' + d.price + ' per seat';
});</script></body></html>"""

LATE = """<html><body><p>shell</p><script>
setTimeout(() => document.body.insertAdjacentHTML('beforeend', '<p id="late">Enterprise tier added</p>'), 400);
</script></body></html>"""

LAZY = """<html><body><p>top</p><div style="height: 4000px"></div><div id="end">end</div><script>
new IntersectionObserver((entries, obs) => { if (entries[0].isIntersecting) { obs.disconnect();
  fetch('/more.json').then(r => r.json())
    .then(d => document.body.insertAdjacentHTML('beforeend', '<p>' + d.text + '</p>')); }
}).observe(document.getElementById('end'));
</script></body></html>"""

INTERACTIVE = """<html><body><button id="show">Compare plans</button><div id="plans"></div>
<input id="q"><div id="echo"></div><script>
document.getElementById('show').onclick = () => { document.getElementById('plans').textContent = 'Team plan $19'; };
document.getElementById('q').oninput = e => {
  document.getElementById('echo').textContent = 'Results for ' + e.target.value; };
</script></body></html>"""


def watch(url: str, **options: object) -> Watch:
    return Watch(competitor="Acme", url=url, render=Render.BROWSER, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@pytest.fixture(scope="module")
def web() -> Iterator[LoopbackSite]:
    with LoopbackSite() as server:
        yield server


@pytest.fixture(scope="module")
def browser(loop: asyncio.AbstractEventLoop, chromium_path: str | None) -> Iterator[BrowserFetcher]:
    fetcher = BrowserFetcher(config=FetchConfig(**QUICK), executable_path=chromium_path)
    yield fetcher
    loop.run_until_complete(fetcher.aclose())


@pytest.fixture(scope="module")
def impatient(loop: asyncio.AbstractEventLoop, chromium_path: str | None) -> Iterator[BrowserFetcher]:
    """A second browser whose fetches give up after two seconds, for the tests of giving up.

    Long enough that a loaded machine still renders a trivial page in time, so a missing
    selector, not a slow start, is what runs out the clock.
    """
    fetcher = BrowserFetcher(config=FetchConfig(**{**QUICK, "timeout": 2.0}), executable_path=chromium_path)
    yield fetcher
    loop.run_until_complete(fetcher.aclose())


def _response(spec: dict, path: str) -> Response:
    if spec.get("redirect_to_self"):
        return Response(b"", status=302, headers={"Location": path})
    headers = spec.get("headers", {"Content-Type": "text/html; charset=utf-8"})
    return Response(spec.get("body", ""), status=spec.get("status", 200), headers=dict(headers))


def test_registry_has_both_fetchers_with_docstrings() -> None:
    assert FETCHERS[Render.BROWSER] is BrowserFetcher
    for key, fetcher in FETCHERS.items():
        assert fetcher.key is key and fetcher.__doc__ and "\n" not in fetcher.__doc__.strip()


def test_script_written_text_is_rendered_and_heavy_resources_blocked(
    loop: asyncio.AbstractEventLoop, browser: BrowserFetcher, web: LoopbackSite
) -> None:
    web.set("/pricing", RENDERED)
    web.set("/plans.json", Response('{"price": "$59"}', headers={"Content-Type": "application/json"}))
    result = loop.run_until_complete(browser.fetch(watch(web.url("/pricing"))))
    assert result.ok, result.error
    assert "Pro plan $59 per seat" in (result.text or "")
    assert result.status == 200 and result.screenshot is None
    assert web.hits("/hero.png") == 0 and web.hits("/brand.woff2") == 0
    page_request = next(h for _, p, h in web.requests if p == "/pricing")
    assert page_request["User-Agent"].startswith("rivalwatch/0.1 (+")


def test_wait_for_selector_waits_for_late_content(
    loop: asyncio.AbstractEventLoop, browser: BrowserFetcher, web: LoopbackSite
) -> None:
    web.set("/late", LATE)
    result = loop.run_until_complete(browser.fetch(watch(web.url("/late"), wait_for="#late")))
    assert result.ok and "Enterprise tier added" in (result.text or "")


def test_wait_for_a_selector_that_never_appears_is_a_timeout(
    loop: asyncio.AbstractEventLoop, impatient: BrowserFetcher, web: LoopbackSite
) -> None:
    web.set("/static", "<html><body><p>nothing late here</p></body></html>")
    result = loop.run_until_complete(impatient.fetch(watch(web.url("/static"), wait_for="#never")))
    assert result.error is not None and result.error.kind is FetchErrorKind.TIMEOUT
    assert "#never" in result.error.message


def test_scroll_loads_lazy_content(loop: asyncio.AbstractEventLoop, browser: BrowserFetcher, web: LoopbackSite) -> None:
    web.set("/lazy", LAZY)
    web.set("/more.json", Response('{"text": "Customer story: Globex"}', headers={"Content-Type": "application/json"}))
    result = loop.run_until_complete(browser.fetch(watch(web.url("/lazy"), scroll=True)))
    assert result.ok and "Customer story: Globex" in (result.text or "")


def test_actions_click_and_fill_before_the_snapshot(
    loop: asyncio.AbstractEventLoop, browser: BrowserFetcher, web: LoopbackSite
) -> None:
    web.set("/interactive", INTERACTIVE)
    actions = (
        BrowserAction("click", selector="#show"),
        BrowserAction("fill", selector="#q", value="SSO"),
        BrowserAction("wait", selector="#echo", ms=10),
        BrowserAction("scroll"),
    )
    result = loop.run_until_complete(browser.fetch(watch(web.url("/interactive"), actions=actions)))
    assert result.ok, result.error
    assert "Team plan $19" in (result.text or "") and "Results for SSO" in (result.text or "")


def test_failed_action_is_a_browser_error(
    loop: asyncio.AbstractEventLoop, impatient: BrowserFetcher, web: LoopbackSite
) -> None:
    web.set("/interactive", INTERACTIVE)
    click_missing = watch(web.url("/interactive"), actions=(BrowserAction("click", selector="#nope"),))
    result = loop.run_until_complete(impatient.fetch(click_missing))
    assert result.error is not None and result.error.kind is FetchErrorKind.BROWSER and "#nope" in result.error.message


def test_screenshot_is_a_full_page_png_with_images(
    loop: asyncio.AbstractEventLoop, browser: BrowserFetcher, web: LoopbackSite
) -> None:
    web.set("/shot", "<html><body><h1>Launch week</h1><img src='/logo.png'></body></html>")
    web.set("/logo.png", Response(b"\x89PNG\r\n\x1a\n", headers={"Content-Type": "image/png"}))
    result = loop.run_until_complete(browser.fetch(watch(web.url("/shot"), screenshot=True)))
    assert result.ok and result.screenshot is not None
    assert result.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert web.hits("/logo.png") == 1  # a screenshot is for people: images load for it


def test_saved_session_gets_its_own_context(
    loop: asyncio.AbstractEventLoop, browser: BrowserFetcher, web: LoopbackSite, tmp_path: Path
) -> None:
    state = tmp_path / "session.json"
    cookie = {
        "name": "session",
        "value": "s3cret",
        "domain": "127.0.0.1",
        "path": "/",
        "expires": -1,
        "httpOnly": False,
        "secure": False,
        "sameSite": "Lax",
    }
    state.write_text(json.dumps({"cookies": [cookie], "origins": []}))
    web.set("/account", "<html><body><p>Your plan: Pro</p></body></html>")
    before = browser.stats.contexts
    with_session = loop.run_until_complete(browser.fetch(watch(web.url("/account"), storage_state=state)))
    without = loop.run_until_complete(browser.fetch(watch(web.url("/account"))))
    assert with_session.ok and without.ok
    cookies = [h.get("Cookie", "") for _, p, h in web.requests if p == "/account"]
    assert cookies[-2] == "session=s3cret" and cookies[-1] == ""  # no leak into the shared context
    assert browser.stats.contexts >= before + 1


def test_robots_disallow_is_honoured_before_any_rendering(
    loop: asyncio.AbstractEventLoop, chromium_path: str | None
) -> None:
    with LoopbackSite() as own:
        own.set("/robots.txt", Response("User-agent: *\nDisallow: /\n", headers={"Content-Type": "text/plain"}))
        own.set("/pricing", "<html><body><p>Pro $49</p></body></html>")

        async def run() -> tuple[FetchResult, FetchResult, BrowserFetcher]:
            async with BrowserFetcher(config=FetchConfig(**QUICK), executable_path=chromium_path) as fetcher:
                refused = await fetcher.fetch(watch(own.url("/pricing")))
                launches_before_opt_out = fetcher.stats.launches
                allowed = await fetcher.fetch(watch(own.url("/pricing"), respect_robots=False))
                assert launches_before_opt_out == 0  # robots.txt is read before a browser is launched
                return refused, allowed, fetcher

        refused, allowed, _ = loop.run_until_complete(run())
        assert refused.error is not None and refused.error.kind is FetchErrorKind.ROBOTS
        assert allowed.ok and "Pro $49" in (allowed.text or "")
        assert own.hits("/pricing") == 1


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_failures_are_not_content(
    loop: asyncio.AbstractEventLoop, browser: BrowserFetcher, web: LoopbackSite, case: dict
) -> None:
    path = "/fault-" + case["name"]
    web.set(path, _response(case["response"], path))
    result = loop.run_until_complete(browser.fetch(watch(web.url(path))))
    assert result.error is not None, "a failure came back as content"
    assert result.error.kind == FetchErrorKind(case["kind"]), result.error
    assert result.text is None


def test_slow_server_times_out(loop: asyncio.AbstractEventLoop, impatient: BrowserFetcher, web: LoopbackSite) -> None:
    web.set("/slow", Response("<html><body>late</body></html>", delay=4.0))
    result = loop.run_until_complete(impatient.fetch(watch(web.url("/slow"))))
    assert result.error is not None and result.error.kind is FetchErrorKind.TIMEOUT
    # and the page that timed out is not handed to the next fetch
    web.set("/quick", "<html><body><p>quick answer</p></body></html>")
    after = loop.run_until_complete(impatient.fetch(watch(web.url("/quick"))))
    assert after.ok and "quick answer" in (after.text or "")


def _browser_main_pids() -> set[int]:
    """Chromium browser processes (not renderers) below this test process."""
    me = os.getpid()
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found = set()
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor and ancestor != me:
            ancestor = parents.get(ancestor)
        if ancestor != me:
            continue
        try:
            args = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"--remote-debugging-pipe" in a for a in args) and not any(a.startswith(b"--type=") for a in args):
            found.add(pid)
    return found


def test_contexts_recycle_and_the_browser_relaunches_after_n_pages_or_a_crash(
    loop: asyncio.AbstractEventLoop, chromium_path: str | None, web: LoopbackSite
) -> None:
    web.set("/p", "<html><body><p>plans</p></body></html>")
    cfg = FetchConfig(**{**QUICK, "retries": 1, "retry_backoff": 0.0}, browser_context_uses=2, browser_relaunch_after=4)

    async def run() -> tuple[list[FetchResult], BrowserFetcher, FetchResult]:
        async with BrowserFetcher(config=cfg, executable_path=chromium_path) as fetcher:
            others = _browser_main_pids()
            results = [await fetcher.fetch(watch(web.url("/p"))) for _ in range(5)]
            ours = _browser_main_pids() - others
            assert ours  # (the browser replaced after 4 pages may still be exiting: kill it too)
            for pid in ours:
                os.kill(pid, signal.SIGKILL)
            after_crash = await fetcher.fetch(watch(web.url("/p")))
            return results, fetcher, after_crash

    results, fetcher, after_crash = loop.run_until_complete(run())
    assert all(r.ok for r in results)
    assert after_crash.ok, after_crash.error
    # 5 pages: contexts serve 2 each (3 contexts), the browser 4 pages (relaunched once),
    # then the crash forces a third browser with a fourth context
    assert fetcher.stats.launches == 3 and fetcher.stats.crashes == 1
    assert fetcher.stats.contexts == 4
