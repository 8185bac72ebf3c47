"""Signals read off a change's fact differences: prices, plans, tier moves, limits and jobs.

Facts are the most certain evidence a change carries, so these signals are trusted most.
A ``Signal`` is one reason a change matters, with a grade, a category, the verbatim
evidence behind it and how much the rules trust it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from classifiers.keywords import ADD_ON
from classifiers.text import changed_words, normalise, similarity
from monitor.records import Category, FactChange, Severity

S, C = Severity, Category


@dataclass(frozen=True, slots=True)
class Signal:
    severity: Severity
    category: Category
    reason: str  # plain words, the start of the summary
    evidence: tuple[str, ...] = ()
    confidence: float = 0.6
    kind: str = ""  # what read it: a keyword family's name, or a fact rule's ("feature-moved")


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
        out.append(Signal(S.HIGH, C.PRICING, "a feature moved between plans", evidence, 0.85, "feature-moved"))
    elif not plans and any(f.before is None or f.after is None for f in by_kind.get("feature", [])):
        listed = tuple(f.describe() for f in by_kind["feature"] if f.before is None or f.after is None)
        out.append(Signal(S.MEDIUM, C.PRODUCT, "the plan comparison lists a feature change", listed, 0.6))

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
