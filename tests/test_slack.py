"""The Slack responder, through the real slack-sdk, against a Slack-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from responder_records import classified
from slack_server import VALID_TOKEN, SlackServer

from monitor.config import SlackConfig, SlackRoute
from monitor.errors import DeliveryError
from monitor.records import Alert, Severity
from responders.alerts import render_alert, render_health_alert
from responders.health import HealthEvent
from responders.slack import SlackRateLimited, SlackResponder, build_slack_message

ROUTE_CASES = yaml.safe_load((Path(__file__).parent / "data" / "slack_route_cases.yaml").read_text("utf-8"))


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer() as server:
        yield server


class Sleeps(list[float]):
    """Records the waits the retry handler asks for instead of sleeping through them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def responder(server: SlackServer, sleeps: Sleeps, *, token: str = VALID_TOKEN, wait: float = 10) -> SlackResponder:
    cfg = SlackConfig(
        routes=[SlackRoute(channel="#competitors", min_severity=Severity.HIGH)],
        base_url=server.base_url,
        max_retry_wait=wait,
        timeout=5,
    )
    made = SlackResponder.from_config(cfg, env={"SLACK_BOT_TOKEN": token}, sleep=sleeps)
    assert made is not None
    return made


def all_texts(payload: dict) -> list[str]:
    texts = [payload["text"]]
    for block in payload["blocks"]:
        objects = block["elements"] if block["type"] == "context" else [block["text"]]
        assert all(o["type"] == "mrkdwn" and o["verbatim"] is True for o in objects)
        texts += [o["text"] for o in objects]
    return texts


def test_delivers_block_kit_message(slack: SlackServer) -> None:
    cc = classified(
        {
            "id": 42,
            "severity": "critical",
            "summary": "Pro price rose",
            "facts": ["Pro monthly: $49 → $59"],
            "evidence": ["Pro $59 / month"],
        }
    )
    alert = render_alert(cc, channel="slack:#competitors")
    asyncio.run(responder(slack, Sleeps()).deliver(alert))
    [payload] = slack.posted
    assert payload["channel"] == "#competitors"
    assert payload["unfurl_links"] is False and payload["unfurl_media"] is False
    blocks = payload["blocks"]
    assert [b["type"] for b in blocks] == ["section"] * 4 + ["context"]
    assert blocks[0]["text"]["text"] == ":red_circle: *CRITICAL* · *Acme Analytics*"
    [grade, link] = blocks[-1]["elements"]
    assert grade["text"].startswith("_pricing · pricing page · graded by rules (offline), confidence 0.50")
    assert link["text"] == "<https://acme.example/pricing|Open the pricing page>"
    joined = "\n".join(all_texts(payload))
    for part in ("*Pro price rose*", "• Pro monthly: $49 → $59", "> Pro $59 / month", "change #42"):
        assert part in joined
    assert "<https://acme.example/pricing|Open the pricing page>" in joined
    assert slack.requests[-1].token == VALID_TOKEN


def test_page_text_cannot_mention_or_link(slack: SlackServer) -> None:
    cc = classified(
        {
            "competitor": "Evil <!everyone>",
            "summary": "<!channel> <@U1> <#C1> <https://evil.example|click> @here",
            "facts": ["<!subteam^S1|@team>"],
            "evidence": ["<mailto:a@b.example|mail>"],
        }
    )
    asyncio.run(responder(slack, Sleeps()).deliver(render_alert(cc, channel="slack:#competitors")))
    [payload] = slack.posted
    our_link = "<https://acme.example/pricing|Open the pricing page>"
    for text in all_texts(payload):
        # the only '<' Slack may parse is the page link we put there ourselves
        assert "<" not in text.replace(our_link, ""), text
        assert "@here" not in text and "@channel" not in text
    assert payload["link_names"] is False


def test_waits_out_a_short_rate_limit(slack: SlackServer) -> None:
    sleeps = Sleeps()
    slack.fail_next("ratelimited", retry_after=3, times=2)
    asyncio.run(responder(slack, sleeps).deliver(render_alert(classified({}), channel="slack:#competitors")))
    assert sleeps == [3.0, 3.0]
    assert [r.status for r in slack.requests] == [429, 429, 200]
    assert len(slack.posted) == 1


def test_a_long_rate_limit_is_left_to_the_outbox(slack: SlackServer) -> None:
    sleeps = Sleeps()
    slack.fail_next("ratelimited", retry_after=120)
    with pytest.raises(SlackRateLimited, match="retry after 120s") as caught:
        asyncio.run(responder(slack, sleeps, wait=30).deliver(render_alert(classified({}), channel="slack:#c")))
    assert isinstance(caught.value, DeliveryError) and caught.value.retry_after == 120
    assert sleeps == [] and slack.posted == []


def test_rate_limited_past_the_retries_is_a_delivery_error(slack: SlackServer) -> None:
    sleeps = Sleeps()
    slack.fail_next("ratelimited", retry_after=1, times=4)
    with pytest.raises(SlackRateLimited):
        asyncio.run(responder(slack, sleeps).deliver(render_alert(classified({}), channel="slack:#c")))
    assert sleeps == [1.0, 1.0, 1.0] and len(slack.requests) == 4


def test_one_server_error_is_retried(slack: SlackServer) -> None:
    sleeps = Sleeps()
    slack.fail_next("server_error")
    asyncio.run(responder(slack, sleeps).deliver(render_alert(classified({}), channel="slack:#c")))
    assert [r.status for r in slack.requests] == [500, 200] and len(sleeps) == 1


def test_repeated_server_errors_are_a_delivery_error(slack: SlackServer) -> None:
    slack.fail_next("server_error", times=2)
    with pytest.raises(DeliveryError, match=r"Slack refused the alert for change 1 to #c: server error \(HTTP 500\)"):
        asyncio.run(responder(slack, Sleeps()).deliver(render_alert(classified({}), channel="slack:#c")))
    assert slack.posted == []


def test_bad_token_is_a_delivery_error(slack: SlackServer) -> None:
    bad = responder(slack, Sleeps(), token="xoxb-wrong")
    with pytest.raises(DeliveryError, match=r"invalid_auth \(HTTP 200\)"):
        asyncio.run(bad.deliver(render_alert(classified({}), channel="slack:#c")))
    with pytest.raises(DeliveryError, match="Slack rejected the token: invalid_auth"):
        asyncio.run(bad.check())
    assert asyncio.run(responder(slack, Sleeps()).check()) == "rivalwatch"


def test_api_error_is_a_delivery_error(slack: SlackServer) -> None:
    slack.fail_next("channel_not_found")
    with pytest.raises(DeliveryError, match="channel_not_found"):
        asyncio.run(responder(slack, Sleeps()).deliver(render_alert(classified({}), channel="slack:#gone")))


def test_unreachable_slack_is_a_delivery_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cfg = SlackConfig(base_url=f"http://127.0.0.1:{port}/api/", timeout=2)
    made = SlackResponder.from_config(cfg, env={"SLACK_BOT_TOKEN": VALID_TOKEN}, sleep=Sleeps())
    assert made is not None
    with pytest.raises(DeliveryError, match="cannot reach Slack"):
        asyncio.run(made.deliver(render_alert(classified({}), channel="slack:#c")))


def test_alert_not_rendered_for_slack_is_refused(slack: SlackServer) -> None:
    with pytest.raises(DeliveryError, match="not rendered for Slack"):
        asyncio.run(responder(slack, Sleeps()).deliver(render_alert(classified({}), channel="console")))
    assert slack.requests == []


def test_health_alert_is_delivered(slack: SlackServer) -> None:
    event = HealthEvent("https://acme.example/pricing", "Acme", "broken", "timeout: read timed out", 3)
    asyncio.run(responder(slack, Sleeps()).deliver(render_health_alert(event, channel="slack:#ops")))
    [payload] = slack.posted
    assert "page broken: 3 failed fetches in a row (timeout)" in json.dumps(payload, ensure_ascii=False)


def test_no_token_means_no_responder_and_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rivalwatch.slack"):
        assert SlackResponder.from_config(SlackConfig(token_env="MY_SLACK"), env={}) is None
    assert [r.getMessage() for r in caplog.records] == ["Slack alerts are off: no token in $MY_SLACK"]


def test_long_text_is_cut_to_slack_limits() -> None:
    text = "\n\n".join(["x" * 5000] * 60)
    alert = Alert(1, "slack:#c", "Acme", "https://a.example/", Severity.HIGH, "t", text)
    message = build_slack_message(alert)
    assert len(message["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in message["blocks"])


@pytest.mark.parametrize("case", ROUTE_CASES, ids=[c["name"] for c in ROUTE_CASES])
def test_routes(case: dict) -> None:
    cfg = SlackConfig(routes=[SlackRoute(**r) for r in case["routes"]])
    made = SlackResponder.from_config(cfg, env={"SLACK_BOT_TOKEN": "x"})
    assert made is not None
    cc = classified({"severity": case["severity"], "competitor": case["competitor"]})
    assert made.routes(cc) == case["channels"]
    if "health" in case:
        assert made.health_routes(case.get("health_competitor")) == case["health"]


def test_digest_summary_is_delivered(slack: SlackServer, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from responders.digest import build_digest, render_digest_alert

    changes = [classified({"id": i, "severity": "high", "summary": f"change {i}"}) for i in range(1, 4)]
    start, end = datetime(2026, 11, 22, 7, tzinfo=UTC), datetime(2026, 11, 23, 7, tzinfo=UTC)
    digest = build_digest(changes, start=start, end=end)
    asyncio.run(responder(slack, Sleeps()).deliver(render_digest_alert(digest, changes, channel="slack:#pmm")))
    [payload] = slack.posted
    assert payload["channel"] == "#pmm" and "3 changes: 3 high." in json.dumps(payload)
