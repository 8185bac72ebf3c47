"""Pure text helpers for the rules classifier: what of a change is substance, what is noise.

A diff reports every block that differs; people only care about some. These helpers net out
moved blocks, drop edits that change only a date, a counter or one misspelt word, and cut
verbatim quotes for evidence. They read competitor text but never act on it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from monitor.records import BlockChange, BlockKind, BlockOp, Change

_WORD = re.compile(r"[\w$€£¥%.,:/@'’+-]+", re.UNICODE)
_PUNCT = re.compile(r"[^\w$€£¥%@]+", re.UNICODE)
_CURRENCY = re.compile(r"[$€£¥]|(?<!\w)(?:usd|eur|gbp|chf)(?!\w)", re.IGNORECASE)
_MONTHS = (
    "jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|févr(?:ier)?|mar(?:ch|s)?|märz|apr(?:il)?|avr(?:il)?|may|mai|"
    "jun(?:e|i)?|juin|jul(?:y|i)?|juil(?:let)?|aug(?:ust)?|août|sep(?:t|tember)?|oct(?:ober)?|okt(?:ober)?|"
    "nov(?:ember)?|dec(?:ember)?|dez(?:ember)?|déc(?:embre)?"
)
# Dates, years, counters ("2.1k", "(16)") and relative times: they move on their own.
_VOLATILE = re.compile(
    rf"(?<!\w)(?:\d[\d.,:]*k?|{_MONTHS}|\d+(?:st|nd|rd|th)|minutes?|hours?|days?|ago)(?!\w)",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Case, spacing and punctuation folded away: what a reader would call the same words."""
    folded = " ".join(_PUNCT.sub(" ", text.casefold()).split())
    # a cell that is only a symbol (✓, —) is content in a comparison table
    return folded or " ".join(text.split())


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def similarity(before: str, after: str) -> float:
    """Word-level likeness of two texts, 0..1."""
    return SequenceMatcher(None, normalise(before).split(), normalise(after).split(), autojunk=False).ratio()


def changed_words(before: str, after: str) -> tuple[list[str], list[str]]:
    """The words only in ``before`` and the words only in ``after``, by a word-level diff."""
    old, new = words(before), words(after)
    removed: list[str] = []
    added: list[str] = []
    matcher = SequenceMatcher(None, [w.casefold() for w in old], [w.casefold() for w in new], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            removed += old[i1:i2]
            added += new[j1:j2]
    return removed, added


def is_typo_fix(before: str, after: str) -> bool:
    """One word respelt, letters nearly the same, no number touched: a spelling fix."""
    old_words, new_words = words(before), words(after)
    if len(old_words) != len(new_words):
        return False  # a respelt word keeps the word count; cheap to rule out first
    differing = [(o, n) for o, n in zip(old_words, new_words, strict=True) if o.casefold() != n.casefold()]
    if len(differing) != 1:
        return False
    old, new = differing[0][0].casefold(), differing[0][1].casefold()
    if any(ch.isdigit() for ch in old + new):
        return False
    return SequenceMatcher(None, old, new).ratio() >= 0.8


# A number with a unit is a term (a retention period, a limit), not a counter.
_QUANTITY = re.compile(
    r"\d[\d.,]*\s?(?:%|months?|mois|monate?n?|years?|ans|jahren?|weeks?|semaines?|wochen|days?|jours|tagen?"
    r"|gb|tb|seats?|users?|events?|sessions?|websites?|projects?|sièges|plätze)(?!\w)",
    re.IGNORECASE,
)


def is_volatile_edit(before: str, after: str) -> bool:
    """Only dates, years or counters differ; no money and no quantity (``25 months``) involved."""
    if _CURRENCY.search(before) or _CURRENCY.search(after):
        return False
    if _QUANTITY.findall(before) != _QUANTITY.findall(after):
        return False
    return normalise(_VOLATILE.sub(" ", before)) == normalise(_VOLATILE.sub(" ", after))


def has_money(text: str) -> bool:
    return bool(_CURRENCY.search(text))


def quote(text: str, *, limit: int = 140) -> str:
    """A verbatim piece of ``text`` no longer than ``limit``, cut at a word boundary."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:")


@dataclass(frozen=True, slots=True)
class Substance:
    """What a change really says once moves and noise are netted out."""

    added: tuple[BlockChange, ...]  # blocks only in the new version (incl. modified ones)
    removed: tuple[BlockChange, ...]  # blocks only in the old version
    edited: tuple[BlockChange, ...]  # modified blocks whose edit is more than noise
    noise: int  # how many block changes were judged noise

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.edited)

    def new_words_text(self) -> str:
        """Text new in this version: added blocks plus the new words of edited ones."""
        parts = [b.after or "" for b in self.added]
        parts += [" ".join(changed_words(b.before or "", b.after or "")[1]) for b in self.edited]
        return "\n".join(parts)

    def full_new_text(self) -> str:
        return "\n".join(b.after or "" for b in self.added + self.edited)

    def full_old_text(self) -> str:
        return "\n".join(b.before or "" for b in self.removed + self.edited)

    def old_words_text(self) -> str:
        parts = [b.before or "" for b in self.removed]
        parts += [" ".join(changed_words(b.before or "", b.after or "")[0]) for b in self.edited]
        return "\n".join(parts)


def _is_noise_edit(block: BlockChange) -> bool:
    before, after = block.before or "", block.after or ""
    return normalise(before) == normalise(after) or is_volatile_edit(before, after) or is_typo_fix(before, after)


def text_key(text: str) -> str:
    """What identifies a text across versions: its words without dates and counters."""
    if has_money(text) or _QUANTITY.search(text):
        return normalise(text)
    return normalise(_VOLATILE.sub(" ", text))


def substance(change: Change, *, is_boilerplate: Callable[[BlockChange], bool] = lambda b: False) -> Substance:
    """Net out moved blocks (the same text removed here, added there) and noise-only edits."""
    blocks = [b for b in change.blocks if not is_boilerplate(b)]
    old_side = Counter(text_key(b.before) for b in blocks if b.before and b.op is not BlockOp.ADDED)
    new_side = Counter(text_key(b.after) for b in blocks if b.after and b.op is not BlockOp.REMOVED)
    old_budget, new_budget = old_side & new_side, old_side & new_side
    old_budget[""] = new_budget[""] = 10**9  # a block that is only a date or a counter says nothing

    def moved_from(text: str) -> bool:  # this old text still exists in the new version
        key = text_key(text)
        if old_budget[key] > 0:
            old_budget[key] -= 1
            return True
        return False

    def moved_to(text: str) -> bool:  # this new text already existed in the old version
        key = text_key(text)
        if new_budget[key] > 0:
            new_budget[key] -= 1
            return True
        return False

    added: list[BlockChange] = []
    removed: list[BlockChange] = []
    edited: list[BlockChange] = []
    for block in blocks:
        if block.op is BlockOp.ADDED and block.after:
            if not moved_to(block.after):
                added.append(block)
        elif block.op is BlockOp.REMOVED and block.before:
            if not moved_from(block.before):
                removed.append(block)
        elif block.op is BlockOp.MODIFIED and not _is_noise_edit(block):
            gone, came = moved_from(block.before or ""), moved_to(block.after or "")
            if gone and not came:
                added.append(BlockChange(BlockOp.ADDED, block.kind, block.path, None, block.after))
            elif came and not gone:
                removed.append(BlockChange(BlockOp.REMOVED, block.kind, block.path, block.before, None))
            elif not gone and not came:
                edited.append(block)
    # the same words re-wrapped or re-marked-up into different blocks
    old_words = Counter(text_key(" ".join(b.before or "" for b in removed + edited)).split())
    new_words = Counter(text_key(" ".join(b.after or "" for b in added + edited)).split())
    if (added or removed) and old_words == new_words:
        added, removed, edited = [], [], []  # words within one block reordered are still an edit
    noise = len(change.blocks) - len(added) - len(removed) - len(edited)
    return Substance(tuple(added), tuple(removed), tuple(edited), noise)


def headline_edit(sub: Substance) -> BlockChange | None:
    """A top heading rewritten (not just retouched): the page's promise changed."""
    for block in sub.edited:
        if block.kind is BlockKind.HEADING and not block.path:
            if similarity(block.before or "", block.after or "") < 0.7:
                return block
    heads_added = [b for b in sub.added if b.kind is BlockKind.HEADING and not b.path]
    heads_removed = [b for b in sub.removed if b.kind is BlockKind.HEADING and not b.path]
    if heads_added and heads_removed:
        return heads_added[0]
    return None
