"""What the rules read off a change: graded signals from facts, keyword families and page kind.

Each signal is one reason a change matters, with a grade, a category, the verbatim evidence
behind it and how much the rules trust it. ``classifiers.rules`` picks the strongest.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from classifiers.keywords import ADD_ON, CONTACT_EMAIL, FAMILIES, POSTAL_ADDRESS, Family
from classifiers.text import Substance, changed_words, has_money, headline_edit, normalise, quote, similarity
from monitor.records import BlockChange, BlockKind, Category, Change, FactChange, PageKind, Severity

S, C, K = Severity, Category, PageKind


@dataclass(frozen=True, slots=True)
class Signal:
    severity: Severity
    category: Category
    reason: str  # plain words, the start of the summary
    evidence: tuple[str, ...] = ()
    confidence: float = 0.6


# ---- facts ---------------------------------------------------------------------------

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _amounts(value: str | None) -> tuple[str, ...]:
    return tuple(_NUMBER.findall(value or ""))


def fact_signals(facts: tuple[FactChange, ...]) -> list[Signal]:
    """Prices, plans, tier moves and jobs: the most certain evidence a change can carry."""
    out: list[Signal] = []
    by_kind: dict[str, list[FactChange]] = {}
    for fact in facts:
        by_kind.setdefault(fact.kind, []).append(fact)

    plans = by_kind.get("plan", [])
    prices = by_kind.get("price", [])
    plans_added = [f for f in plans if f.before is None]
    plans_removed = [f for f in plans if f.after is None]
    renamed = False
    if plans_added or plans_removed:
        # a plan removed and one added with the same prices is the same plan renamed
        old = Counter(_amounts(f.before) for f in prices if f.after is None)
        new = Counter(_amounts(f.after) for f in prices if f.before is None)
        renamed = len(plans_added) == len(plans_removed) and old == new
        described = tuple(f.describe() for f in plans_added + plans_removed)
        if renamed:
            out.append(Signal(S.MEDIUM, C.PRICING, "a plan was renamed, prices unchanged", described, 0.7))
        else:
            what = "a plan was added" if plans_added else "a plan was removed"
            if plans_added and plans_removed:
                what = "plans were added and removed"
            out.append(Signal(S.CRITICAL, C.PRICING, what, described, 0.9))
    repriced = [f for f in prices if f.before and f.after and _amounts(f.before) != _amounts(f.after)]
    core = [f for f in repriced if not ADD_ON.search(f"{f.subject} {f.attribute}")]
    extras = [f for f in repriced if ADD_ON.search(f"{f.subject} {f.attribute}")]
    if core:
        evidence = tuple(f.describe() for f in core)
        out.append(Signal(S.CRITICAL, C.PRICING, "a plan's price changed", evidence, 0.9))
    if extras:
        evidence = tuple(f.describe() for f in extras)
        out.append(Signal(S.MEDIUM, C.PRICING, "an add-on's price changed", evidence, 0.8))
    if not plans and any(f.before is None or f.after is None for f in prices):
        evidence = tuple(f.describe() for f in prices if f.before is None or f.after is None)
        out.append(Signal(S.HIGH, C.PRICING, "a price point was added or removed", evidence, 0.6))

    moved = [f for f in by_kind.get("feature", []) if f.before and f.after and f.before != f.after]
    if plans_added and plans_removed and renamed:
        # a renamed plan rewrites every tier list it appears in; those are not tier moves
        names = {normalise(f.subject) for f in plans_added + plans_removed}
        moved = [f for f in moved if not set(_swap(f)) <= names | {""}]
    renamed_plan = _plan_rename(moved)
    if renamed_plan and not plans:
        out.append(Signal(S.MEDIUM, C.PRICING, f"a plan was renamed ({renamed_plan})", (), 0.7))
    elif moved:
        evidence = tuple(f.describe() for f in moved)
        out.append(Signal(S.HIGH, C.PRICING, "a feature moved between plans", evidence, 0.85))
    elif not plans and any(f.before is None or f.after is None for f in by_kind.get("feature", [])):
        new = tuple(f.describe() for f in by_kind["feature"] if f.before is None or f.after is None)
        out.append(Signal(S.MEDIUM, C.PRODUCT, "the plan comparison lists a feature change", new, 0.6))

    limits = [f for f in by_kind.get("limit", []) if f.before and f.after and f.before != f.after]
    if limits:
        evidence = tuple(f.describe() for f in limits)
        out.append(Signal(S.HIGH, C.PRICING, "a plan's limits changed", evidence, 0.7))
    out += _job_signals(by_kind.get("job", []))
    return out


def _swap(fact: FactChange) -> tuple[str, str]:
    removed, added = changed_words(fact.before or "", fact.after or "")
    return normalise(" ".join(removed)), normalise(" ".join(added))


def _plan_rename(moved: list[FactChange]) -> str | None:
    """ "Starter → Essentials" when every tier move is the same one name swapped for another."""
    swaps = {_swap(fact) for fact in moved}
    if len(moved) < 2 or len(swaps) != 1:
        return None  # one feature moving from one tier to another is a tier move, not a rename
    old, new = swaps.pop()
    if not old or not new or len(old.split()) > 3 or len(new.split()) > 3:
        return None
    return f"{old} → {new}"


def _job_key(fact: FactChange) -> str:
    return normalise(f"{fact.subject} {fact.attribute}")


def _job_signals(jobs: list[FactChange]) -> list[Signal]:
    # a job-board resync re-keys or re-words every role; a closed role that closely matches
    # an opened one is the same role, so only titles that really came or went count
    opened = [f for f in jobs if f.before is None]
    closed = [f for f in jobs if f.after is None]
    pairs = sorted(
        ((similarity(_job_key(o), _job_key(c)), i, j) for i, o in enumerate(opened) for j, c in enumerate(closed)),
        reverse=True,
    )
    used_open: set[int] = set()
    used_closed: set[int] = set()
    for score, i, j in pairs:
        if score < 0.6:
            break
        if i not in used_open and j not in used_closed and _same_title(opened[i], closed[j]):
            used_open.add(i)
            used_closed.add(j)
    net_open = [f for i, f in enumerate(opened) if i not in used_open]
    net_closed = [f for j, f in enumerate(closed) if j not in used_closed]
    n_open, n_closed = len(net_open), len(net_closed)
    titles = tuple(f.subject for f in net_open + net_closed)
    if n_open >= 3:
        return [Signal(S.MEDIUM, C.HIRING, f"a hiring push: {n_open} new roles", titles, 0.85)]
    if n_open or n_closed:
        what = f"{n_open} new role(s)" if n_open else f"{n_closed} role(s) closed"
        return [Signal(S.LOW, C.HIRING, what, titles, 0.85)]
    return []


def _same_title(a: FactChange, b: FactChange) -> bool:
    # the title's first words survive a resync even when location or format changes
    a_words, b_words = normalise(a.subject).split(), normalise(b.subject).split()
    n = min(3, len(a_words), len(b_words))
    return n > 0 and a_words[:n] == b_words[:n]


# ---- keyword families ----------------------------------------------------------------

# Pages where a family says nothing: a careers page naming "HIPAA" is a job, not a
# certificate; a legal page is graded as a legal change whatever it mentions.
_IGNORED: dict[PageKind, frozenset[str] | None] = {
    K.CAREERS: None,  # None: every family
    K.LEGAL: frozenset(f.name for f in FAMILIES if f.name != "acquisition"),
    K.CUSTOMERS: frozenset({"executive", "launch", "beta"}),
}
_CONTEXT_FAMILIES = frozenset({"subprocessor", "customer-story"})


def family_hits(change: Change, sub: Substance) -> dict[str, list[str]]:
    """Families that the change added (more matches in the new text than in the old)."""
    ignored = _IGNORED.get(change.page_kind, frozenset())
    if ignored is None:
        return {}
    new_text, old_text = sub.full_new_text(), sub.full_old_text()
    headings = " / ".join(" ".join(b.path) for b in sub.added)
    hits: dict[str, list[str]] = {}
    for family in FAMILIES:
        if family.name in ignored:
            continue
        found = family.find(new_text)
        if len(found) > len(family.find(old_text)):
            hits[family.name] = found
        elif family.name in _CONTEXT_FAMILIES and family.find(headings):
            hits[family.name] = family.find(headings)
    if any(_is_badge(b) for b in sub.added) and "launch" not in ignored:
        hits.setdefault("launch", []).append("New")
    return hits


_BADGE = re.compile(r"^(?:new|neu|nouveau|nouvelle)(?:$|[:!]|\s)|\s(?:new|neu|nouveau)$", re.IGNORECASE)


def _is_badge(block: BlockChange) -> bool:
    # a "New" label on its own, or stuck to the start or end of a heading
    text = (block.after or "").strip()
    if _NEW_COLON.match(text):
        return True
    return bool(_BADGE.search(text)) and (len(text) <= 8 or block.kind is BlockKind.HEADING)


_NEW_COLON = re.compile(r"^(?:new|neu|nouveau|nouvelle)\s?:", re.IGNORECASE)


def family_signals(change: Change, sub: Substance, hits: dict[str, list[str]]) -> list[Signal]:
    out: list[Signal] = []
    for family in FAMILIES:
        if family.name not in hits:
            continue
        severity = family.severity
        if family.name == "major-integration" and "beta" in hits:
            severity = S.MEDIUM  # an integration in beta is not yet a major one
        if family.name == "launch" and change.page_kind is K.DOCS:
            severity = S.MEDIUM
        if family.name == "beta" and "launch" in hits:
            continue  # a launch in beta is still a launch
        category = family.category
        if change.page_kind is K.INTEGRATIONS and category is C.PRODUCT:
            category = C.PARTNERSHIPS  # what launches on an integrations page is an integration
        reason = _FAMILY_REASON.get(family.name, family.name.replace("-", " "))
        evidence = _evidence_for(family, sub)
        out.append(Signal(severity, category, reason, evidence, 0.75))
    return out


_FAMILY_REASON = {
    "security-incident": "a security incident was disclosed",
    "acquisition": "an acquisition was announced",
    "free-tier": "the free tier changed",
    "funding": "a funding round was announced",
    "certification": "a compliance certification was announced",
    "data-residency": "a data-residency option was announced",
    "partnership": "a partnership was announced",
    "launch": "a product or feature was launched",
    "major-integration": "a native integration was added",
    "executive": "an executive appointment was announced",
    "subprocessor": "the subprocessor list changed",
    "discount": "a discount programme was announced",
    "customer-story": "a new customer story appeared",
    "beta": "a beta feature appeared",
    "bug-fix": "a bug fix was logged",
    "event": "an event appearance was announced",
}


def _evidence_for(family: Family, sub: Substance) -> tuple[str, ...]:
    texts = [b.after or "" for b in sub.added] + [b.after or "" for b in sub.edited]
    found = [t for t in texts if family.find(t)]
    return tuple(quote(t) for t in found[:2])


# ---- page kind and size --------------------------------------------------------------


def page_signal(change: Change, sub: Substance, hits: dict[str, list[str]]) -> Signal:
    """What a substantive change is worth on this kind of page when nothing stronger speaks."""
    kind = change.page_kind
    rewording = bool(sub.edited) and not sub.added and not sub.removed
    added_blocks = len(sub.added)
    big = added_blocks >= 3 or len(sub.new_words_text().split()) >= 40
    evidence = tuple(quote(b.after or b.before or "") for b in (sub.added + sub.edited + sub.removed)[:2])
    if kind is K.LEGAL:
        changed = sub.new_words_text() + " " + sub.old_words_text()
        if rewording and len(changed.split()) <= 16:
            if POSTAL_ADDRESS.search(changed):
                return Signal(S.LOW, C.CORPORATE, "the legal notice address changed", evidence, 0.6)
            if CONTACT_EMAIL.search(changed):
                return Signal(S.LOW, C.LEGAL, "a contact detail in the legal text changed", evidence, 0.6)
        return Signal(S.MEDIUM, C.LEGAL, "the legal text changed", evidence, 0.7)
    if kind is K.HOMEPAGE or kind is K.PRODUCT:
        head = headline_edit(sub)
        if head is not None:
            before = f"“{quote(head.before or '', limit=80)}” → " if head.before else ""
            reason = f"the headline was rewritten ({before}“{quote(head.after or '', limit=80)}”)"
            return Signal(S.HIGH, C.POSITIONING, reason, evidence, 0.7)
    repriced = [b for b in sub.edited if has_money(b.after or "") and _money(b.before) != _money(b.after)]
    if kind is K.PRICING and repriced:
        extra = any(ADD_ON.search(" ".join(b.path) + " " + (b.after or "")) for b in repriced)
        quotes = tuple(quote(b.after or "") for b in repriced[:2])
        if extra:
            return Signal(S.MEDIUM, C.PRICING, "an add-on's price changed", quotes, 0.6)
        return Signal(S.CRITICAL, C.PRICING, "a listed price changed", quotes, 0.6)
    logos = [b for b in sub.added if _looks_like_logo(b)]
    others = [b for b in sub.added if b not in logos]
    if kind in (K.HOMEPAGE, K.CUSTOMERS) and logos and len(others) <= 3 and not sub.removed:
        names = tuple(quote(b.after or "") for b in logos[:3])
        return Signal(S.MEDIUM, C.CUSTOMERS, "a new customer logo appeared", names, 0.55)
    if kind is K.HOMEPAGE and any(b.kind is BlockKind.QUOTE for b in sub.added):
        return Signal(S.MEDIUM, C.CUSTOMERS, "a new customer testimonial appeared", evidence, 0.6)
    if rewording or (not sub.added and not sub.removed):
        low_cat = C.CUSTOMERS if kind is K.CUSTOMERS else C.PRODUCT if kind is K.DOCS else C.CONTENT
        grown = sum(len((b.after or "").split()) - len((b.before or "").split()) for b in sub.edited)
        mean_sim = sum(similarity(b.before or "", b.after or "") for b in sub.edited) / max(len(sub.edited), 1)
        if kind is K.PRODUCT and grown >= 8:
            return Signal(S.MEDIUM, C.PRODUCT, "a product description gained a capability", evidence, 0.5)
        if kind is K.HOMEPAGE and mean_sim < 0.35:
            return Signal(S.HIGH, C.POSITIONING, "the main message was rewritten", evidence, 0.5)
        return Signal(S.LOW, low_cat, "wording changed, same meaning", evidence, 0.55)
    if kind is K.PRICING:
        if any((b.text.strip() in ("✓", "✔", "—", "-", "✗")) for b in sub.added + sub.removed + sub.edited):
            return Signal(S.HIGH, C.PRICING, "the plan comparison changed", evidence, 0.55)
        return Signal(S.MEDIUM, C.PRICING, "the pricing page changed", evidence, 0.5)
    if kind is K.PRODUCT:
        if big:
            return Signal(S.HIGH, C.PRODUCT, "a new product section appeared", evidence, 0.55)
        return Signal(S.MEDIUM, C.PRODUCT, "a product capability was added", evidence, 0.55)
    if kind is K.CHANGELOG:
        if "bug-fix" in hits and not sub.removed:
            return Signal(S.LOW, C.PRODUCT, "a bug fix was logged", evidence, 0.65)
        return Signal(S.MEDIUM, C.PRODUCT, "a changelog entry was added", evidence, 0.6)
    if kind is K.CAREERS:
        return Signal(S.LOW, C.HIRING, "the careers page changed", evidence, 0.5)
    if kind is K.INTEGRATIONS:
        return Signal(S.MEDIUM, C.PARTNERSHIPS, "the integrations list changed", evidence, 0.6)
    if kind is K.CUSTOMERS:
        if sub.added:
            return Signal(S.MEDIUM, C.CUSTOMERS, "a new customer story appeared", evidence, 0.6)
        return Signal(S.LOW, C.CUSTOMERS, "a customer story was edited", evidence, 0.55)
    if kind is K.DOCS:
        return Signal(S.LOW, C.PRODUCT, "the documentation changed", evidence, 0.5)
    if kind is K.HOMEPAGE and sub.added and "customer-story" not in hits and big:
        return Signal(S.MEDIUM, C.CONTENT, "a new homepage section appeared", evidence, 0.5)
    return Signal(S.LOW, C.CONTENT, "new content appeared", evidence, 0.5)


_MONEY = re.compile(r"[$€£¥]\s?\d[\d.,]*|\d[\d.,]*\s?[$€£¥]")
_LOGO_WALL = re.compile(
    r"(?<!\w)(?:trusted by|used by|loved by|customers|clients|brands|companies|teams|kunden|références)(?!\w)",
    re.IGNORECASE,
)


def _money(text: str | None) -> list[str]:
    return _MONEY.findall(text or "")


def _looks_like_logo(block: BlockChange) -> bool:
    """A short name, no sentence, in a logo wall (or in a heading-less strip of names)."""
    text = (block.after or "").strip()
    words = text.split()
    if not words or len(words) > 4 or text[-1] in ".!?:" or block.kind is BlockKind.HEADING:
        return False
    if not all(w[0].isupper() or not w[0].isalpha() for w in words):
        return False
    return not block.path or bool(_LOGO_WALL.search(" ".join(block.path)))
