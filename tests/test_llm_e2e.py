"""End to end with the LLM classifier: the real CLI (`rivalwatch once --json`) over a page on a
loopback site, grading through the real openai client against the loopback OpenAI-compatible
server, with spend kept in the daemon's own database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openai_server import OpenAICompatibleServer, Reply, grade_reply
from sqlalchemy import create_engine

from monitor.cli import main
from monitor.llm_ledger import costs_report

DATA = Path(__file__).parent / "data" / "e2e"
KEY_ENV = "RIVALWATCH_TEST_LLM_KEY"


def write_config(tmp_path: Path, *, page: str, llm: OpenAICompatibleServer) -> Path:
    (tmp_path / "battlecards").mkdir()
    (tmp_path / "battlecards" / "acme.md").write_text("# Acme Analytics\n\n## Pricing\n\nPro is $49 per seat.\n")
    (tmp_path / "company.md").write_text("# Beacon\n\nWe sell product analytics to mid-market SaaS.\n")
    (tmp_path / "rubric.md").write_text("- critical: any price rise on a core plan\n")
    (tmp_path / "state").mkdir()
    config = tmp_path / "rivalwatch.yaml"
    config.write_text(
        f"""
company: company.md
storage: sqlite:///state/rivalwatch.db
output: out
fetch: {{per_host_delay: 0, retries: 0}}
detect: {{confirm_delay: 0}}
responders: {{console: false}}
classifier:
  provider: openai
  base_url: "{llm.base_url}"
  api_key_env: {KEY_ENV}
  models: {{triage: grader-mini}}
  prices: {{grader-mini: {{input_per_1m: 0.15, output_per_1m: 0.60}}}}
  retries: 0
  rubric: rubric.md
competitors:
  - name: Acme Analytics
    battlecard: battlecards/acme.md
    pages:
      - {{url: "{page}", kind: pricing, robots: false}}
"""
    )
    return config


def once(config: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["once", "--json", "--config", str(config)]) == 0
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return line


def test_a_price_rise_graded_by_the_model(site, llm, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-loopback")
    site.set("/pricing", (DATA / "pricing_v1.html").read_text().replace("{{", "").replace("}}", ""))
    config = write_config(tmp_path, page=site.url("/pricing"), llm=llm)
    assert once(config, capsys)["status"] == "first"
    assert llm.requests == [], "a baseline is never graded"

    site.set("/pricing", (DATA / "pricing_v2.html").read_text().replace("{{", "").replace("}}", ""))
    llm.answer(
        grade_reply(
            severity="critical",
            category="pricing",
            summary="Acme raised Pro to $59 per seat.",
            confidence=0.9,
        )
    )
    changed = once(config, capsys)
    assert changed["status"] == "changed", changed
    assert changed["change"]["source"] == "llm:grader-mini"
    assert changed["change"]["severity"] == "critical"

    (request,) = llm.requests
    assert request.headers["authorization"] == "Bearer sk-loopback"
    system, user = request.messages
    assert "any price rise on a core plan" in system["content"]  # the ops' rubric
    assert "We sell product analytics" in user["content"] and "Pro is $49 per seat." in user["content"]
    assert "$59" in user["content"]

    engine = create_engine(f"sqlite:///{tmp_path / 'state' / 'rivalwatch.db'}")
    try:
        (row,) = costs_report(engine, since=datetime.now(UTC) - timedelta(days=1))
    finally:
        engine.dispose()
    assert (row.competitor, row.model, row.calls, row.prompt_tokens) == ("Acme Analytics", "grader-mini", 1, 100)


def test_the_model_down_means_the_rules_grade_is_delivered(site, llm, tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-loopback")
    site.set("/pricing", (DATA / "pricing_v1.html").read_text().replace("{{", "").replace("}}", ""))
    config = write_config(tmp_path, page=site.url("/pricing"), llm=llm)
    assert once(config, capsys)["status"] == "first"

    site.set("/pricing", (DATA / "pricing_v2.html").read_text().replace("{{", "").replace("}}", ""))
    llm.answer(Reply(status=503, error="overloaded"))
    changed = once(config, capsys)
    assert changed["status"] == "changed"
    assert changed["change"]["source"] == "llm-failed→rules"
    assert changed["change"]["severity"] in ("high", "critical")
    assert len(llm.requests) == 1
