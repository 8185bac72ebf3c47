"""What the rules read off a change's text: keyword families, and the page's kind and size.

Each signal is one reason a change matters (see ``classifiers.fact_signals.Signal``);
``classifiers.rules`` picks the strongest of these and the fact signals.
"""

from __future__ import annotations

import re

from classifiers.fact_signals import Signal, fact_signals
from classifiers.keywords import ADD_ON, CONTACT_EMAIL, FAMILIES, FAMILY_BY_NAME, POSTAL_ADDRESS, Family
from classifiers.text import Substance, has_money, headline_edit, normalise, quote, similarity
from monitor.records import BlockChange, BlockKind, Category, Change, PageKind, Severity

S, C, K = Severity, Category, PageKind

__all__ = ["Signal", "fact_signals", "family_hits", "family_signals", "page_signal"]


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
    if change.page_kind is K.BLOG:
        # a post's body tells stories ("how we launched the beta..."); only a title announces
        titles = " / ".join(b.after or "" for b in sub.added + sub.edited if b.kind is BlockKind.HEADING)
        for name in ("launch", "beta"):
            if name in hits and not FAMILY_BY_NAME[name].find(titles):
                del hits[name]
    if any(_is_badge(b) for b in sub.added) and "launch" not in ignored:
        hits.setdefault("launch", []).append("New")
    return hits


_BADGE_WORDS = r"(?:new|neu|neue|neues|nouveau|nouvelle|nuevo|nueva|nuovo|nuova|nieuw|novo|nova)"
_BADGE_ALONE = re.compile(rf"^{_BADGE_WORDS}!?$", re.IGNORECASE)
_BADGE_COLON = re.compile(rf"^{_BADGE_WORDS}\s?:", re.IGNORECASE)
_BADGE_SUFFIX = re.compile(rf"\s{_BADGE_WORDS}$", re.IGNORECASE)


def _is_badge(block: BlockChange) -> bool:
    # a "New" label on its own, "New: ..." or a heading wearing the label at its end; not a
    # heading that merely starts with the word ("New York office")
    text = (block.after or "").strip()
    if _BADGE_ALONE.match(text) or _BADGE_COLON.match(text):
        return True
    return block.kind is BlockKind.HEADING and bool(_BADGE_SUFFIX.search(text))


def family_signals(change: Change, sub: Substance, hits: dict[str, list[str]]) -> list[Signal]:
    out: list[Signal] = []
    for family in FAMILIES:
        if family.name not in hits:
            continue
        severity = family.severity
        if family.name == "major-integration" and "beta" in hits:
            severity = S.MEDIUM  # an integration in beta is not yet a major one
        if family.name == "launch" and change.page_kind in (K.DOCS, K.INTEGRATIONS):
            severity = S.MEDIUM  # every new SDK row or integration card wears a "New" badge
        if family.name == "beta" and "launch" in hits:
            continue  # a launch in beta is still a launch
        category = family.category
        if change.page_kind is K.INTEGRATIONS and category is C.PRODUCT:
            category = C.PARTNERSHIPS  # what launches on an integrations page is an integration
        reason = _FAMILY_REASON.get(family.name, family.name.replace("-", " "))
        evidence = _evidence_for(family, sub)
        out.append(Signal(severity, category, reason, evidence, 0.75, family.name))
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
    requantified = [b for b in sub.edited if _only_numbers_differ(b.before or "", b.after or "")]
    if kind is K.PRICING and requantified:
        quotes = tuple(quote(b.after or "") for b in requantified[:2])
        if any(_FREE.search(f"{b.before} {b.after}") for b in requantified):
            # more (or less) for free is a price change for everyone on usage pricing
            return Signal(S.CRITICAL, C.PRICING, "the free allowance changed", quotes, 0.6)
        return Signal(S.HIGH, C.PRICING, "a plan's included amounts changed", quotes, 0.55)
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
        # a message is a sentence, not a section label: only those can rewrite the promise
        messages = [b for b in sub.edited if len((b.after or "").split()) >= 6]
        mean_sim = sum(similarity(b.before or "", b.after or "") for b in messages) / len(messages) if messages else 1.0
        if kind is K.PRODUCT and grown >= 8:
            return Signal(S.MEDIUM, C.PRODUCT, "a product description gained a capability", evidence, 0.5)
        if kind is K.HOMEPAGE and mean_sim < 0.35:
            return Signal(S.HIGH, C.POSITIONING, "the main message was rewritten", evidence, 0.5)
        return Signal(S.LOW, low_cat, "wording changed, same meaning", evidence, 0.55)
    if kind is K.PRICING:
        plan_signal = _plan_cards(sub, evidence)
        if plan_signal is not None:
            return plan_signal
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
        # no job facts were read: count the entries that look like postings
        postings = [b for b in sub.added if b.kind in _ENTRY_KINDS and len(b.text.split()) <= 14]
        if len(postings) >= 3:
            return Signal(S.MEDIUM, C.HIRING, f"a hiring push: {len(postings)} new entries", evidence, 0.45)
        return Signal(S.LOW, C.HIRING, "the careers page changed", evidence, 0.5)
    if kind is K.INTEGRATIONS:
        if sub.removed and not sub.added:
            return Signal(S.MEDIUM, C.PARTNERSHIPS, "an integration was dropped from the list", evidence, 0.6)
        return Signal(S.MEDIUM, C.PARTNERSHIPS, "the integrations list changed", evidence, 0.6)
    if kind is K.CUSTOMERS:
        if sub.added:
            return Signal(S.MEDIUM, C.CUSTOMERS, "a new customer story appeared", evidence, 0.6)
        if sub.removed and not sub.edited:
            return Signal(S.LOW, C.CUSTOMERS, "a customer was taken off the page", evidence, 0.55)
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
    if not words or len(words) > 4 or text[-1] in ".!?:" or block.kind in (BlockKind.HEADING, BlockKind.BUTTON):
        return False
    if block.kind is BlockKind.LINK and not _LOGO_WALL.search(" ".join(block.path)):
        return False  # a new navigation link is not a customer
    if not all(w[0].isupper() or not w[0].isalpha() for w in words):
        return False
    return not block.path or bool(_LOGO_WALL.search(" ".join(block.path)))


_FREE = re.compile(
    r"(?<!\w)(?:free|included|allowance|kostenlos\w*|inklusive|gratuit\w*|inclus\w*)(?!\w)", re.IGNORECASE
)
_HAS_DIGIT = re.compile(r"\S*\d\S*")


def _only_numbers_differ(before: str, after: str) -> bool:
    """ "1M events" → "5M events": the same words around different amounts."""
    if _HAS_DIGIT.findall(before) == _HAS_DIGIT.findall(after):
        return False
    return normalise(_HAS_DIGIT.sub(" ", before)) == normalise(_HAS_DIGIT.sub(" ", after))


_ENTRY_KINDS = frozenset({BlockKind.LIST_ITEM, BlockKind.LINK, BlockKind.TABLE_ROW, BlockKind.HEADING})


def _plan_cards(sub: Substance, evidence: tuple[str, ...]) -> Signal | None:
    """Without plan facts: a heading that came or went with a price under it is a plan."""

    def priced(blocks: tuple[BlockChange, ...], side: str) -> list[tuple[str, tuple[str, ...]]]:
        cards = []
        for block in blocks:
            text = getattr(block, side) or ""
            if block.kind is BlockKind.HEADING and len(text.split()) <= 4:
                under = [getattr(b, side) or "" for b in blocks if b.path and b.path[-1] == text]
                money = tuple(sorted(m for t in under for m in _money(t)))
                if money:
                    cards.append((text, money))
        return cards

    came, went = priced(sub.added, "after"), priced(sub.removed, "before")
    if not came and not went:
        return None
    if came and went and sorted(m for _, m in came) == sorted(m for _, m in went):
        return Signal(S.MEDIUM, C.PRICING, "a plan was renamed, prices unchanged", evidence, 0.5)
    what = "a plan was added" if came and not went else "a plan was removed" if went else "plans changed"
    return Signal(S.CRITICAL, C.PRICING, what, evidence, 0.55)
