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
    removed, added = changed_words(before, after)
    if len(removed) != 1 or len(added) != 1:
        return False
    old, new = removed[0].casefold(), added[0].casefold()
    if any(ch.isdigit() for ch in old + new):
        return False
    return SequenceMatcher(None, old, new).ratio() >= 0.8


def is_volatile_edit(before: str, after: str) -> bool:
    """Only dates, years or counters differ, and no money is involved."""
    if _CURRENCY.search(before) or _CURRENCY.search(after):
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

    def added_text(self) -> str:
        return "\n".join(b.after or "" for b in self.added)

    def removed_text(self) -> str:
        return "\n".join(b.before or "" for b in self.removed)

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
    return (
        normalise(before) == normalise(after) or is_volatile_edit(before, after) or is_typo_fix(before, after)
    )


def substance(
    change: Change, *, is_boilerplate: Callable[[BlockChange], bool] = lambda b: False
) -> Substance:
    """Net out moved blocks (same words removed here, added there) and noise-only edits."""
    added = [b for b in change.blocks if b.op is BlockOp.ADDED and b.after]
    removed = [b for b in change.blocks if b.op is BlockOp.REMOVED and b.before]
    edited = [b for b in change.blocks if b.op is BlockOp.MODIFIED]
    # a text both removed and added (or split over lines) moved or was re-wrapped
    add_counts = Counter(normalise(b.after or "") for b in added)
    rem_counts = Counter(normalise(b.before or "") for b in removed)
    moved = add_counts & rem_counts
    kept_added, kept_removed = [], []
    for block in added:
        key = normalise(block.after or "")
        if moved[key] > 0:
            moved[key] -= 1
            continue
        kept_added.append(block)
    moved = add_counts & rem_counts
    for block in removed:
        key = normalise(block.before or "")
        if moved[key] > 0:
            moved[key] -= 1
            continue
        kept_removed.append(block)
    # the same words re-wrapped into different blocks
    joined_added = normalise(" ".join(b.after or "" for b in kept_added))
    joined_removed = normalise(" ".join(b.before or "" for b in kept_removed))
    if kept_added and kept_removed and joined_added == joined_removed:
        kept_added, kept_removed = [], []
    real_edits = [b for b in edited if not _is_noise_edit(b)]
    noise_count = len(change.blocks) - len(kept_added) - len(kept_removed) - len(real_edits)
    kept_added = [b for b in kept_added if not is_boilerplate(b)]
    kept_removed = [b for b in kept_removed if not is_boilerplate(b)]
    real_edits = [b for b in real_edits if not is_boilerplate(b)]
    return Substance(tuple(kept_added), tuple(kept_removed), tuple(real_edits), noise_count)


def headline_edit(sub: Substance) -> BlockChange | None:
    """A top heading rewritten (not just retouched): the page's promise changed."""
    for block in sub.edited:
        if block.kind is BlockKind.HEADING and len(block.path) <= 1:
            if similarity(block.before or "", block.after or "") < 0.7:
                return block
    heads_added = [b for b in sub.added if b.kind is BlockKind.HEADING and len(b.path) <= 1]
    heads_removed = [b for b in sub.removed if b.kind is BlockKind.HEADING and len(b.path) <= 1]
    if heads_added and heads_removed:
        return heads_added[0]
    return None
