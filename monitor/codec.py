"""JSON round-trips for the records the store keeps (blocks, facts, changes, grades, alerts)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson

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
    Page,
    PageKind,
    Severity,
)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _fast_dumps(value: Any) -> str:
    """``dumps`` of a snapshot's blocks or facts, written alike by orjson at a quarter of the CPU
    (every page of a crawl is encoded once). orjson refuses a lone surrogate, which a script-
    rendered page's text can hold; the standard encoder writes it as it always has."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return dumps(value)


def _fast_loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # a lone surrogate, as the standard encoder writes it
        return json.loads(text)


def blocks_to_json(blocks: tuple[Block, ...]) -> str:
    # BlockKind is a str enum and a tuple encodes as a list: no conversion needed per block
    return _fast_dumps([(b.kind, b.text, b.path, b.group) for b in blocks])


def blocks_from_json(text: str) -> tuple[Block, ...]:
    return tuple(Block(BlockKind(k), t, tuple(p), g) for k, t, p, g in _fast_loads(text))


def facts_to_json(facts: tuple[Fact, ...]) -> str:
    return _fast_dumps([[f.kind, f.subject, f.attribute, f.value] for f in facts])


def facts_from_json(text: str) -> tuple[Fact, ...]:
    return tuple(Fact(*row) for row in _fast_loads(text))


class EncodedPage:
    """A page beside its stored JSON form (blocks, facts); each is made from the other on first use.

    Extraction workers hand pages back encoded: a page the crawl only stores (a baseline) or
    only compares by hash (unchanged) is then never rebuilt as records in the event loop, and a
    page extracted in the loop is encoded only if it is stored.
    """

    __slots__ = ("url", "title", "content_hash", "block_count", "_page", "_blocks_json", "_facts_json")

    def __init__(
        self,
        url: str,
        title: str,
        content_hash: str,
        block_count: int,
        *,
        page: Page | None = None,
        blocks_json: str | None = None,
        facts_json: str | None = None,
    ) -> None:
        if page is None and (blocks_json is None or facts_json is None):
            raise ValueError("an EncodedPage needs its page or both JSON forms")
        self.url, self.title, self.content_hash, self.block_count = url, title, content_hash, block_count
        self._page, self._blocks_json, self._facts_json = page, blocks_json, facts_json

    @classmethod
    def of(cls, page: Page) -> EncodedPage:
        return cls(page.url, page.title, page.content_hash, len(page.blocks), page=page)

    @property
    def page(self) -> Page:
        if self._page is None:
            assert self._blocks_json is not None and self._facts_json is not None
            self._page = Page(
                url=self.url,
                title=self.title,
                blocks=blocks_from_json(self._blocks_json),
                facts=facts_from_json(self._facts_json),
                content_hash=self.content_hash,
            )
        return self._page

    @property
    def blocks_json(self) -> str:
        if self._blocks_json is None:
            self._blocks_json = blocks_to_json(self.page.blocks)
        return self._blocks_json

    @property
    def facts_json(self) -> str:
        if self._facts_json is None:
            self._facts_json = facts_to_json(self.page.facts)
        return self._facts_json


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
