"""The rules classifier: fast, deterministic, offline grading of a change.

It reads, in order of trust: fact differences (prices, plans, tiers, jobs), keyword
families in the text the change added (acquisition, funding, launch, certification,
partnership, security incident...), the page's kind, and the size and place of the change
(a rewritten headline, a new section, a retouched sentence). Each reading is a ``Signal``;
the strongest one grades the change and names its category.

``severity_floor(change)`` is the part of this that is certain enough to bind an LLM's
grade from below: a changed core price is at least high whatever a model says.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Self

from classifiers.keywords import ROTATING_WIDGET, is_consent_notice
from classifiers.profile import aimed_at_us, focus_terms
from classifiers.signals import Signal, fact_signals, family_hits, family_signals, page_signal
from classifiers.text import Substance, quote, substance, text_key
from monitor.config import ClassifierConfig
from monitor.records import (
    BlockChange,
    BlockKind,
    Category,
    Change,
    Classification,
    ClassifyContext,
    PageKind,
    Severity,
)

SOURCE = "rules"

# Pages where a launch can be "aimed squarely at our buyers"; a docs page only lists SDKs.
_LAUNCH_PAGES = frozenset({PageKind.PRODUCT, PageKind.HOMEPAGE, PageKind.CHANGELOG, PageKind.BLOG})


def _is_boilerplate(block: BlockChange) -> bool:
    # site chrome: a cookie/consent notice, and short buttons ("OK", "Got it", "Verstanden")
    text = f"{block.before or ''} {block.after or ''}"
    if is_consent_notice(text) or ROTATING_WIDGET.search(" ".join(block.path[-1:])):
        return True
    return block.kind is BlockKind.BUTTON and all(len((t or "").split()) <= 3 for t in (block.before, block.after))


_PLUMBING = re.compile(r"(?<!\w)(?:sdks?|library|libraries|plugin|connector|integration|api client)(?!\w)", re.I)


def _launch_reason(sub: Substance) -> str:
    headings = [b.after or "" for b in sub.added + sub.edited if b.kind is BlockKind.HEADING]
    name = _BADGE_WORD.sub("", headings[0]).strip(" :—-") if headings else ""
    return f"a launch aimed at our buyers (“{quote(name, limit=80)}”)" if name else "a launch aimed at our buyers"


_BADGE_WORD = re.compile(
    r"^(?:new|neu|neue|neues|nouveau|nouvelle|nuevo|nueva|nuovo|nuova|nieuw|novo|nova)\s*:\s*"
    r"|\s+(?:new|neu|neue|neues|nouveau|nouvelle|nuevo|nueva|nuovo|nuova|nieuw|novo|nova)$",
    re.IGNORECASE,
)


def _launches_plumbing(sub: Substance) -> bool:
    """An SDK, plugin or connector reaches our buyers through a product; it is not one."""
    headings = [b.after or "" for b in sub.added + sub.edited if b.kind is BlockKind.HEADING]
    named = headings[:1] or [b.after or "" for b in sub.added[:1]]
    return any(_PLUMBING.search(text) for text in named)


def _reranked_list(sub: Substance) -> bool:
    """Short list entries swapped in and out one for one: a "popular" or "trending" widget."""
    if sub.edited or len(sub.added) < 2 or len(sub.added) != len(sub.removed):
        return False
    entries = sub.added + sub.removed
    return all(b.kind in (BlockKind.LIST_ITEM, BlockKind.LINK) and len(b.text.split()) <= 15 for b in entries)


def _signals(change: Change, sub: Substance, *, company: str) -> list[Signal]:
    signals = fact_signals(change.facts)
    if sub.empty:
        return signals
    if change.page_kind is PageKind.CAREERS and any(f.kind == "job" for f in change.facts):
        return signals  # the job facts are the careers page; its blocks only re-say them
    if change.page_kind is PageKind.CAREERS and not (sub.added or sub.removed):
        if all(b.kind in (BlockKind.LIST_ITEM, BlockKind.LINK, BlockKind.TABLE_ROW) for b in sub.edited):
            return signals  # job entries re-formatted while the job facts stayed the same
    if _reranked_list(sub):
        return signals
    hits = family_hits(change, sub)
    family = family_signals(change, sub, hits)
    if (
        change.page_kind in _LAUNCH_PAGES
        and "launch" in hits
        and aimed_at_us(sub.full_new_text(), focus_terms(company))
        and not _launches_plumbing(sub)
    ):
        family = [
            Signal(Severity.CRITICAL, Category.PRODUCT, _launch_reason(sub), s.evidence, 0.6, "launch")
            if s.kind == "launch"
            else s
            for s in family
        ]
    return signals + family + [page_signal(change, sub, hits)]


def _strongest(signals: list[Signal]) -> Signal:
    # earlier signals are more trusted (facts, then families, then page kind): they win ties
    best = signals[0]
    for signal in signals[1:]:
        if signal.severity > best.severity:
            best = signal
    return best


def _where(change: Change) -> str:
    page = "homepage" if change.page_kind is PageKind.HOMEPAGE else f"{change.page_kind.value} page"
    return f"{change.competitor} ({page})"


def _summary(change: Change, best: Signal, evidence: tuple[str, ...], *, removal: bool) -> str:
    """One or two sentences: what kind of change, then the fact or the page's own words."""
    first = f"{_where(change)}: {best.reason}."
    described = [e for e in best.evidence if any(e == f.describe() for f in change.facts)][:3]
    if described:
        return f"{first} {'; '.join(described)}."
    if not evidence:
        return first
    says = "It no longer says" if removal else "It now says"
    return f"{first} {says}: " + " / ".join(f"“{quote(e, limit=120)}”" for e in evidence[:2])


def _facts(change: Change, sub: Substance) -> tuple[str, ...]:
    if change.facts:
        return tuple(f.describe() for f in change.facts[:12])
    out = [f"added: {quote(b.after or '', limit=120)}" for b in sub.added[:4]]
    out += [f"changed: {quote(b.before or '', limit=60)} → {quote(b.after or '', limit=60)}" for b in sub.edited[:3]]
    out += [f"removed: {quote(b.before or '', limit=120)}" for b in sub.removed[:3]]
    return tuple(out)


def _evidence(change: Change, best: Signal, sub: Substance) -> tuple[str, ...]:
    """Short quotes found verbatim in the change: the signal's own, else the biggest new text."""
    texts = [t for b in change.blocks for t in (b.before, b.after) if t]
    quoted = [e for e in best.evidence if any(e in t for t in texts)]
    blocks = sorted(sub.added + sub.edited, key=lambda b: -len(b.after or ""))
    quoted += [quote(b.after or "") for b in blocks[:3]] or [quote(b.before or "") for b in sub.removed[:3]]
    # the signal's own quotes first, but a sentence beats a "Read the story" link or a bare date
    unique = [q for q in dict.fromkeys(quoted) if q and text_key(q)]
    unique.sort(key=lambda q: len(q.split()) < 4)
    return tuple(unique[:3])


def classify_by_rules(change: Change, *, company: str = "") -> Classification:
    """Grade ``change`` by rules alone. ``company`` is our profile (Markdown), if known."""
    sub = substance(change, is_boilerplate=_is_boilerplate)
    signals = _signals(change, sub, company=company)
    if not signals:
        reason = "only markup, order, dates, counters or spelling changed" if change.blocks else "no text changed"
        return Classification(
            severity=Severity.NONE,
            category=Category.NONE,
            summary=f"{_where(change)}: {reason}; nothing to act on.",
            facts=(),
            evidence=(),
            source=SOURCE,
            confidence=0.7,
        )
    best = _strongest(signals)
    evidence = _evidence(change, best, sub)
    return Classification(
        severity=best.severity,
        category=best.category,
        summary=_summary(change, best, evidence, removal=not (sub.added or sub.edited)),
        facts=_facts(change, sub),
        evidence=evidence,
        source=SOURCE,
        confidence=best.confidence,
    )


_FLOOR_FAMILIES = frozenset({"security-incident", "acquisition"})


def severity_floor(change: Change) -> Severity:
    """The least grade any classifier may give ``change``: what the rules know for certain.

    A changed core price (a price fact, or a listed price edited on a pricing page) or an
    added/removed plan is at least high; a feature moved between tiers is at least medium; a
    disclosed security incident or an acquisition is at least high.
    Everything else has no floor (NONE): judgement is left to the classifier.
    """
    floor = Severity.NONE
    for signal in fact_signals(change.facts):
        if signal.kind == "feature-moved":
            floor = max(floor, Severity.MEDIUM)
        elif signal.category is Category.PRICING:
            # a model may judge a price change critical; the rules only promise high
            floor = max(floor, min(signal.severity, Severity.HIGH))
    sub = substance(change, is_boilerplate=_is_boilerplate)
    if not sub.empty:
        hits = family_hits(change, sub)
        for signal in family_signals(change, sub, hits):
            if signal.kind in _FLOOR_FAMILIES:
                floor = max(floor, Severity.HIGH)
        if change.page_kind is PageKind.PRICING:
            # a listed price or free allowance edited on a pricing page, even where no fact was read
            page = page_signal(change, sub, hits)
            if page.category is Category.PRICING and page.severity is Severity.CRITICAL:
                floor = max(floor, Severity.HIGH)
    return floor


class RulesClassifier:
    """Offline, deterministic grading from facts, keyword families and page kind."""

    key: ClassVar[str] = "rules"

    @classmethod
    def from_config(cls, cfg: ClassifierConfig, **clients: Any) -> Self:
        return cls()

    async def classify(self, change: Change, *, context: ClassifyContext) -> Classification:
        return classify_by_rules(change, company=context.company)
