"""Shared helpers for the LLM classifier's tests: changes, a config pointed at the loopback
OpenAI-compatible server, and a runner that builds, uses and closes a classifier.

Waits between retries go through an injected ``sleep`` that records the seconds asked for,
so the tests see Retry-After and backoff without waiting for them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from openai_server import OpenAICompatibleServer

from classifiers.budget import InMemorySpendLedger
from classifiers.llm import LLMClassifier
from monitor.config import ClassifierConfig
from monitor.records import (
    BlockChange,
    BlockKind,
    BlockOp,
    Change,
    ClassifyContext,
    FactChange,
    PageKind,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TRIAGE, DRAFT = "grader-mini", "writer-large"


KEY_ENV = "RIVALWATCH_TEST_LLM_KEY"


def price_change(*, after: str = "$59", extra: tuple[BlockChange, ...] = ()) -> Change:
    return Change(
        url="https://acme.example/pricing",
        competitor="Acme Analytics",
        page_kind=PageKind.PRICING,
        before_id=1,
        after_id=2,
        detected_at=NOW,
        blocks=(
            BlockChange(
                BlockOp.MODIFIED,
                BlockKind.TABLE_ROW,
                ("Pricing", "Pro"),
                "Pro $49 per seat / month",
                f"Pro {after} per seat / month",
            ),
            *extra,
        ),
        facts=(FactChange("price", "Pro", "monthly", "$49", after),),
    )


def feature_change(text: str = "Now with session replay for every plan.") -> Change:
    return Change(
        url="https://acme.example/product",
        competitor="Acme Analytics",
        page_kind=PageKind.PRODUCT,
        before_id=3,
        after_id=4,
        detected_at=NOW,
        blocks=(BlockChange(BlockOp.ADDED, BlockKind.PARAGRAPH, ("Features",), None, text),),
    )


class RecordedSleeps:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def config(server: OpenAICompatibleServer, **overrides: Any) -> ClassifierConfig:
    data: dict[str, Any] = {
        "provider": "openai",
        "base_url": server.base_url,
        "api_key_env": KEY_ENV,
        "models": {"triage": TRIAGE, "draft": DRAFT},
        "prices": {
            TRIAGE: {"input_per_1m": 0.5, "output_per_1m": 2.0},
            DRAFT: {"input_per_1m": 5.0, "output_per_1m": 20.0},
        },
        "budget": {"daily_usd": 1.0, "monthly_usd": 10.0},
        "timeout": 5,
        "retries": 2,
    }
    data.update(overrides)
    return ClassifierConfig.model_validate(data)


def run(cfg: ClassifierConfig, action: Any, *, ledger: Any = None, **options: Any) -> Any:
    """Build a classifier, run ``action(classifier)`` in a fresh event loop, close it."""

    async def main() -> Any:
        options.setdefault("sleep", RecordedSleeps())
        options.setdefault("now", lambda: NOW)
        classifier = LLMClassifier.from_config(cfg, ledger=ledger or InMemorySpendLedger(), **options)
        try:
            return await action(classifier)
        finally:
            await classifier.aclose()

    return asyncio.run(main())


def classify(change: Change, context: ClassifyContext | None = None) -> Any:
    return lambda classifier: classifier.classify(change, context=context or ClassifyContext())
