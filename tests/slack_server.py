"""A small Slack-Web-API-compatible server on 127.0.0.1 for tests, driven by the real slack-sdk.

It answers ``auth.test`` and ``chat.postMessage`` the way Slack does (HTTP 200 with
``{"ok": false, "error": ...}`` for API errors, 429 with ``Retry-After`` for rate limits),
checks the bearer token and the Block Kit limits Slack enforces, records every request, and
plays scripted failures in order: ``fail_next("ratelimited", retry_after=2)``,
``fail_next("server_error")``, ``fail_next("channel_not_found")``.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

VALID_TOKEN = "xoxb-test-token"
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150


@dataclass
class SlackRequest:
    method: str  # the API method, e.g. "chat.postMessage"
    token: str | None
    payload: dict[str, Any]
    status: int = 200  # what the server answered
    error: str | None = None


@dataclass
class _Failure:
    error: str  # ratelimited | server_error | any Slack error code
    retry_after: int = 1


@dataclass
class SlackServer:
    token: str = VALID_TOKEN
    requests: list[SlackRequest] = field(default_factory=list)
    _script: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        server = self
        ts = itertools.count(1)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                kind = self.headers.get("Content-Type", "")
                payload = json.loads(raw) if "json" in kind and raw else dict(parse_qsl(raw))
                auth = self.headers.get("Authorization", "")
                token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else payload.get("token")
                method = self.path.rsplit("/", 1)[-1]
                request = SlackRequest(method=method, token=token, payload=payload)
                status, headers, body = server._answer(request, next(ts))
                request.status = status
                request.error = body.get("error") if isinstance(body, dict) else "server_error"
                with server._lock:
                    server.requests.append(request)
                data = (json.dumps(body) if isinstance(body, dict) else body).encode("utf-8")
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # a short poll interval keeps shutdown (each test's teardown) quick
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/"

    def fail_next(self, error: str, *, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` chat.postMessage calls with this failure."""
        with self._lock:
            self._script.extend(_Failure(error, retry_after) for _ in range(times))

    @property
    def posted(self) -> list[dict[str, Any]]:
        """The chat.postMessage payloads that were accepted."""
        with self._lock:
            return [r.payload for r in self.requests if r.method == "chat.postMessage" and r.error is None]

    def _answer(self, request: SlackRequest, ts: int) -> tuple[int, dict[str, str], dict[str, Any] | str]:
        json_type = {"Content-Type": "application/json; charset=utf-8"}
        if request.token != self.token:
            return 200, json_type, {"ok": False, "error": "invalid_auth" if request.token else "not_authed"}
        if request.method == "auth.test":
            return 200, json_type, {"ok": True, "team": "Test", "user": "rivalwatch", "bot_id": "B0TEST"}
        if request.method != "chat.postMessage":
            return 200, json_type, {"ok": False, "error": "unknown_method"}
        with self._lock:
            failure = self._script.pop(0) if self._script else None
        if failure is not None:
            if failure.error == "ratelimited":
                headers = {**json_type, "Retry-After": str(failure.retry_after)}
                return 429, headers, {"ok": False, "error": "ratelimited"}
            if failure.error == "server_error":
                return 500, {"Content-Type": "text/html"}, "<html><body>Internal Server Error</body></html>"
            return 200, json_type, {"ok": False, "error": failure.error}
        problem = _check_message(request.payload)
        if problem:
            return 200, json_type, {"ok": False, "error": problem}
        return 200, json_type, {"ok": True, "channel": "C0TEST", "ts": f"1700000000.{ts:06d}"}

    def __enter__(self) -> SlackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _check_message(payload: dict[str, Any]) -> str | None:
    """The checks Slack makes on chat.postMessage that a renderer could get wrong."""
    if not payload.get("channel"):
        return "channel_not_found"
    blocks = payload.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not payload.get("text") and not blocks:
        return "no_text"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        text = block.get("text") or {}
        limit = MAX_HEADER_TEXT if block.get("type") == "header" else MAX_SECTION_TEXT
        if block.get("type") not in ("header", "section", "context", "divider"):
            return "invalid_blocks"
        if text and (not text.get("text") or len(text["text"]) > limit):
            return "invalid_blocks"
        for element in block.get("elements", []):
            if len(element.get("text", "")) > MAX_SECTION_TEXT:
                return "invalid_blocks"
    return None
