"""Structured facts read off a page's blocks, and their differences in plain words. Pure.

    extract_facts(blocks, kind=...) -> tuple[Fact, ...]
    diff_facts(before, after)       -> tuple[FactChange, ...]

Facts are read from blocks, not from markup, so they survive re-skins: prices (plan, period,
amount), plans, which plan has which feature (comparison tables and plan cards), open jobs
(title, team, location) and dated entries (changelog, press, legal "last updated").
"""

from __future__ import annotations

import re
from bisect import bisect_right

from monitor.normalize import comparison_key, find_dates, normalize_dates, normalize_numbers, readable, strip_noise
from monitor.records import Block, BlockKind, Fact, FactChange, PageKind

_AMOUNT = re.compile(r"(?:[$€£¥]\s?\d[\d,.']*(?:\s?[kKmM]\b)?|\d[\d,.']*\s?(?:€|\$|£|EUR\b|USD\b|GBP\b))")
_CUSTOM_PRICE = re.compile(
    r"^(?:custom|contact (?:us|sales)|let's talk|individuell|auf anfrage|sur devis|on request)\b", re.I
)
_MONTHLY = re.compile(r"month|/\s?mo\b|\bmo\.|monat|mois|mensuel", re.I)
_ANNUAL = re.compile(r"year|annual|/\s?yr\b|jahr|jährlich|\ban\b|annuel", re.I)
_NOT_A_PLAN = re.compile(r"\b(?:plans?|pricing|prices|compare|preise|tarifs?|faq|questions?|fragen)\b", re.I)
_PRICE_ROW = re.compile(r"price|preis|prix|cost|kosten|tarif", re.I)
_YES = re.compile(r"^(?:✓|✔|✅|yes|included|ja|oui|inklusive|inclus)$", re.I)
_NO = re.compile(r"^(?:—|–|-|✗|✕|×|no|nein|non|not included|)$", re.I)
# role words as job titles write them (capitalised): "lead to conversion" is not a job
_ROLE = re.compile(
    r"\b(?:Engineer|Developer|Manager|Designer|Executive|Representative|Lead|Director|Head|Analyst|"
    r"Scientist|Specialist|Architect|Counsel|Recruiter|Marketer|Writer|Partner|Consultant|Coordinator|"
    r"Administrator|Officer|VP|Intern|AE|SDR|BDR|CSM|Strategist|Advocate|Researcher|Editor|Accountant|"
    r"Controller|Entwickler\w*|Ingenieur\w*|Berater\w*|Leiter\w*|Développeu\w*|Responsable|Chef)\b"
)
_EMPLOYMENT_ANYWHERE = re.compile(
    r"\b(?:full[- ]time|part[- ]time|contract|internship|temporary|permanent|vollzeit|teilzeit)\b", re.I
)
_DEPARTMENT_IN_TEXT = re.compile(
    r"\b(?:Engineering|Sales|Marketing|Product|Design|Customer Success|Customer Experience|Support|"
    r"Operations|Finance|People|Legal|Data|Security|G&A|Recruiting|Partnerships|IT|Revenue|Growth|"
    r"Research|Solutions|Professional Services|Business Development|Healthcare|Warehouse)\b"
)
_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_SEGMENT = re.compile(r"\s+[·|•]\s+|\s+[—–]\s+")
# every date form has one, and removing noise never joins digits into one (it leaves a mark)
_YEAR = re.compile(r"\d{4}")
# reading an enum member off its class goes through a descriptor (about 75 ns in Python 3.11, as
# much as the rest of a loop's test): the per-block loops read these same members instead
_PARAGRAPH, _LIST_ITEM, _TABLE_ROW, _HEADING = (
    BlockKind.PARAGRAPH,
    BlockKind.LIST_ITEM,
    BlockKind.TABLE_ROW,
    BlockKind.HEADING,
)
_CARD_KINDS = (BlockKind.PARAGRAPH, BlockKind.OTHER)
_JOB_KINDS = (BlockKind.LIST_ITEM, BlockKind.LINK, BlockKind.TABLE_ROW, BlockKind.PARAGRAPH)


def _with_year(blocks: tuple[Block, ...]) -> set[int]:
    """Indexes of the blocks with four digits in a row, from one scan over all their texts.

    A match cannot span the newline between two texts, and each text's first match starts
    inside it, so every block with a year is found.
    """
    starts = []
    offset = 0
    for block in blocks:
        starts.append(offset)
        offset += len(block.text) + 1
    joined = "\n".join(block.text for block in blocks)
    return {bisect_right(starts, m.start()) - 1 for m in _YEAR.finditer(joined)}


def _more_words_than(text: str, limit: int) -> bool:
    """``len(text.split()) > limit`` without splitting the whole of a long text."""
    return len(text.split(None, limit)) > limit


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
    could_be_plan: dict[str, bool] = {}  # blocks share headings: judge each heading once
    for block in blocks:  # plan cards: a short heading with a price under it
        if block.kind not in _CARD_KINDS or not block.path:
            continue
        plan = block.path[-1]
        judged = could_be_plan.get(plan)
        if judged is None:
            judged = could_be_plan[plan] = bool(plan) and len(plan.split()) <= 4 and not _NOT_A_PLAN.search(plan)
        if not judged:
            continue
        if len(block.text.split(None, 14)) > 14:  # _more_words_than, inline: this runs for most blocks
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
        if block.kind is _LIST_ITEM and block.path and block.path[-1] in plans:
            card_features.setdefault(block.text, []).append(block.path[-1])
        elif block.kind is _TABLE_ROW and block.text.count(" | ") >= 2:  # fewer cells: no facts
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
        if block.kind not in _JOB_KINDS:
            continue
        if _more_words_than(block.text, 24):
            continue
        job = _parse_job(block)
        if job is not None:
            facts.append(Fact("job", job[0], job[1], "open"))
    return facts


def _parse_job(block: Block) -> tuple[str, str] | None:
    """(title, "team · location") of a job row, whatever separators (or none) the board uses."""
    text = block.text
    if block.kind is _TABLE_ROW:  # "Title | Team: Sales | Location: Berlin"
        head, pairs = _split_row(text)
        text = " · ".join([head, *(v for _, v in pairs)])
    text = _EMPLOYMENT_ANYWHERE.sub(" ", text)
    segments = [s.strip(" ,") for s in _SEGMENT.split(text) if s.strip(" ,")]
    if not segments or not _ROLE.search(segments[0]):
        return None
    flat = " ".join(segments)
    team, title, rest = "", segments[0], " · ".join(segments[1:])
    for match in reversed(list(_DEPARTMENT_IN_TEXT.finditer(flat))):
        before = flat[: match.start()].strip(" ,")
        if before and _ROLE.search(before) and len(before.split()) <= 10:
            team, title, rest = match.group(0), before, flat[match.end() :].strip(" ,·")
            break
    if len(title.split()) > 10:
        return None
    if not team and block.path and len(block.path[-1].split()) <= 3:
        team = block.path[-1]
    where = " · ".join(x for x in (team, rest) if x)
    return title, where


# --- dated entries ------------------------------------------------------------------------------


def _entry_facts(blocks: tuple[Block, ...]) -> list[Fact]:
    facts = []
    used: set[int] = set()  # date lines already read as the date of a heading
    dated: dict[int, str] = {}  # heading index -> its date
    with_year = _with_year(blocks)  # every date form has a four-digit year
    for k in sorted(with_year):
        block = blocks[k]
        if block.kind is _HEADING:
            dates = find_dates(strip_noise(block.text))  # the date of "now" in a timestamp is no entry
            if dates:
                dated.setdefault(k, dates[0])
            continue
        if _more_words_than(block.text, 8):
            continue
        dates = find_dates(strip_noise(block.text))
        if not dates:
            continue
        # a date line belongs to the heading right after it, else to the heading just above it
        for h in (k + 1, k - 1, k - 2):
            if 0 <= h < len(blocks) and blocks[h].kind is _HEADING and h not in dated:
                dated[h] = dates[0]
                used.add(k)
                break
    for h in sorted(dated):
        facts.append(Fact("entry", readable(strip_noise(blocks[h].text)), "date", dated[h]))
    for i in sorted(with_year):  # entry lines: "Title · 12 March 2026", "2026-03-12 — Title"
        block = blocks[i]
        if block.kind is _HEADING or i in used or _more_words_than(block.text, 30):
            continue
        if block.kind is _PARAGRAPH and not _SEGMENT.search(block.text):
            continue  # prose that mentions a date is not an entry
        line = normalize_dates(strip_noise(block.text)).strip(" ·|—–-:,")
        found: list[str] = _ISO_DATE.findall(line)
        if len(found) != 1 or not (line.startswith(found[0]) or line.endswith(found[0])):
            continue
        title = readable(_SEGMENT.sub(" ", _ISO_DATE.sub("", line)).strip(" ·|—–-:,"))
        if len(title.split()) >= 2:
            facts.append(Fact("entry", title, "date", found[0]))
    return facts


# --- differences --------------------------------------------------------------------------------


def diff_facts(before: tuple[Fact, ...], after: tuple[Fact, ...]) -> tuple[FactChange, ...]:
    """What changed between two fact sets, with aggregate lines for hiring pushes."""
    old = {_fact_key(f): f for f in before}
    new = {_fact_key(f): f for f in after}
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


def _fact_key(fact: Fact) -> tuple[str, str, str]:
    return fact.kind, comparison_key(fact.subject), comparison_key(fact.attribute)


def _job_summaries(changes: list[FactChange]) -> tuple[FactChange, ...]:
    """ "+6 jobs in Sales, EMEA": a hiring push is one line, besides the roles themselves."""
    out = []
    for sign, side in (("+", "added"), ("−", "removed")):
        by_team: dict[str, list[str]] = {}
        for c in changes:
            if c.kind == "job" and (c.before is None if side == "added" else c.after is None):
                team, _, place = c.attribute.partition(" · ")
                if team and not place and not _DEPARTMENT_IN_TEXT.fullmatch(team):
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
