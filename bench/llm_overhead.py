"""What the LLM classifier costs us besides the model: CPU per change, and a cache hit.

    .venv/bin/python bench/llm_overhead.py [--rounds 200]

Per change size (a price change, a 20-block product update, a 400-block page rewrite) it
prints the CPU time of the pure parts the LLM path adds (prompt building, cache key, answer
parsing with the evidence check and floor) as a ratio to the rules classifier measured in the
same run. Then, through the real openai client against a loopback OpenAI-compatible server
(tests/openai_server.py) and a SQLite ledger, the wall time of a graded call versus a cache
hit. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from openai_server import OpenAICompatibleServer, grade_reply  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402

from classifiers.llm import LLMClassifier  # noqa: E402
from classifiers.llm_output import GRADE_SCHEMA, grade_to_classification, parse_grade  # noqa: E402
from classifiers.prompt import build_triage_messages, cache_key, looks_like_injection  # noqa: E402
from classifiers.rules import classify_by_rules, severity_floor  # noqa: E402
from monitor.config import ClassifierConfig  # noqa: E402
from monitor.llm_ledger import SqlSpendLedger  # noqa: E402
from monitor.records import (  # noqa: E402
    BlockChange,
    BlockKind,
    BlockOp,
    Change,
    ClassifyContext,
    FactChange,
    PageKind,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)
CONTEXT = ClassifyContext(
    company="# Beacon\nProduct analytics for mid-market SaaS teams. " * 20,
    battlecard="# Acme Analytics\n## Pricing\nPro $49 per seat. " * 40,
    rubric="",
)
ANSWER = json.dumps(
    {
        "severity": "high",
        "category": "pricing",
        "summary": "Acme raised Pro from $49 to $59 per seat per month.",
        "facts": ["Pro monthly: $49 → $59"],
        "evidence": ["Pro $59 per seat / month", "invented quote"],
        "confidence": 0.9,
        "injection_suspected": False,
    }
)


def _change(blocks: int, *, facts: bool) -> Change:
    items = [
        BlockChange(
            BlockOp.MODIFIED,
            BlockKind.PARAGRAPH,
            ("Pricing", f"Section {i}"),
            f"Pro $49 per seat / month, billed annually. Item {i} of the old copy about dashboards.",
            f"Pro $59 per seat / month, billed annually. Item {i} of the new copy about dashboards.",
        )
        for i in range(blocks)
    ]
    fact_changes = (FactChange("price", "Pro", "monthly", "$49", "$59"),) if facts else ()
    return Change("https://acme.example/pricing", "Acme", PageKind.PRICING, 1, 2, NOW, tuple(items), fact_changes)


def _per_call(fn, rounds: int) -> float:
    fn()
    start = time.process_time()
    for _ in range(rounds):
        fn()
    return (time.process_time() - start) / rounds * 1000


def pure_parts(rounds: int) -> None:
    print("CPU per change, ms (ratio to the rules classifier in the same run)")
    print(f"  {'change':22s} {'rules':>8s} {'prompt':>14s} {'cache key':>14s} {'parse+checks':>14s}")
    for name, change in (
        ("price change", _change(1, facts=True)),
        ("20-block update", _change(20, facts=True)),
        ("400-block rewrite", _change(400, facts=False)),
    ):
        base = _per_call(lambda c=change: classify_by_rules(c), rounds)
        prompt = _per_call(lambda c=change: build_triage_messages(c, context=CONTEXT, schema=GRADE_SCHEMA), rounds)
        key = _per_call(lambda c=change: cache_key(model="m", change=c), rounds)

        def parse(c: Change = change) -> None:
            grade_to_classification(
                parse_grade(ANSWER),
                change=c,
                model="m",
                floor=severity_floor(c),
                rules=lambda: classify_by_rules(c),
                injection_seen=looks_like_injection(c),
            )

        checks = _per_call(parse, rounds)
        cells = [f"{v:7.3f} ({v / base:4.1f}x)" for v in (prompt, key, checks)]
        print(f"  {name:22s} {base:8.3f} " + " ".join(f"{c:>14s}" for c in cells))


async def _loopback(rounds: int) -> tuple[float, float]:
    with OpenAICompatibleServer() as server, tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/ledger.db")
        cfg = ClassifierConfig.model_validate(
            {
                "provider": "openai",
                "base_url": server.base_url,
                "models": {"triage": "bench"},
                "prices": {"bench": {"input_per_1m": 0, "output_per_1m": 0}},
                "budget": {"daily_usd": None, "monthly_usd": None},
            }
        )
        classifier = LLMClassifier.from_config(cfg, ledger=SqlSpendLedger(engine))
        try:
            changes = [_change(3, facts=True) for _ in range(rounds)]
            changes = [
                Change(
                    c.url,
                    c.competitor,
                    c.page_kind,
                    1,
                    2,
                    NOW,
                    c.blocks,
                    (FactChange("price", "Pro", "m", "$1", str(i)),),
                )
                for i, c in enumerate(changes)
            ]
            server.answer(*[grade_reply() for _ in changes])
            start = time.perf_counter()
            for change in changes:
                await classifier.classify(change, context=CONTEXT)
            paid = (time.perf_counter() - start) / rounds * 1000
            start = time.perf_counter()
            for change in changes:
                await classifier.classify(change, context=CONTEXT)
            cached = (time.perf_counter() - start) / rounds * 1000
        finally:
            await classifier.aclose()
            engine.dispose()
    return paid, cached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    pure_parts(args.rounds)
    paid, cached = asyncio.run(_loopback(max(20, args.rounds // 4)))
    print()
    print("wall time per change through the real openai client, loopback server, SQLite ledger")
    print(f"  graded by the model:  {paid:7.2f} ms   (loopback round trip, no model time)")
    print(f"  answered from cache:  {cached:7.2f} ms   ({paid / cached:.1f}x cheaper)")


if __name__ == "__main__":
    main()
