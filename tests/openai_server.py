"""A small OpenAI-compatible server on 127.0.0.1: scripted answers, recorded requests.

It speaks ``POST /v1/chat/completions`` well enough for the official openai client. Each
request takes the next scripted ``Reply`` (an answer, an error status with headers, or a
hang until the server closes); with none left it answers 500, so a test that sends more
requests than it scripted fails loudly. ``json_schema_supported=False`` makes it reject
structured output with a 400, as older vLLM and Ollama builds do; ``unsupported_params``
rejects requests carrying those keys, as OpenAI's reasoning models do with ``max_tokens``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | None = None  # the assistant message text
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""  # message of an error body
    prompt_tokens: int | None = 100  # None: no usage block at all
    completion_tokens: int = 20
    finish_reason: str = "stop"
    hang: bool = False  # never answer (until the server closes): a timeout
    raw: bytes | None = None  # a body sent as it is, instead of an API answer (a proxy's page)
    drip: bool = False  # send the body a byte at a time, slowly: every read is quick, the whole is not


def grade_reply(**fields: Any) -> Reply:
    """A well-formed grade; fields override the defaults."""
    answer = {
        "severity": "medium",
        "category": "product",
        "summary": "A change.",
        "facts": [],
        "evidence": [],
        "confidence": 0.8,
        "injection_suspected": False,
    }
    answer.update(fields)
    return Reply(content=json.dumps(answer))


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body.get("messages", [])

    @property
    def response_format(self) -> str | None:
        fmt = self.body.get("response_format")
        return fmt.get("type") if isinstance(fmt, dict) else None


class OpenAICompatibleServer:
    def __init__(self, *, json_schema_supported: bool = True, unsupported_params: tuple[str, ...] = ()) -> None:
        self.script: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self.json_schema_supported = json_schema_supported
        self.unsupported_params = unsupported_params
        self._closing = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out in two writes: without this, Nagle's algorithm and
                # the client's delayed ACK add ~40 ms to every answer
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    reply = server._next(self.path, body)
                if reply.hang:
                    server._closing.wait()
                    return
                if reply.raw is not None:
                    self._send(reply.status, reply.raw, {"Content-Type": "text/html", **reply.headers})
                else:
                    data = json.dumps(server._payload(reply, body)).encode()
                    headers = {"Content-Type": "application/json", **reply.headers}
                    self._send(reply.status, data, headers, drip=reply.drip)

            def _send(self, status: int, data: bytes, headers: dict[str, str], *, drip: bool = False) -> None:
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if not drip:
                        self.wfile.write(data)
                        return
                    for i in range(len(data)):
                        if server._closing.wait(0.05):
                            return
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # a short poll interval keeps shutdown (and so every test's teardown) quick
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def _next(self, path: str, body: dict[str, Any]) -> Reply:
        if path != "/v1/chat/completions":
            return Reply(status=404, error=f"no route {path}")
        fmt = body.get("response_format") or {}
        if not self.json_schema_supported and fmt.get("type") == "json_schema":
            return Reply(status=400, error="response_format type json_schema is not supported by this server")
        for name in self.unsupported_params:
            if name in body:
                # OpenAI's own wording for reasoning models
                return Reply(status=400, error=f"Unsupported parameter: '{name}' is not supported with this model.")
        if not self.script:
            return Reply(status=500, error="the test scripted no more answers")
        return self.script.popleft()

    @staticmethod
    def _payload(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        if reply.status >= 400:
            return {"error": {"message": reply.error or f"status {reply.status}", "type": "test", "code": None}}
        payload: dict[str, Any] = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", ""),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": reply.finish_reason,
                    "message": {"role": "assistant", "content": reply.content},
                }
            ],
        }
        if reply.prompt_tokens is not None:
            payload["usage"] = {
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            }
        return payload

    def answer(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def __enter__(self) -> OpenAICompatibleServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
