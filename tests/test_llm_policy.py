"""What happens around an LLM outage: re-grading after a fallback, holding changes back when
the config says so, replaying history without alerting, and the costs report."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from openai_server import Reply, grade_reply
from test_llm_e2e import DATA, KEY_ENV, once, write_config

from monitor.app import App
from monitor.cli import main
from monitor.config import load_config


def page(version: int) -> str:
    return (DATA / f"pricing_v{version}.html").read_text().replace("{{", "").replace("}}", "")


def alerts(tmp_path: Path) -> list[dict]:
    path = tmp_path / "out" / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def regrade(config: Path) -> int:
    async def run() -> int:
        app = App(load_config(config), quiet=True)
        try:
            count = await app.grader.regrade_fallbacks()
            await app.dispatcher.deliver_due()
            return count
        finally:
            await app.aclose()

    return asyncio.run(run())


def test_a_fallback_grade_is_graded_again_when_the_model_is_back(site, llm, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-loopback")
    site.set("/pricing", page(1))
    config = write_config(tmp_path, page=site.url("/pricing"), llm=llm)
    assert once(config, capsys)["status"] == "first"
    site.set("/pricing", page(2))
    llm.answer(Reply(status=503, error="overloaded"))
    assert once(config, capsys)["change"]["source"] == "llm-failed→rules"
    assert len(alerts(tmp_path)) == 1  # delivered on its rules grade (fail open)

    llm.answer(grade_reply(severity="critical", category="pricing", summary="Pro rose to $59.", confidence=0.9))
    assert regrade(config) == 1
    assert regrade(config) == 0  # nothing left to grade again
    capsys.readouterr()
    assert main(["diff", site.url("/pricing"), "--config", str(config)]) == 0
    assert "llm:grader-mini" in capsys.readouterr().out
    assert len(alerts(tmp_path)) == 1  # the file channel had it already: never sent twice


def test_hold_policy_keeps_the_change_until_the_model_answers(site, llm, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-loopback")
    site.set("/pricing", page(1))
    config = write_config(tmp_path, page=site.url("/pricing"), llm=llm)
    config.write_text(config.read_text().replace("  retries: 0\n", "  retries: 0\n  on_unavailable: hold\n"))
    assert once(config, capsys)["status"] == "first"

    site.set("/pricing", page(2))
    llm.answer(Reply(status=503, error="overloaded"))
    held = once(config, capsys)
    assert held["status"] == "changed" and held["change"]["source"] == "held" and held["change"]["severity"] is None
    assert alerts(tmp_path) == []

    llm.answer(grade_reply(severity="critical", category="pricing", summary="Pro rose to $59.", confidence=0.9))
    assert once(config, capsys)["status"] == "unchanged"  # the held change is graded first, then alerted
    (alert,) = alerts(tmp_path)
    assert alert["severity"] == "critical" and alert["change_id"] == held["change"]["id"]


def test_replay_regrades_history_and_alerts_nobody(site, llm, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-loopback")
    site.set("/pricing", page(1))
    config = write_config(tmp_path, page=site.url("/pricing"), llm=llm)
    once(config, capsys)
    site.set("/pricing", page(2))
    llm.answer(grade_reply(severity="medium", category="pricing", summary="A price moved.", confidence=0.6))
    assert once(config, capsys)["change"]["source"] == "llm:grader-mini"
    before = alerts(tmp_path)

    assert main(["replay", "--since", "1d", "--provider", "rules", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    # the model said medium; the rules floor (a changed price is at least high) lifted it
    assert "stored high/pricing (llm:grader-mini)" in out and "now critical/pricing (rules)" in out
    assert "Nothing was saved or sent" in out
    assert alerts(tmp_path) == before

    assert main(["costs", "--since", "1d", "--config", str(config)]) == 0
    assert "grader-mini" in capsys.readouterr().out
