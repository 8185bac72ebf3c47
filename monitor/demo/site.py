"""The demo competitor: a small fictional site, in versions, served on loopback.

``DemoSite`` serves the pages packaged in ``monitor/demo/site/<page>/v<N>.html`` at the
site's current version. A page without a file for a version keeps showing its latest
earlier one, so a step touches only the pages that change in it:

    v1  baseline
    v2  pricing: Pro $49 -> $59 (critical); home: markup churn and a reordered logo wall only
    v3  changelog: a feature launch (medium/high); careers: one new job posting (low)
    v4  home: positioning rewritten (high); pricing: SAML SSO moved from Enterprise to Pro (high)

Every response carries fresh noise (a viewer counter, timestamps, a nonce, a rotating
testimonial) so the demo shows that noise alone is never reported.
"""

from __future__ import annotations

import html
import json
import random
import re
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from monitor.records import PageKind

DEMO_COMPETITOR = "Northwind Metrics"
SITE_DIR = Path(__file__).parent / "site"
PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
NOISE_KEYS = frozenset({"VIEWERS", "NOW_ISO", "NOW_HUMAN", "NONCE", "CACHEBUST", "YEAR", "TESTIMONIAL"})
NOT_FOUND = b"<!doctype html><title>Not found</title><h1>Not found</h1>"
_VERSION_FILE = re.compile(r"^v(\d+)\.html$")


@dataclass(frozen=True, slots=True)
class DemoPage:
    """One page of the demo site: its folder under ``site/``, URL path and page kind."""

    name: str
    path: str
    kind: PageKind


DEMO_PAGES: tuple[DemoPage, ...] = (
    DemoPage("home", "/", PageKind.HOMEPAGE),
    DemoPage("pricing", "/pricing", PageKind.PRICING),
    DemoPage("changelog", "/changelog", PageKind.CHANGELOG),
    DemoPage("careers", "/careers", PageKind.CAREERS),
)


def load_page_versions(site_dir: Path, page: DemoPage) -> dict[int, str]:
    """The page's HTML templates by version number, read from ``v<N>.html`` files."""
    folder = site_dir / page.name
    versions = {}
    for file in folder.iterdir():
        match = _VERSION_FILE.match(file.name)
        if match:
            versions[int(match.group(1))] = file.read_text(encoding="utf-8")
    if 1 not in versions:
        raise FileNotFoundError(f"demo page {page.name!r} has no v1.html in {folder}")
    return versions


def template_at(versions: dict[int, str], step: int) -> str:
    """The template a page shows at ``step``: its latest version at or before the step."""
    return versions[max(v for v in versions if v <= step)]


def _human_age(minutes: int) -> str:
    return "just now" if minutes == 0 else f"{minutes} minute{'s' if minutes != 1 else ''} ago"


def render_noise(template: str, *, rng: random.Random, now: datetime, testimonials: list[str]) -> str:
    """Fill the noise placeholders with values drawn fresh from ``rng`` (one draw per request)."""
    values = {
        "VIEWERS": str(rng.randint(3, 480)),
        "NOW_ISO": (now - timedelta(seconds=rng.randint(0, 59))).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "NOW_HUMAN": _human_age(rng.randint(0, 59)),
        "NONCE": f"{rng.getrandbits(96):024x}",
        "CACHEBUST": str(rng.randint(10**9, 10**10 - 1)),
        "YEAR": str(now.year),
        "TESTIMONIAL": html.escape(rng.choice(testimonials), quote=False),
    }

    def fill(match: re.Match[str]) -> str:
        # an unknown placeholder is a packaging mistake; show it rather than hide it
        return values.get(match.group(1), match.group(0))

    return PLACEHOLDER.sub(fill, template)


class DemoSite:
    """A real HTTP server on 127.0.0.1 serving the demo competitor's pages at a version.

    Use it as a context manager, or call ``start()`` and ``stop()``. ``step()`` moves to the
    next version (or to ``to``); requests in flight finish with the version they started on.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        site_dir: Path = SITE_DIR,
    ) -> None:
        self.pages = DEMO_PAGES
        self._templates = {p.path: load_page_versions(site_dir, p) for p in self.pages}
        quotes = (site_dir / "testimonials.json").read_text(encoding="utf-8")
        self._testimonials: list[str] = json.loads(quotes)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._version = 1
        self._hits: dict[str, int] = {}
        self._connections: set[socket.socket] = set()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ versions

    @property
    def versions(self) -> int:
        """How many versions the site steps through (the highest version of any page)."""
        return max(max(v) for v in self._templates.values())

    @property
    def version(self) -> int:
        """The version served now, 1..versions."""
        with self._lock:
            return self._version

    def step(self, to: int | None = None) -> int:
        """Serve the next version (or version ``to``); returns the version now served."""
        with self._lock:
            target = self._version + 1 if to is None else to
            if not 1 <= target <= self.versions:
                raise ValueError(f"the demo site has versions 1..{self.versions}, not {target}")
            self._version = target
            return target

    def page_html(self, path: str) -> str | None:
        """The HTML served for ``path`` now, with fresh noise; None when there is no such page."""
        path = path.split("?", 1)[0].split("#", 1)[0]
        versions = self._templates.get(path) or self._templates.get(path.rstrip("/") or "/")
        if versions is None:
            return None
        with self._lock:
            template = template_at(versions, self._version)
            self._hits[path] = self._hits.get(path, 0) + 1
            rng = random.Random(self._rng.getrandbits(64))
        return render_noise(template, rng=rng, now=datetime.now(UTC), testimonials=self._testimonials)

    def hits(self, path: str) -> int:
        """How many times ``path`` was served."""
        with self._lock:
            return self._hits.get(path, 0)

    # ------------------------------------------------------------------ serving

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # an AF_INET socket's name; typeshed also allows bytes (AF_UNIX)
        return f"http://{host}:{port}"

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` on this site."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def start(self) -> DemoSite:
        if self._thread is None:
            # a short poll interval keeps stop() quick: shutdown() waits for the next poll
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-site", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        # keep-alive connections outlive the listening socket; end them so clients see the site go
        with self._lock:
            open_connections = list(self._connections)
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the client already closed it

    def __enter__(self) -> DemoSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "NorthwindDemo/1.0"
            # headers and body leave in separate writes; with Nagle on, each response waits ~40 ms
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with site._lock:
                    site._connections.add(self.connection)

            def finish(self) -> None:
                with site._lock:
                    site._connections.discard(self.connection)
                super().finish()

            def log_message(self, *args: object) -> None:
                pass  # the demo prints its own story; request lines would drown it

            def _answer(self, *, with_body: bool) -> None:
                status, content_type, body = site._response(self.path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Cache-Control", "no-store")
                    self.end_headers()
                    if with_body:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._answer(with_body=True)

            def do_HEAD(self) -> None:
                self._answer(with_body=False)

        return Handler

    def _response(self, path: str) -> tuple[int, str, bytes]:
        if path.split("?", 1)[0] == "/robots.txt":
            return 200, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n"
        page = self.page_html(path)
        if page is None:
            return 404, "text/html; charset=utf-8", NOT_FOUND
        return 200, "text/html; charset=utf-8", page.encode("utf-8")
