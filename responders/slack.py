"""Slack alerts through the real slack-sdk, routed by severity and competitor.

The alert's text is already Slack mrkdwn with every competitor string escaped
(``render_alert`` for a ``slack:#channel``); this module lays it out as Block Kit, with
``verbatim`` text so Slack does not turn page text into links or mentions, and delivers it.
A delivery either succeeds or raises ``DeliveryError``: the outbox retries later, so a
rate limit longer than ``max_retry_wait`` is not slept through here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from monitor.config import SlackConfig, SlackRoute
from monitor.errors import DeliveryError
from monitor.records import Alert, ClassifiedChange, Severity
from responders.alerts import SLACK_PREFIX, clip
from responders.escape import slack_text

log = logging.getLogger("rivalwatch.slack")

MAX_SECTION_TEXT = 3000
MAX_SECTIONS = 40
MAX_CONTEXT = 10  # Slack's limit of elements in a context block
SEVERITY_MARK = {
    Severity.CRITICAL: ":red_circle:",
    Severity.HIGH: ":large_orange_circle:",
    Severity.MEDIUM: ":large_yellow_circle:",
    Severity.LOW: ":white_circle:",
    Severity.NONE: ":white_circle:",
}
HEALTH_SEVERITY = Severity.MEDIUM  # what render_health_alert gives a broken page


class SlackRateLimited(DeliveryError):
    """Slack asked us to wait longer than we wait in-process; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(response: HttpResponse | None) -> float:
    if response is None:
        return 1.0
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                return 1.0
    return 1.0


class WaitingRetryHandler(RetryHandler):
    """Retries 429s after their Retry-After (when short enough) and 5xx once, with an injectable sleep."""

    def __init__(self, *, max_retry_wait: float, sleep: Callable[[float], None] = time.sleep, retries: int = 3):
        super().__init__(max_retry_count=retries)
        self.max_retry_wait = max_retry_wait
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None:
            return False
        if response.status_code == 429:
            return _retry_after(response) <= self.max_retry_wait
        # one retry for a server error: a second one is the outbox's job, later
        return response.status_code in (500, 502, 503, 504) and state.current_attempt == 0

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = _retry_after(response) if response is not None and response.status_code == 429 else 1.0
        self.sleep(min(wait, self.max_retry_wait))
        state.increment_current_attempt()


def slack_client(
    *, token: str, base_url: str | None, timeout: float, max_retry_wait: float, sleep: Callable[[float], None]
) -> WebClient:
    handler = WaitingRetryHandler(max_retry_wait=max_retry_wait, sleep=sleep)
    kwargs: dict[str, Any] = {"base_url": base_url} if base_url else {}
    return WebClient(token=token, timeout=int(max(1, timeout)), retry_handlers=[handler], **kwargs)


def build_slack_message(alert: Alert) -> dict[str, Any]:
    """chat.postMessage arguments for an alert rendered for Slack (text, blocks, no unfurls)."""
    if not alert.channel.startswith(SLACK_PREFIX):
        raise ValueError(f"alert for {alert.channel!r} is not rendered for Slack")
    head = f"{SEVERITY_MARK[alert.severity]} *{alert.severity.label.upper()}* · *{slack_text(alert.competitor)}*"
    paragraphs = [p for p in alert.text.split("\n\n") if p.strip()][:MAX_SECTIONS]
    # render_alert ends with our own grade line ("_..._") and page link ("<https...|...>"); they
    # read best as small print. Page text cannot start a paragraph with "_" or "<": it is
    # escaped and always follows a heading or mark of ours.
    tail: list[str] = []
    while paragraphs and paragraphs[-1].startswith(("_", "<http")) and len(tail) < MAX_CONTEXT:
        tail.insert(0, paragraphs.pop())
    blocks = [_section(head)] + [_section(p) for p in paragraphs]
    if tail:
        elements = [{"type": "mrkdwn", "text": clip(t, MAX_SECTION_TEXT), "verbatim": True} for t in tail]
        blocks.append({"type": "context", "elements": elements})
    return {
        "text": alert.title,  # the notification text; escaped by render_alert
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
        "link_names": False,
    }


def _section(text: str) -> dict[str, Any]:
    # verbatim: Slack leaves bare URLs, #channels and @names in page text as plain text
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT), "verbatim": True},
    }


class SlackResponder:
    """Posts alerts to Slack channels as Block Kit messages, routed by severity and competitor."""

    key = "slack"

    def __init__(self, *, client: WebClient, routes: Sequence[SlackRoute]):
        self.client = client
        self.route_table = tuple(routes)

    @classmethod
    def from_config(
        cls, cfg: SlackConfig, *, env: Mapping[str, str], sleep: Callable[[float], None] = time.sleep
    ) -> SlackResponder | None:
        token = env.get(cfg.token_env, "").strip()
        if not token:
            log.info("Slack alerts are off: no token in $%s", cfg.token_env)
            return None
        client = slack_client(
            token=token,
            base_url=cfg.base_url,
            timeout=cfg.timeout,
            max_retry_wait=cfg.max_retry_wait,
            sleep=sleep,
        )
        return cls(client=client, routes=cfg.routes)

    def routes(self, cc: ClassifiedChange) -> list[str]:
        """The channels (e.g. "#competitors") this change goes to; prefix "slack:" for an Alert."""
        return self.channels_for(severity=cc.classification.severity, competitor=cc.change.competitor)

    def health_routes(self, competitor: str | None = None) -> list[str]:
        """The channels for "page broken/recovered"; without a competitor, only unfiltered routes."""
        return self.channels_for(severity=HEALTH_SEVERITY, competitor=competitor)

    def channels_for(self, *, severity: Severity, competitor: str | None) -> list[str]:
        if severity <= Severity.NONE:
            return []
        found: list[str] = []
        for route in self.route_table:
            wanted = not route.competitors or (competitor is not None and competitor in route.competitors)
            if severity >= route.min_severity and wanted and route.channel not in found:
                found.append(route.channel)
        return found

    async def check(self) -> str:
        """auth.test: the bot's name, or DeliveryError saying why the token does not work."""
        try:
            response = await asyncio.to_thread(self.client.auth_test)
        except SlackApiError as exc:
            raise DeliveryError(f"Slack rejected the token: {exc.response.get('error')}") from exc
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(f"cannot reach Slack at {self.client.base_url}: {exc}") from exc
        return str(response.get("user", ""))

    async def deliver(self, alert: Alert) -> None:
        try:
            message = build_slack_message(alert)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from exc
        channel = alert.channel[len(SLACK_PREFIX) :]
        what = f"alert for change {alert.change_id}" if alert.change_id is not None else "health alert"
        try:
            await asyncio.to_thread(self.client.chat_postMessage, channel=channel, **message)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if status == 429:
                wait = _retry_after_header(exc.response.headers)
                raise SlackRateLimited(
                    f"Slack rate-limited the {what} to {channel}; retry after {wait:g}s", retry_after=wait
                ) from exc
            # a non-JSON 5xx body comes back as a long "error"; the status says enough
            reason = error if status == 200 and error else "server error"
            raise DeliveryError(f"Slack refused the {what} to {channel}: {reason} (HTTP {status})") from exc
        except (SlackClientError, OSError) as exc:  # OSError: refused, reset, timed out
            raise DeliveryError(f"cannot reach Slack at {self.client.base_url} for the {what}: {exc}") from exc


def _retry_after_header(headers: Mapping[str, Any]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(value))
            except ValueError:
                break
    return 1.0
