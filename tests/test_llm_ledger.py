"""The SQL spend ledger and answer cache (monitor/llm_ledger.py) on SQLite and PostgreSQL,
and the LLM classifier keeping its budget and cache in it across restarts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from openai_server import OpenAICompatibleServer, Reply, grade_reply
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from classifiers.budget import LLMCall
from classifiers.llm import LLMClassifier
from monitor.config import ClassifierConfig
from monitor.errors import BudgetExceeded
from monitor.llm_ledger import CostRow, SqlSpendLedger, costs_report, format_costs
from monitor.records import BlockChange, BlockKind, BlockOp, Change, ClassifyContext, PageKind

CASES = yaml.safe_load((Path(__file__).parent / "data" / "llm_costs_cases.yaml").read_text(encoding="utf-8"))
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    schema = f"llm_ledger_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # a session zone far from UTC proves the report's days are UTC days
    eng = create_engine(url, connect_args={"options": f"-c search_path={schema} -c timezone=Pacific/Auckland"})
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_costs_report(engine: Engine, case: dict) -> None:
    ledger = SqlSpendLedger(engine)
    for ts, model, competitor, prompt, completion, cost, ok in case["calls"]:
        ledger.record_call(LLMCall(_ts(ts), model, competitor, prompt, completion, cost, ok, None if ok else "timeout"))
    rows = costs_report(engine, since=_ts(case["since"]))
    expected = [
        CostRow(date.fromisoformat(d), competitor, model, calls, failed, prompt, completion, cost)
        for d, competitor, model, calls, failed, prompt, completion, cost in case["rows"]
    ]
    assert [(r.day, r.competitor, r.model, r.calls, r.failed, r.prompt_tokens, r.completion_tokens) for r in rows] == [
        (r.day, r.competitor, r.model, r.calls, r.failed, r.prompt_tokens, r.completion_tokens) for r in expected
    ]
    assert [r.cost for r in rows] == pytest.approx([r.cost for r in expected])


def test_spent_since_and_its_own_tables_only(engine: Engine) -> None:
    ledger = SqlSpendLedger(engine)
    assert set(inspect(engine).get_table_names()) == {"llm_call", "llm_cache"}
    ledger.record_call(LLMCall(NOW - timedelta(days=2), "m", "Acme", 10, 1, 0.25, True))
    ledger.record_call(LLMCall(NOW - timedelta(hours=1), "m", "Acme", 10, 1, 0.5, True))
    ledger.record_call(LLMCall(NOW, "m", "Acme", 0, 0, 0.0, False, "http 503"))
    assert ledger.spent_since(NOW - timedelta(days=3)) == pytest.approx(0.75)
    assert ledger.spent_since(NOW - timedelta(hours=1)) == pytest.approx(0.5)
    assert ledger.spent_since(NOW + timedelta(seconds=1)) == 0.0


def test_cache_keeps_the_first_answer_across_replicas(engine: Engine) -> None:
    one, two = SqlSpendLedger(engine), SqlSpendLedger(engine)
    assert one.cache_get("k" * 64) is None
    one.cache_put("k" * 64, '{"severity": "high"}')
    two.cache_put("k" * 64, '{"severity": "low"}')
    assert two.cache_get("k" * 64) == '{"severity": "high"}'


def _change(text: str) -> Change:
    return Change(
        url="https://acme.example/product",
        competitor="Acme",
        page_kind=PageKind.PRODUCT,
        before_id=1,
        after_id=2,
        detected_at=NOW,
        blocks=(BlockChange(BlockOp.ADDED, BlockKind.PARAGRAPH, ("Features",), None, text),),
    )


def test_classifier_budget_and_cache_survive_a_restart(engine: Engine) -> None:
    with OpenAICompatibleServer() as server:
        cfg = ClassifierConfig.model_validate(
            {
                "provider": "openai",
                "base_url": server.base_url,
                "models": {"triage": "grader-mini"},
                "prices": {"grader-mini": {"input_per_1m": 1000.0, "output_per_1m": 0.0}},
                "budget": {"daily_usd": 1.0, "monthly_usd": 100.0},
                "max_output_tokens": 50,
            }
        )

        async def once(change: Change) -> object:
            # a fresh classifier and ledger each time: as after a daemon restart
            classifier = LLMClassifier.from_config(cfg, ledger=SqlSpendLedger(engine), now=lambda: NOW)
            try:
                return await classifier.classify(change, context=ClassifyContext())
            finally:
                await classifier.aclose()

        server.answer(Reply(content=grade_reply(severity="medium").content, prompt_tokens=900, completion_tokens=5))
        first = asyncio.run(once(_change("Session replay for every plan.")))
        again = asyncio.run(once(_change("Session replay for every plan.")))
        assert first == again and len(server.requests) == 1, "the cached grade was not paid for twice"

        # $0.90 spent today of $1.00: the next call's worst case does not fit
        with pytest.raises(BudgetExceeded, match="daily"):
            asyncio.run(once(_change("Dark mode.")))
        assert len(server.requests) == 1
        (row,) = costs_report(engine, since=NOW - timedelta(days=1))
        assert (row.competitor, row.model, row.calls, row.prompt_tokens) == ("Acme", "grader-mini", 1, 900)
        assert row.cost == pytest.approx(0.9)


def test_format_costs_table() -> None:
    rows = [
        CostRow(date(2026, 11, 22), "Acme Analytics", "grader-mini", 2, 1, 3000, 300, 0.0021),
        CostRow(date(2026, 11, 23), "Brightside", "writer-large", 1, 0, 500, 50, 0.25),
    ]
    assert format_costs(rows).splitlines() == [
        "day         competitor      model         calls  failed  tokens in  tokens out     USD",
        "2026-11-22  Acme Analytics  grader-mini       2       1       3000         300  0.0021",
        "2026-11-23  Brightside      writer-large      1       0        500          50  0.2500",
        "total                                         3       1       3500         350  0.2521",
    ]
    assert format_costs([]) == "No LLM calls in this period.\n"
