"""Staging battle-card updates: a reviewable proposal beside the card, never the card itself.

``stage_card_update`` is pure: from a competitor's graded changes and its card it proposes
edits, each tied to a card section, with its evidence, change ids and grade, and a review
checklist. A fact whose old value is on the card becomes a "replace this line" edit; other
news is appended to the section it belongs to (made if the card lacks it). ``write_proposal``
writes ``<card stem>.proposed.md`` beside the card, keeping a pending proposal's reviewed
edits; ``apply_review`` (in ``responders.card_review``) merges the approved ones.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from monitor.records import CardProposal, Category, ClassifiedChange, Severity
from responders.alerts import clip, describe_block, describe_grade, model_did_not_run
from responders.card_review import (
    EDIT_MARKER,
    EditBlock,
    ReviewOutcome,
    apply_review,
    describe_outcome,
    marker_json,
    parse_proposal,
    review_proposal,
    text_markers,
    write_atomically,
)
from responders.escape import code_fence, code_span, markdown_inline, markdown_url, plain_line

__all__ = ["ReviewOutcome", "apply_review", "describe_outcome", "proposal_path_for", "review_proposal"]
__all__ += ["stage_card_update"]
__all__ += ["load_proposal", "write_proposal"]

MAX_LINE = 300
# card headings that hold each kind of news, best first; the first is used to make a section
SECTIONS: dict[Category, tuple[str, ...]] = {
    Category.PRICING: ("Pricing", "price", "plans", "packaging"),
    Category.PRODUCT: ("Product", "features", "capabilities", "roadmap"),
    Category.POSITIONING: ("Positioning", "messaging", "overview", "pitch"),
    Category.CUSTOMERS: ("Customers", "case stud", "references", "logos"),
    Category.HIRING: ("Company", "hiring", "team"),
    Category.PARTNERSHIPS: ("Partnerships", "partners", "integrations", "ecosystem"),
    Category.CORPORATE: ("Company", "corporate", "funding", "news"),
    Category.LEGAL: ("Legal and compliance", "compliance", "security", "legal", "terms"),
    Category.CONTENT: ("Recent changes", "news", "updates"),
    Category.NONE: ("Recent changes",),
}


def proposal_path_for(card_path: Path) -> Path:
    return card_path.with_name(f"{card_path.stem}.proposed.md")


def card_sections(card_text: str) -> list[str]:
    """The card's "## " section titles, in order."""
    return [line[3:].strip().strip("#").strip() for line in card_text.splitlines() if line.startswith("## ")]


def section_for(category: Category, sections: Sequence[str]) -> str:
    """The card section a category's news belongs in: an existing one if any heading fits."""
    wanted = SECTIONS.get(category, SECTIONS[Category.NONE])
    # then a catch-all section the card keeps for news, before making a new section
    for keyword in (*wanted, "recent changes", "changes", "updates", "news"):
        for title in sections:
            if keyword.casefold() in title.casefold():
                return title
    return wanted[0]


def _edits_for(cc: ClassifiedChange, card_lines: list[str], sections: list[str]) -> list[dict]:
    """Proposed edits for one change: line replacements for known old values, else an append."""
    change, c = cc.change, cc.classification
    edits: list[dict] = []
    unplaced = []
    taken: set[int] = set()
    for fact in change.facts:
        hits = _lines_with(card_lines, fact.before) if fact.before and fact.after else []
        if len(hits) == 1 and hits[0] not in taken:
            i = hits[0]
            taken.add(i)
            replacement = markdown_inline(fact.after or "")
            new = _value_pattern(fact.before or "").sub(_literally(replacement), card_lines[i], count=1)
            edits.append({"op": "replace", "old": card_lines[i], "text": new, "section": _section_of(card_lines, i)})
        else:
            unplaced.append(fact.describe())
    # the grade's own words when the page had no structured facts; else the facts not placed
    items = unplaced if change.facts else list(c.facts) or [c.summary or "a change was detected"]
    if items:
        dated = f"{change.detected_at:%Y-%m-%d}"
        bullets = [f"- {markdown_inline(clip(item, MAX_LINE))} ({dated}, change #{cc.id})" for item in items]
        section = section_for(c.category, sections)
        edits.append({"op": "append", "text": "\n".join(bullets), "section": section})
    return edits


def _value_pattern(value: str) -> re.Pattern[str]:
    # "$49" must not match inside "$490": the value stands alone between non-word characters
    return re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)")


def _literally(text: str) -> Callable[[re.Match[str]], str]:
    # a function, not a template: re.sub would read backslashes in competitor text as group references
    return lambda _match: text


def _lines_with(card_lines: list[str], value: str | None) -> list[int]:
    if not value or len(value.strip()) < 2:
        return []
    pattern = _value_pattern(value)
    return [i for i, line in enumerate(card_lines) if pattern.search(line)]


def _section_of(card_lines: list[str], index: int) -> str:
    for line in reversed(card_lines[:index]):
        if line.startswith("## "):
            return line[3:].strip().strip("#").strip()
    return "(top of the card)"


def _drafted_lines(drafted: str) -> list[str]:
    # model output read the competitor's pages: every line is escaped like page text
    out = []
    for line in drafted.splitlines():
        body = line.strip().lstrip("-*+").strip()
        if body and not body.startswith("#"):
            out.append(f"- {markdown_inline(body)}")
    return out


def stage_card_update(
    *,
    competitor: str,
    card_path: Path,
    card_text: str,
    changes: list[ClassifiedChange],
    drafted: str | None = None,
    min_severity: Severity = Severity.MEDIUM,
    staged_at: datetime | None = None,
) -> CardProposal | None:
    """A proposal of card edits for the changes at or above ``min_severity``; None if none.

    ``drafted`` is optional model-written text for the card; it becomes one more edit,
    marked as drafted, with every change as its evidence. Writes nothing.
    """
    relevant = [
        cc for cc in changes if cc.change.competitor == competitor and cc.classification.severity >= min_severity
    ]
    relevant.sort(key=lambda cc: (-int(cc.classification.severity), cc.change.detected_at, cc.id))
    if not relevant:
        return None
    card_lines = card_text.split("\n")
    sections = card_sections(card_text)
    blocks: list[str] = []
    for cc in relevant:
        for edit in _edits_for(cc, card_lines, sections):
            blocks.append(_render_edit(len(blocks) + 1, edit, [cc]))
    drafted_text = _drafted_lines(drafted) if drafted else []
    if drafted_text:
        home = next((t for t in sections if t.casefold() in ("summary", "overview")), "Summary")
        edit = {"op": "append", "text": "\n".join(drafted_text), "section": home, "drafted": True}
        blocks.append(_render_edit(len(blocks) + 1, edit, relevant))
    ids = tuple(cc.id for cc in relevant)
    header = _render_header(competitor, card_path, card_text, ids, staged_at)
    return CardProposal(
        competitor=competitor,
        card_path=card_path,
        proposal_path=proposal_path_for(card_path),
        change_ids=ids,
        markdown=header + "".join(blocks),
    )


def _render_header(
    competitor: str, card_path: Path, card_text: str, ids: Sequence[int], staged_at: datetime | None
) -> str:
    meta = {
        "competitor": competitor,
        "card": card_path.name,
        "card_sha256": hashlib.sha256(card_text.encode("utf-8")).hexdigest(),
    }
    when = f" · staged {staged_at:%Y-%m-%d %H:%M %Z}".rstrip() if staged_at else ""
    changes = ", ".join(f"#{i}" for i in ids)
    return (
        f"# Battle-card update for {markdown_inline(competitor)}: review\n\n"
        f"<!-- rivalwatch:proposal {marker_json(meta)} -->\n"
        f"Card: {code_span(card_path.name)}{when} · from changes {changes}\n\n"
        "How to review: under each edit, tick exactly one box: **approve**, **edit** (change the text "
        "between the `text` and `end` markers first) or **reject**. Then run `rivalwatch review`. "
        "Edits left unticked stay here for later; nothing reaches the card until it is approved.\n\n"
    )


def _render_edit(number: int, edit: dict, ccs: Sequence[ClassifiedChange]) -> str:
    top = max(ccs, key=lambda cc: cc.classification.severity)
    section = edit["section"]
    action = "replace a line" if edit["op"] == "replace" else "add"
    meta = {"n": number, "op": edit["op"], "section": section, "changes": [cc.id for cc in ccs]}
    if edit["op"] == "replace":
        meta["old"] = edit["old"]
    begin, end = text_markers(number)
    out = [
        f"## Edit {number} · {top.classification.severity.label} · {markdown_inline(section)}: {action}",
        f"<!-- rivalwatch:edit {marker_json(meta)} -->",
        "",
    ]
    if edit.get("drafted"):
        out += ["**Drafted by the model**: check every line against the evidence below.", ""]
    out += ["**Why:**", ""]
    for cc in ccs:
        out += _evidence(cc)
    if edit["op"] == "replace":
        out += ["**Current line on the card:**", "", code_fence(edit["old"], info="markdown"), ""]
    out += ["**Proposed text:**", "", begin, edit["text"], end, ""]
    out += ["- [ ] approve", "- [ ] edit", "- [ ] reject", "", ""]
    return "\n".join(out)


def _evidence(cc: ClassifiedChange) -> list[str]:
    change, c = cc.change, cc.classification
    summary = markdown_inline(clip(c.summary or "a change was detected", MAX_LINE))
    lines = [
        f"- Change #{cc.id}, {c.severity.label} {c.category} on the {change.page_kind} page "
        f"{markdown_url(change.url)} ({change.detected_at:%Y-%m-%d}): {summary}",
        f"  - {markdown_inline(describe_grade(c))}"
        + (" (provisional: the model did not grade it)" if model_did_not_run(c) else ""),
    ]
    facts = list(c.facts) or [f.describe() for f in change.facts]
    lines += [f"  - fact: {markdown_inline(clip(fact, MAX_LINE))}" for fact in facts]
    lines += [f"  - quote: “{markdown_inline(clip(quote, MAX_LINE))}”" for quote in c.evidence]
    if not facts and not c.evidence:
        shown = [plain_line(clip(describe_block(b), MAX_LINE)) for b in change.blocks[:4]]
        lines += [f"  - {markdown_inline(line)}" for line in shown]
    return lines + [""]


def load_proposal(path: Path) -> CardProposal:
    """A proposal file read back as a record (for the digest: who, which changes, how many edits)."""
    markdown = path.read_text(encoding="utf-8")
    parsed = parse_proposal(markdown)
    card_name = str(parsed.meta.get("card") or path.name.replace(".proposed.md", ".md"))
    ids = tuple(dict.fromkeys(i for e in parsed.edits for i in e.change_ids))
    return CardProposal(
        competitor=str(parsed.meta.get("competitor", "")),
        card_path=path.with_name(Path(card_name).name),
        proposal_path=path,
        change_ids=ids,
        markdown=markdown,
    )


def write_proposal(p: CardProposal) -> Path:
    """Write the proposal beside the card; a pending one keeps its edits and reviewer ticks.

    New edits whose changes are already in the pending proposal are not added twice.
    """
    path = p.proposal_path
    if not path.exists():
        write_atomically(path, p.markdown)
        return path
    old = parse_proposal(path.read_text(encoding="utf-8"))
    new = parse_proposal(p.markdown)
    seen = {i for e in old.edits for i in e.change_ids}
    numbers = [e.number for e in old.edits]
    next_number = max(numbers, default=0) + 1
    added = []
    for edit in new.edits:
        if set(edit.change_ids) <= seen:
            continue
        added.append(_renumber(edit, next_number))
        next_number += 1
    if not added:
        return path
    write_atomically(path, old.header + "".join(e.raw for e in old.edits) + "".join(added))
    return path


def _renumber(edit: EditBlock, number: int) -> str:
    old_begin, old_end = text_markers(edit.number)
    new_begin, new_end = text_markers(number)
    meta = {**edit.meta, "n": number}
    raw = EDIT_MARKER.sub(lambda _: f"<!-- rivalwatch:edit {marker_json(meta)} -->", edit.raw, count=1)
    raw = raw.replace(old_begin, new_begin, 1).replace(old_end, new_end, 1)
    return raw.replace(f"## Edit {edit.number} ", f"## Edit {number} ", 1)
