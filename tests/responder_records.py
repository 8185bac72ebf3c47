"""Build the records responders take from the plain mappings in tests/data/*.yaml."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.records import (
    BlockChange,
    BlockKind,
    BlockOp,
    Category,
    Change,
    Classification,
    ClassifiedChange,
    FactChange,
    PageKind,
    Severity,
)

DETECTED = datetime(2026, 11, 22, 14, 3, tzinfo=UTC)


def classified(spec: dict[str, Any], *, default_id: int = 1) -> ClassifiedChange:
    """A ClassifiedChange from a mapping; every key is optional."""
    blocks = tuple(
        BlockChange(
            op=BlockOp(b.get("op", "modified")),
            kind=BlockKind(b.get("kind", "paragraph")),
            path=tuple(b.get("path", ())),
            before=b.get("before"),
            after=b.get("after"),
        )
        for b in spec.get("blocks", [])
    )
    facts = tuple(
        FactChange(
            kind=f.get("kind", "price"),
            subject=f["subject"],
            attribute=f.get("attribute", ""),
            before=f.get("before"),
            after=f.get("after"),
        )
        for f in spec.get("fact_changes", [])
    )
    detected = spec.get("detected_at", DETECTED)
    if isinstance(detected, str):
        detected = datetime.fromisoformat(detected)
    change = Change(
        url=spec.get("url", "https://acme.example/pricing"),
        competitor=spec.get("competitor", "Acme Analytics"),
        page_kind=PageKind(spec.get("page_kind", "pricing")),
        before_id=1,
        after_id=2,
        detected_at=detected,
        blocks=blocks,
        facts=facts,
    )
    grade = Classification(
        severity=Severity.parse(spec.get("severity", "high")),
        category=Category(spec.get("category", "pricing")),
        summary=spec.get("summary", "Pro plan price rose"),
        facts=tuple(spec.get("facts", ())),
        evidence=tuple(spec.get("evidence", ())),
        source=spec.get("source", "rules"),
        confidence=float(spec.get("confidence", 0.5)),
    )
    return ClassifiedChange(id=spec.get("id", default_id), change=change, classification=grade)
