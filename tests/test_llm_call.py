"""The request loop (classifiers/llm_call.py) through the LLM classifier, against the loopback
OpenAI-compatible llm: 429 with Retry-After, 5xx backoff, timeouts, rejected parameters,
unreadable answers, token counting and the budget's hard caps.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from llm_support import DRAFT, NOW, TRIAGE, RecordedSleeps, classify, config, feature_change, run
from openai_server import OpenAICompatibleServer, Reply, grade_reply

from classifiers.budget import InMemorySpendLedger, LLMCall
from classifiers.llm import LLMClassifier, LLMUnavailable, retry_after_seconds
from monitor.errors import BudgetExceeded
from monitor.records import (
    ClassifyContext,
)


def test_429_honours_retry_after(llm: OpenAICompatibleServer, api_key: str) -> None:
    llm.answer(Reply(status=429, headers={"Retry-After": "7"}, error="slow down"), grade_reply())
    sleeps = RecordedSleeps()
    ledger = InMemorySpendLedger()
    grade = run(config(llm), classify(feature_change()), ledger=ledger, sleep=sleeps)

    assert grade.source == f"llm:{TRIAGE}"
    assert sleeps.seconds == [7.0]
    assert len(llm.requests) == 2
    assert [(c.ok, c.cost) for c in ledger.calls][0] == (False, 0.0)
    assert "429" in ledger.calls[0].error


def test_5xx_backs_off_exponentially_then_gives_up(llm: OpenAICompatibleServer, api_key: str) -> None:
    llm.answer(Reply(status=503), Reply(status=502), Reply(status=500))
    sleeps = RecordedSleeps()
    with pytest.raises(LLMUnavailable, match="after 3 attempts"):
        run(config(llm, retries=2), classify(feature_change()), sleep=sleeps)
    assert sleeps.seconds == [0.5, 1.0]
    assert len(llm.requests) == 3


def test_a_retry_after_too_long_is_not_waited_for(llm: OpenAICompatibleServer, api_key: str) -> None:
    llm.answer(Reply(status=429, headers={"Retry-After": "3600"}))
    sleeps = RecordedSleeps()
    with pytest.raises(LLMUnavailable, match="asks to wait 3600s"):
        run(config(llm), classify(feature_change()), sleep=sleeps)
    assert sleeps.seconds == [] and len(llm.requests) == 1


def test_client_errors_are_not_retried(llm: OpenAICompatibleServer, api_key: str) -> None:
    llm.answer(Reply(status=401, error="bad key"))
    with pytest.raises(LLMUnavailable, match="401"):
        run(config(llm), classify(feature_change()))
    assert len(llm.requests) == 1


def test_timeout_is_retried_then_reported(llm: OpenAICompatibleServer, api_key: str) -> None:
    llm.answer(Reply(hang=True), Reply(hang=True))
    sleeps = RecordedSleeps()
    ledger = InMemorySpendLedger()
    with pytest.raises(LLMUnavailable, match="timeout after 2 attempts"):
        run(config(llm, timeout=0.2, retries=1), classify(feature_change()), ledger=ledger, sleep=sleeps)
    assert len(llm.requests) == 2 and sleeps.seconds == [0.5]
    assert [c.error.split(":")[0] for c in ledger.calls] == ["timeout", "timeout"]


def test_an_unreadable_answer_is_reported_not_retried(llm: OpenAICompatibleServer, api_key: str) -> None:
    llm.answer(Reply(raw=b"<html><body>Proxy login required</body></html>"))
    ledger = InMemorySpendLedger()
    with pytest.raises(LLMUnavailable):
        run(config(llm), classify(feature_change()), ledger=ledger)
    assert len(llm.requests) == 1 and not ledger.calls[0].ok


def test_adapts_to_parameters_a_model_rejects(api_key: str) -> None:
    with OpenAICompatibleServer(unsupported_params=("max_tokens", "temperature")) as llm:
        llm.answer(grade_reply(), grade_reply())
        ledger = InMemorySpendLedger()

        async def twice(classifier: LLMClassifier) -> None:
            await classifier.classify(feature_change(), context=ClassifyContext())
            await classifier.classify(feature_change("Other."), context=ClassifyContext())

        run(config(llm, max_output_tokens=321), twice, ledger=ledger)
        sent = [
            sorted(k for k in ("max_tokens", "max_completion_tokens", "temperature") if k in r.body)
            for r in llm.requests
        ]
        assert sent == [
            ["max_tokens", "temperature"],
            ["max_completion_tokens", "temperature"],
            ["max_completion_tokens"],
            ["max_completion_tokens"],  # remembered for the next change
        ]
        assert llm.requests[-1].body["max_completion_tokens"] == 321
        assert [c.ok for c in ledger.calls] == [False, False, True, True]


def test_missing_usage_is_estimated_not_free(llm: OpenAICompatibleServer, api_key: str) -> None:
    llm.answer(Reply(content=grade_reply().content, prompt_tokens=None))
    ledger = InMemorySpendLedger()
    run(config(llm), classify(feature_change()), ledger=ledger)
    (call,) = ledger.calls
    assert call.prompt_tokens > 100 and call.completion_tokens > 10 and call.cost > 0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "Mon, 23 Nov 2026 12:00:30 GMT"}, 30.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
    ids=["seconds", "milliseconds", "http-date", "garbage", "absent"],
)
def test_retry_after_parsing(headers: dict, seconds: float | None) -> None:
    assert retry_after_seconds(headers, now=NOW.timestamp()) == seconds


def test_daily_budget_exhausted_sends_nothing(llm: OpenAICompatibleServer, api_key: str) -> None:
    ledger = InMemorySpendLedger()
    ledger.record_call(LLMCall(NOW.replace(hour=1), TRIAGE, "Acme Analytics", 0, 0, 0.9999, True))
    with pytest.raises(BudgetExceeded, match="daily"):
        run(config(llm), classify(feature_change()), ledger=ledger)
    assert llm.requests == []


def test_monthly_budget_counts_this_month_only(llm: OpenAICompatibleServer, api_key: str) -> None:
    ledger = InMemorySpendLedger()
    ledger.record_call(LLMCall(datetime(2026, 10, 31, 23, tzinfo=UTC), TRIAGE, "Acme Analytics", 0, 0, 50.0, True))
    llm.answer(grade_reply())
    assert run(config(llm), classify(feature_change()), ledger=ledger).source == f"llm:{TRIAGE}"

    ledger.record_call(LLMCall(datetime(2026, 11, 2, tzinfo=UTC), TRIAGE, "Acme Analytics", 0, 0, 9.9999, True))
    with pytest.raises(BudgetExceeded, match="monthly"):
        run(config(llm), classify(feature_change("Other text.")), ledger=ledger)
    assert len(llm.requests) == 1


def test_reported_tokens_spend_the_budget(llm: OpenAICompatibleServer, api_key: str) -> None:
    """One call that reports a huge prompt uses up the day: the next change goes to the rules."""
    llm.answer(Reply(content=grade_reply().content, prompt_tokens=2_000_000, completion_tokens=10))
    ledger = InMemorySpendLedger()

    async def two(classifier: LLMClassifier) -> None:
        await classifier.classify(feature_change(), context=ClassifyContext())
        await classifier.classify(feature_change("Another change."), context=ClassifyContext())

    with pytest.raises(BudgetExceeded):
        run(config(llm), two, ledger=ledger)
    assert len(llm.requests) == 1
    assert ledger.calls[0].cost == pytest.approx(1.0 + 10 * 2.0 / 1e6)


def test_concurrent_grading_cannot_overshoot_the_cap_together(llm: OpenAICompatibleServer, api_key: str) -> None:
    """Each call reserves its worst case ($0.50 here) until recorded; two do not fit in $0.80."""
    prices = {TRIAGE: {"input_per_1m": 0.0, "output_per_1m": 1000.0}, DRAFT: {"input_per_1m": 0, "output_per_1m": 0}}
    cfg = config(llm, prices=prices, max_output_tokens=500, budget={"daily_usd": 0.8, "monthly_usd": 10})
    llm.answer(grade_reply(), grade_reply())

    async def together(classifier: LLMClassifier) -> list:
        return await asyncio.gather(
            classifier.classify(feature_change("One."), context=ClassifyContext()),
            classifier.classify(feature_change("Two."), context=ClassifyContext()),
            return_exceptions=True,
        )

    first, second = run(cfg, together)
    assert first.source == f"llm:{TRIAGE}"
    assert isinstance(second, BudgetExceeded)
    assert len(llm.requests) == 1


def test_a_dripping_answer_is_cut_off_at_the_timeout(llm: OpenAICompatibleServer, api_key: str) -> None:
    """Each byte comes well within the read timeout; the whole answer would take a minute."""
    dripping = Reply(content=grade_reply().content, drip=True)
    llm.answer(dripping)
    ledger = InMemorySpendLedger()
    with pytest.raises(LLMUnavailable, match="timeout after 1 attempts"):
        run(config(llm, timeout=0.5, retries=0), classify(feature_change()), ledger=ledger)
    assert ledger.calls[0].error.startswith("timeout")
