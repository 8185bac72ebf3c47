"""Structured facts read off a page's blocks, and their differences in plain words. Pure.

    extract_facts(blocks, kind=...) -> tuple[Fact, ...]
    diff_facts(before, after)       -> tuple[FactChange, ...]

Facts are read from blocks, not from markup, so they survive re-skins: prices (plan, period,
amount), plans, which plan has which feature (comparison tables and plan cards), open jobs
(title, team, location) and dated entries (changelog, press, legal "last updated").
"""

from __future__ import annotations

import re

from monitor.normalize import comparison_key, find_dates, normalize_dates, normalize_numbers
from monitor.records import Block, BlockKind, Fact, FactChange, PageKind

_AMOUNT = re.compile(r"(?:[$€£¥]\s?\d[\d,.']*(?:\s?[kKmM]\b)?|\d[\d,.']*\s?(?:€|\$|£|EUR\b|USD\b|GBP\b))")
_CUSTOM_PRICE = re.compile(
    r"^(?:custom|contact (?:us|sales)|let's talk|individuell|auf anfrage|sur devis|on request)\b", re.I
)
_MONTHLY = re.compile(r"month|/\s?mo\b|\bmo\.|monat|mois|mensuel", re.I)
_ANNUAL = re.compile(r"year|annual|/\s?yr\b|jahr|jährlich|\ban\b|annuel", re.I)
_PRICE_ROW = re.compile(r"price|preis|prix|cost|kosten|tarif", re.I)
_YES = re.compile(r"^(?:✓|✔|✅|yes|included|ja|oui|inklusive|inclus)$", re.I)
_NO = re.compile(r"^(?:—|–|-|✗|✕|×|no|nein|non|not included|)$", re.I)
_ROLE = re.compile(
    r"\b(?:engineer|developer|manager|designer|executive|representative|lead|director|head|analyst|"
    r"scientist|specialist|architect|counsel|recruiter|marketer|writer|partner|consultant|coordinator|"
    r"administrator|officer|vp|intern|ae|sdr|bdr|csm|strategist|advocate|researcher|editor|accountant|"
    r"controller|entwickler\w*|ingenieur\w*|berater\w*|leiter\w*|développeu\w*|responsable|chef)\b",
    re.I,
)
_DEPARTMENTS = re.compile(
    r"^(?:engineering|sales|marketing|product|design|customer success|customer experience|support|"
    r"operations|ops|finance|people|hr|legal|data|security|g&a|recruiting|partnerships|it|"
    r"revenue|growth|research|success|solutions|professional services|business development)$",
    re.I,
)
_EMPLOYMENT = re.compile(r"^(?:full[- ]time|part[- ]time|contract|internship|temporary|permanent|vollzeit)$", re.I)
_SEGMENT = re.compile(r"\s+[·|•]\s+|\s+[—–]\s+")


def extract_facts(blocks: tuple[Block, ...], *, kind: PageKind) -> tuple[Fact, ...]:
    facts: dict[tuple[str, str, str], Fact] = {}

    def add(fact: Fact) -> None:
        subject, n = fact.subject, 2
        while fact.key in facts:  # two open roles with one title are two facts
            if fact.kind != "job":
                return  # the first statement of a price or a feature wins
            fact = Fact(fact.kind, f"{subject} ({n})", fact.attribute, fact.value)
            n += 1
        facts[fact.key] = fact

    if kind in (PageKind.PRICING, PageKind.PRODUCT, PageKind.HOMEPAGE, PageKind.OTHER):
        for fact in _pricing_facts(blocks):
            add(fact)
    if kind is PageKind.CAREERS:
        for fact in _job_facts(blocks):
            add(fact)
    if kind in (PageKind.CHANGELOG, PageKind.BLOG, PageKind.LEGAL, PageKind.DOCS, PageKind.OTHER):
        for fact in _entry_facts(blocks):
            add(fact)
    return tuple(facts.values())


# --- pricing ------------------------------------------------------------------------------------


def _period(text: str) -> str:
    if _ANNUAL.search(text):
        return "annual"
    if _MONTHLY.search(text):
        return "monthly"
    return "price"


def _price_of(text: str) -> str | None:
    match = _AMOUNT.search(text)
    if match:
        return normalize_numbers(match.group(0).replace(" ", ""))
    if _CUSTOM_PRICE.match(text) and len(text.split()) <= 5:
        return "Custom"
    return None


def _split_row(text: str) -> tuple[str, list[tuple[str, str]]]:
    head, *cells = text.split(" | ")
    pairs = []
    for cell in cells:
        name, sep, value = cell.partition(": ")
        if not sep:
            return head, []
        pairs.append((name, value))
    return head, pairs


def _join_plans(plans: list[str]) -> str:
    if not plans:
        return "none"
    return plans[0] if len(plans) == 1 else ", ".join(plans[:-1]) + " and " + plans[-1]


def _pricing_facts(blocks: tuple[Block, ...]) -> list[Fact]:
    facts: list[Fact] = []
    plans: list[str] = []
    seen_price: set[tuple[str, str]] = set()
    for block in blocks:  # plan cards: a short heading with a price under it
        plan = block.path[-1] if block.path else ""
        if not plan or len(plan.split()) > 4 or block.kind not in (BlockKind.PARAGRAPH, BlockKind.OTHER):
            continue
        if len(block.text.split()) > 14:
            continue
        price = _price_of(block.text)
        if price is None:
            continue
        if plan not in plans:
            plans.append(plan)
            facts.append(Fact("plan", plan, "", "offered"))
        period = _period(block.text)
        if (plan, period) not in seen_price:
            seen_price.add((plan, period))
            facts.append(Fact("price", plan, period, price))
    card_features: dict[str, list[str]] = {}
    for block in blocks:
        if block.kind is BlockKind.LIST_ITEM and block.path and block.path[-1] in plans:
            card_features.setdefault(block.text, []).append(block.path[-1])
        elif block.kind is BlockKind.TABLE_ROW:
            facts.extend(_row_facts(block, seen_price))
    table_features = {f.subject for f in facts if f.kind == "feature"}
    for feature, owners in card_features.items():
        if feature not in table_features:
            facts.append(Fact("feature", feature, "plans", _join_plans(owners)))
    return facts


def _row_facts(block: Block, seen_price: set[tuple[str, str]]) -> list[Fact]:
    head, pairs = _split_row(block.text)
    if len(pairs) < 2:
        return []
    values = [v.strip() for _, v in pairs]
    if all(_YES.match(v) or _NO.match(v) for v in values):
        included = [name for name, v in pairs if _YES.match(v.strip())]
        return [Fact("feature", head, "plans", _join_plans(included))]
    if _PRICE_ROW.search(head):
        out = []
        for name, value in pairs:
            price = _price_of(value)
            period = _period(head)
            if price is not None and (name, period) not in seen_price:
                seen_price.add((name, period))
                out.append(Fact("price", name, period, price))
        return out
    return [Fact("limit", head, name, value) for name, value in pairs]


# --- jobs ---------------------------------------------------------------------------------------


def _job_facts(blocks: tuple[Block, ...]) -> list[Fact]:
    facts = []
    for block in blocks:
        if block.kind not in (BlockKind.LIST_ITEM, BlockKind.LINK, BlockKind.TABLE_ROW, BlockKind.PARAGRAPH):
            continue
        if len(block.text.split()) > 24:
            continue
        segments = [s.strip() for s in _SEGMENT.split(block.text) if s.strip()]
        segments = [s.partition(": ")[2] if ": " in s and block.kind is BlockKind.TABLE_ROW else s for s in segments]
        title = segments[0] if segments else ""
        if not _ROLE.search(title) or len(title.split()) > 10:
            continue
        team = ""
        words = title.rsplit(" ", 2)
        for cut in (2, 1):  # "Senior Engineer, Ingestion Engineering": the team ran into the title
            tail = " ".join(words[-cut:]) if len(words) > cut else ""
            if tail and _DEPARTMENTS.match(tail):
                team, title = tail, title[: -len(tail)].strip()
                break
        places = []
        for segment in segments[1:]:
            if not team and _DEPARTMENTS.match(segment):
                team = segment
            elif not _EMPLOYMENT.match(segment) and not _ROLE.search(segment):
                places.append(segment)
        if not team and block.path:
            team = block.path[-1] if len(block.path[-1].split()) <= 3 else ""
        where = " · ".join(x for x in (team, ", ".join(places)) if x)
        facts.append(Fact("job", title, where, "open"))
    return facts


# --- dated entries ------------------------------------------------------------------------------


def _entry_facts(blocks: tuple[Block, ...]) -> list[Fact]:
    facts = []
    for i, block in enumerate(blocks):
        dates = find_dates(block.text)
        if block.kind is BlockKind.HEADING:
            if dates:
                facts.append(Fact("entry", block.text, "date", dates[0]))
                continue
            near = [b for b in blocks[max(0, i - 1) : i] + blocks[i + 1 : i + 3] if b.kind is not BlockKind.HEADING]
            for other in near:
                other_dates = find_dates(other.text)
                if other_dates and len(other.text.split()) <= 8:
                    facts.append(Fact("entry", block.text, "date", other_dates[0]))
                    break
        elif len(dates) == 1 and len(block.text.split()) <= 30:
            title = _SEGMENT.sub(" ", normalize_dates(block.text))
            title = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", "", title).strip(" ·|—–-:,")
            if len(title.split()) >= 2:
                facts.append(Fact("entry", title, "date", dates[0]))
    return facts


# --- differences --------------------------------------------------------------------------------


def diff_facts(before: tuple[Fact, ...], after: tuple[Fact, ...]) -> tuple[FactChange, ...]:
    """What changed between two fact sets, with aggregate lines for hiring pushes."""
    old = {f.key: f for f in before}
    new = {f.key: f for f in after}
    changes: list[FactChange] = []
    for key, fact in new.items():
        was = old.get(key)
        if was is None:
            changes.append(FactChange(fact.kind, fact.subject, fact.attribute, None, fact.value))
        elif comparison_key(was.value) != comparison_key(fact.value):
            changes.append(FactChange(fact.kind, fact.subject, fact.attribute, was.value, fact.value))
    for key, fact in old.items():
        if key not in new:
            changes.append(FactChange(fact.kind, fact.subject, fact.attribute, fact.value, None))
    return tuple(changes) + _job_summaries(changes)


def _job_summaries(changes: list[FactChange]) -> tuple[FactChange, ...]:
    """ "+6 jobs in Sales, EMEA": a hiring push is one line, besides the roles themselves."""
    out = []
    for sign, side in (("+", "added"), ("−", "removed")):
        by_team: dict[str, list[str]] = {}
        for c in changes:
            if c.kind == "job" and (c.before is None if side == "added" else c.after is None):
                team, _, place = c.attribute.partition(" · ")
                if team and not place and not _DEPARTMENTS.match(team):
                    team, place = "", team
                by_team.setdefault(team, []).append(place)
        for team, places in by_team.items():
            if len(places) < 2:
                continue
            common = places[0] if len(set(places)) == 1 and places[0] else ""
            where = ", ".join(x for x in (team, common) if x) or "several teams"
            out.append(
                FactChange("summary", team or common, f"jobs {side}", None, f"{sign}{len(places)} jobs in {where}")
            )
    return tuple(out)
