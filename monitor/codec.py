"""JSON round-trips for the records the store keeps (blocks, facts, changes, grades, alerts)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from monitor.records import (
    Alert,
    Block,
    BlockChange,
    BlockKind,
    BlockOp,
    Category,
    Change,
    Classification,
    Fact,
    FactChange,
    PageKind,
    Severity,
)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def blocks_to_json(blocks: tuple[Block, ...]) -> str:
    # BlockKind is a str enum and a tuple encodes as a list: no conversion needed per block
    return dumps([(b.kind, b.text, b.path, b.group) for b in blocks])


def blocks_from_json(text: str) -> tuple[Block, ...]:
    return tuple(Block(BlockKind(k), t, tuple(p), g) for k, t, p, g in json.loads(text))


def facts_to_json(facts: tuple[Fact, ...]) -> str:
    return dumps([[f.kind, f.subject, f.attribute, f.value] for f in facts])


def facts_from_json(text: str) -> tuple[Fact, ...]:
    return tuple(Fact(*row) for row in json.loads(text))


def change_to_json(change: Change) -> str:
    return dumps(
        {
            "url": change.url,
            "competitor": change.competitor,
            "page_kind": change.page_kind.value,
            "before_id": change.before_id,
            "after_id": change.after_id,
            "detected_at": change.detected_at.isoformat(),
            "blocks": [[b.op.value, b.kind.value, list(b.path), b.before, b.after, b.context] for b in change.blocks],
            "facts": [[f.kind, f.subject, f.attribute, f.before, f.after] for f in change.facts],
            "diff_html": change.diff_html,
        }
    )


def change_from_json(text: str) -> Change:
    d = json.loads(text)
    return Change(
        url=d["url"],
        competitor=d["competitor"],
        page_kind=PageKind(d["page_kind"]),
        before_id=d["before_id"],
        after_id=d["after_id"],
        detected_at=datetime.fromisoformat(d["detected_at"]),
        blocks=tuple(
            BlockChange(BlockOp(op), BlockKind(k), tuple(p), before, after, ctx)
            for op, k, p, before, after, ctx in d["blocks"]
        ),
        facts=tuple(FactChange(*row) for row in d["facts"]),
        diff_html=d.get("diff_html", ""),
    )


def grade_to_json(c: Classification) -> str:
    return dumps(
        {
            "severity": c.severity.label,
            "category": c.category.value,
            "summary": c.summary,
            "facts": list(c.facts),
            "evidence": list(c.evidence),
            "source": c.source,
            "confidence": c.confidence,
        }
    )


def grade_from_json(text: str) -> Classification:
    d = json.loads(text)
    return Classification(
        severity=Severity.parse(d["severity"]),
        category=Category(d["category"]),
        summary=d["summary"],
        facts=tuple(d["facts"]),
        evidence=tuple(d["evidence"]),
        source=d["source"],
        confidence=float(d["confidence"]),
    )


def alert_to_json(a: Alert) -> str:
    return dumps(
        {
            "change_id": a.change_id,
            "channel": a.channel,
            "competitor": a.competitor,
            "url": a.url,
            "severity": a.severity.label,
            "title": a.title,
            "text": a.text,
        }
    )


def alert_from_json(text: str) -> Alert:
    d = json.loads(text)
    return Alert(
        change_id=d["change_id"],
        channel=d["channel"],
        competitor=d["competitor"],
        url=d["url"],
        severity=Severity.parse(d["severity"]),
        title=d["title"],
        text=d["text"],
    )
