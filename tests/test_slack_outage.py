"""A Slack outage loses no alert and sends none twice: the outbox keeps the alert and delivers it
once Slack is back. Real slack-sdk against a Slack-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from slack_server import VALID_TOKEN, SlackServer

from monitor.app import App
from monitor.cli import main
from monitor.config import load_config
from monitor.store import utcnow

DATA = Path(__file__).parent / "data" / "e2e"


def page(version: int) -> str:
    return (DATA / f"pricing_v{version}.html").read_text().replace("{{", "").replace("}}", "")


def test_an_alert_waits_out_a_slack_outage_and_is_sent_once(site, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", VALID_TOKEN)
    with SlackServer() as slack:
        site.set("/pricing", page(1))
        config_path = tmp_path / "rivalwatch.yaml"
        config_path.write_text(
            f"""
storage: sqlite:///{tmp_path / "rw.db"}
output: {tmp_path / "out"}
fetch: {{per_host_delay: 0, retries: 0}}
detect: {{confirm_delay: 0}}
responders:
  console: false
  slack: {{base_url: "{slack.base_url}", routes: [{{min_severity: high, channel: "#competitors"}}]}}
competitors:
  - name: Acme
    pages:
      - {{url: "{site.url("/pricing")}", kind: pricing, robots: false}}
"""
        )
        assert main(["once", "--json", "--config", str(config_path)]) == 0
        site.set("/pricing", page(2))
        slack.fail_next("server_error", times=2)  # down for this run (a 5xx is retried once)
        assert main(["once", "--json", "--config", str(config_path)]) == 0
        (result,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()[1:]]
        assert result["status"] == "changed"
        assert slack.posted == []  # not sent ...
        alerts = (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()
        assert len(alerts) == 1  # ... while the other channel had it

        async def deliver_later() -> tuple[int, int]:
            app = App(load_config(config_path), quiet=True)
            try:  # Slack is back; the retry is due after its backoff
                return await app.dispatcher.deliver_due(now=utcnow() + timedelta(hours=2))
            finally:
                await app.aclose()

        assert asyncio.run(deliver_later()) == (1, 0)
        assert asyncio.run(deliver_later()) == (0, 0)  # delivered: never again
        (message,) = slack.posted
        assert message["channel"] == "#competitors" and "$59" in json.dumps(message)
        assert len((tmp_path / "out" / "alerts.jsonl").read_text().splitlines()) == 1
