"""Alerts to the terminal and to a file: the responders that need nothing configured.

Both take an ``Alert`` rendered for ``console`` or ``file`` (plain text, control
characters removed by ``render_alert``) and raise ``DeliveryError`` when they cannot write,
so the outbox keeps the alert for a retry.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Literal, TextIO

from monitor.config import FileAlertsConfig, RespondersConfig
from monitor.errors import DeliveryError
from monitor.records import Alert
from responders.escape import code_fence, markdown_inline, plain_line, plain_text

FileFormat = Literal["jsonl", "markdown"]


class ConsoleResponder:
    """Prints each alert, readable, to the terminal."""

    key = "console"

    def __init__(self, *, stream: TextIO | None = None) -> None:
        self._stream = stream

    @classmethod
    def from_config(cls, cfg: RespondersConfig) -> ConsoleResponder | None:
        return cls() if cfg.console else None

    async def deliver(self, alert: Alert) -> None:
        # re-cleaned here too: a console alert may come from an older outbox row
        rule = "─" * 72
        body = plain_text(alert.text)
        try:
            stream = self._stream or sys.stdout
            stream.write(f"{rule}\n{plain_line(alert.title)}\n{body}\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # ValueError: write to a closed stream
            raise DeliveryError(f"cannot print alert for change {alert.change_id}: {exc}") from exc


class FileResponder:
    """Appends each alert to a file, as one JSON line or a Markdown section."""

    key = "file"

    def __init__(self, *, path: Path, format: FileFormat = "jsonl") -> None:
        if format not in ("jsonl", "markdown"):
            raise ValueError(f"unknown alert file format {format!r} (valid: jsonl, markdown)")
        self.path = path
        self.format = format

    @classmethod
    def from_config(cls, cfg: FileAlertsConfig, *, base_dir: Path) -> FileResponder:
        path = Path(cfg.path).expanduser()
        return cls(path=path if path.is_absolute() else base_dir / path, format=cfg.format)

    def render(self, alert: Alert) -> str:
        """The text appended for one alert (ends with a newline)."""
        if self.format == "jsonl":
            record = {
                "change_id": alert.change_id,
                "channel": alert.channel,
                "competitor": alert.competitor,
                "url": alert.url,
                "severity": alert.severity.label,
                "title": alert.title,
                "text": alert.text,
            }
            return json.dumps(record, ensure_ascii=False) + "\n"
        # The body goes in a code fence: page text cannot become a link, heading or HTML.
        return f"## {markdown_inline(alert.title)}\n\n{code_fence(alert.text, info='text')}\n\n"

    async def deliver(self, alert: Alert) -> None:
        # fsync can take milliseconds: keep it off the event loop
        await asyncio.to_thread(self._append, alert)

    def _append(self, alert: Alert) -> None:
        data = self.render(alert).encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write on an O_APPEND descriptor: concurrent writers never interleave a line;
            # fsync before returning, since returning tells the outbox the alert is delivered.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(f"short write ({written} of {len(data)} bytes)")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            where = f"change {alert.change_id} to {self.path}"
            raise DeliveryError(f"cannot append the alert for {where}: {exc}") from exc
