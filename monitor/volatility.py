"""Learned volatility as patterns of a page's slots, so a widget learned once stays learned.

When two fetches moments apart disagree on a block, what varies is the block's *text*, so
remembering the text (or its hash) would learn nothing for the next crawl, which shows yet
another text. A ``SlotPattern`` remembers the place instead — the block's kind and heading
path — and the words the two variants share at the start and at the end ("Word of the
moment: …"). Any block in that place that keeps those words is noise from then on. Two
variants that share no words pin the slot by its position among like blocks under the same
heading, so the rest of the section stays watched.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from monitor.diff import block_signature
from monitor.records import Block, BlockKind, Page


@dataclass(frozen=True, slots=True)
class SlotPattern:
    kind: BlockKind
    path: tuple[str, ...]
    prefix: str
    suffix: str
    ordinal: int | None = None  # position among blocks of this kind and path, when nothing is shared

    @property
    def signature(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:32]

    def to_json(self) -> str:
        return json.dumps(
            [self.kind.value, list(self.path), self.prefix, self.suffix, self.ordinal], ensure_ascii=False
        )

    @classmethod
    def from_json(cls, text: str) -> SlotPattern:
        kind, path, prefix, suffix, ordinal = json.loads(text)
        return cls(BlockKind(kind), tuple(path), prefix, suffix, ordinal)

    def describe(self) -> str:
        where = " › ".join(self.path) or "top of page"
        if self.ordinal is not None:
            return f"{self.kind} #{self.ordinal + 1} under {where}"
        return f"{self.kind} under {where}: {self.prefix}…{self.suffix}"

    def matches(self, block: Block, ordinal: int) -> bool:
        if block.kind is not self.kind or block.path != self.path:
            return False
        if self.ordinal is not None:
            return ordinal == self.ordinal
        text = block.text
        return (
            len(text) >= len(self.prefix) + len(self.suffix)
            and text.startswith(self.prefix)
            and text.endswith(self.suffix)
        )


def _ordinals(blocks: tuple[Block, ...]) -> list[int]:
    seen: dict[tuple[BlockKind, tuple[str, ...]], int] = {}
    out = []
    for block in blocks:
        key = (block.kind, block.path)
        out.append(seen.get(key, 0))
        seen[key] = out[-1] + 1
    return out


def _shared_words(a: str, b: str) -> tuple[str, str]:
    """The words two different texts share at their start and at their end."""
    prefix = os.path.commonprefix([a, b])
    prefix = prefix[: prefix.rfind(" ") + 1]  # whole words only, up to the last shared space
    suffix = os.path.commonprefix([a[::-1], b[::-1]])[::-1]
    suffix = suffix[suffix.find(" ") :] if " " in suffix else ""
    if len(prefix) + len(suffix) > min(len(a), len(b)):
        suffix = ""
    return prefix, suffix


def learn_slots(first: Page, second: Page, volatile: frozenset[str]) -> list[SlotPattern]:
    """Patterns for the blocks of ``first`` that ``second`` disagreed on (their signatures given)."""
    patterns: list[SlotPattern] = []
    first_ord, second_ord = _ordinals(first.blocks), _ordinals(second.blocks)
    counterpart = {(b.kind, b.path, o): b for b, o in zip(second.blocks, second_ord, strict=True)}
    for block, ordinal in zip(first.blocks, first_ord, strict=True):
        if block_signature(block) not in volatile:
            continue
        other = counterpart.get((block.kind, block.path, ordinal))
        prefix, suffix = _shared_words(block.text, other.text) if other is not None else ("", "")
        if len(prefix.split()) + len(suffix.split()) >= 2:
            patterns.append(SlotPattern(block.kind, block.path, prefix, suffix))
        else:
            patterns.append(SlotPattern(block.kind, block.path, "", "", ordinal))
    return list(dict.fromkeys(patterns))


def volatile_signatures(patterns: list[SlotPattern], pages: tuple[Page, ...]) -> frozenset[str]:
    """The signatures of the blocks on these pages that stand in a learned volatile slot."""
    if not patterns:
        return frozenset()
    found = set()
    for page in pages:
        for block, ordinal in zip(page.blocks, _ordinals(page.blocks), strict=True):
            if any(p.matches(block, ordinal) for p in patterns):
                found.add(block_signature(block))
    return frozenset(found)
