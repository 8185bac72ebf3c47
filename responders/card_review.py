"""Reading a reviewed battle-card proposal and merging the approved edits into the card.

A proposal (written by ``responders.battlecards``) is Markdown a person edits by hand. Each
edit starts with a machine line, ``<!-- rivalwatch:edit {json} -->``, holds its proposed text
between ``<!-- rivalwatch:text N -->`` and ``<!-- rivalwatch:end N -->``, and ends with three
boxes (approve, edit, reject) of which the reviewer ticks one. Everything else is for people
and may be changed freely. An edit applies only if it still fits the card (the line it
replaces is there exactly once); otherwise it stays in the proposal with a problem noted.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EDIT_MARKER = re.compile(r"^<!-- rivalwatch:edit (\{.*\}) -->[ \t]*$", re.MULTILINE)
PROPOSAL_MARKER = re.compile(r"^<!-- rivalwatch:proposal (\{.*\}) -->[ \t]*$", re.MULTILINE)
CHECKBOX = re.compile(r"^[ \t]*[-*+][ \t]+\[([ xX])\][ \t]+(approve|edit|reject)\b", re.MULTILINE)
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")


def marker_json(data: dict[str, Any]) -> str:
    """JSON for an HTML comment: '<', '>' and '&' escaped so nothing can close the comment."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def text_markers(number: int) -> tuple[str, str]:
    return f"<!-- rivalwatch:text {number} -->", f"<!-- rivalwatch:end {number} -->"


@dataclass(frozen=True, slots=True)
class EditBlock:
    """One edit as found in a proposal file: its machine data, its text and the reviewer's tick."""

    meta: dict[str, Any]  # n, section, op (append|replace), old (for replace), changes
    raw: str  # the whole block as written, with the reviewer's changes
    text: str | None  # the proposed text between the markers (None if the markers were broken)
    decision: str | None  # approve | edit | reject | None (not reviewed yet)
    problem: str | None = None

    @property
    def number(self) -> int:
        return int(self.meta.get("n", 0))

    @property
    def change_ids(self) -> tuple[int, ...]:
        return tuple(int(i) for i in self.meta.get("changes", ()))


@dataclass(frozen=True, slots=True)
class ParsedProposal:
    header: str  # everything before the first edit
    meta: dict[str, Any]  # the proposal's machine line (card, competitor, card_sha256)
    edits: tuple[EditBlock, ...]


def parse_proposal(markdown: str) -> ParsedProposal:
    """Split a proposal into its header and edit blocks, reading each block's tick."""
    markdown = markdown.replace("\r\n", "\n")  # an editor on Windows may have saved it
    found = PROPOSAL_MARKER.search(markdown)
    meta = json.loads(found.group(1)) if found else {}
    starts = list(EDIT_MARKER.finditer(markdown))
    # the human heading above a marker ("## Edit 3 ...") belongs to that edit's block
    cuts = [_block_start(markdown, m.start()) for m in starts]
    header = markdown[: cuts[0]] if cuts else markdown
    edits = []
    for i, match in enumerate(starts):
        raw = markdown[cuts[i] : cuts[i + 1] if i + 1 < len(cuts) else len(markdown)]
        edits.append(_read_block(json.loads(match.group(1)), raw))
    return ParsedProposal(header=header, meta=meta, edits=tuple(edits))


def _block_start(markdown: str, marker_at: int) -> int:
    before = markdown[:marker_at].rstrip("\n")
    line_start = before.rfind("\n") + 1
    return line_start if before[line_start:].startswith("## Edit ") else marker_at


def _read_block(meta: dict[str, Any], raw: str) -> EditBlock:
    begin, end = text_markers(int(meta.get("n", 0)))
    b, e = raw.find(begin), raw.find(end)
    if b < 0 or e < b:
        return EditBlock(meta, raw, None, None, "its text markers were removed or reordered")
    text = raw[b + len(begin) : e].strip("\n")
    # only boxes after the text count, so a proposed line can never tick itself
    ticks = [m.group(2) for m in CHECKBOX.finditer(raw, e) if m.group(1) in "xX"]
    if len(ticks) > 1:
        return EditBlock(meta, raw, text, None, f"tick one box, not {len(ticks)} ({', '.join(ticks)})")
    return EditBlock(meta, raw, text, ticks[0] if ticks else None)


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    card_text: str  # the card with every approved or edited edit merged
    remaining: str | None  # the proposal with the undecided edits only; None when none are left
    applied: tuple[int, ...]  # edit numbers
    rejected: tuple[int, ...]
    pending: tuple[int, ...]
    problems: tuple[str, ...]
    applied_change_ids: tuple[int, ...] = ()
    rejected_change_ids: tuple[int, ...] = ()


def apply_review(*, proposal_text: str, card_text: str) -> ReviewOutcome:
    """Merge the approved and edited edits into the card; keep undecided ones for later."""
    parsed = parse_proposal(proposal_text)
    card = card_text.replace("\r\n", "\n")
    applied, rejected, pending, problems, keep = [], [], [], [], []
    applied_ids: list[int] = []
    rejected_ids: list[int] = []
    for edit in parsed.edits:
        problem = edit.problem
        if problem is None and edit.decision == "reject":
            rejected.append(edit.number)
            rejected_ids += edit.change_ids
            continue
        if problem is None and edit.decision in ("approve", "edit"):
            merged, problem = _apply_edit(card, edit)
            if problem is None:
                card = merged
                applied.append(edit.number)
                applied_ids += edit.change_ids
                continue
        if problem:
            problems.append(f"edit {edit.number}: {problem}")
        pending.append(edit.number)
        keep.append(edit.raw)
    remaining = parsed.header + "".join(keep) if keep else None
    return ReviewOutcome(
        card_text=card,
        remaining=remaining,
        applied=tuple(applied),
        rejected=tuple(rejected),
        pending=tuple(pending),
        problems=tuple(problems),
        applied_change_ids=tuple(dict.fromkeys(applied_ids)),
        rejected_change_ids=tuple(dict.fromkeys(rejected_ids)),
    )


def _apply_edit(card: str, edit: EditBlock) -> tuple[str, str | None]:
    text = (edit.text or "").strip("\n")
    op = edit.meta.get("op")
    lines = card.split("\n")
    if op == "replace":
        old = str(edit.meta.get("old", "")).rstrip()
        hits = [i for i, line in enumerate(lines) if line.rstrip() == old]
        if len(hits) != 1:
            where = "is no longer on the card" if not hits else f"is on the card {len(hits)} times"
            return card, f"the line it replaces ({old!r}) {where}; edit the card by hand and reject this edit"
        i = hits[0]
        return "\n".join(lines[:i] + (text.split("\n") if text else []) + lines[i + 1 :]), None
    if op == "append":
        if not text:
            return card, None
        return _append_to_section(lines, str(edit.meta.get("section", "")), text.split("\n")), None
    return card, f"unknown operation {op!r}"


def _append_to_section(lines: list[str], section: str, new: list[str]) -> str:
    """Add lines at the end of the "## section" (made at the end of the card if missing)."""
    start = level = None
    for i, line in enumerate(lines):
        m = HEADING.match(line)
        if m and m.group(2).strip().casefold() == section.casefold():
            start, level = i, len(m.group(1))
            break
    if start is None or level is None:
        body = "\n".join(lines).rstrip("\n")
        return f"{body}\n\n## {section}\n\n" + "\n".join(new) + "\n"
    end = len(lines)
    for j in range(start + 1, len(lines)):
        m = HEADING.match(lines[j])
        if m and len(m.group(1)) <= level:
            end = j
            break
    if "\n".join(new) in "\n".join(lines[start:end]):
        return "\n".join(lines)  # already there: a review re-run after a crash adds nothing twice
    insert = end
    while insert > start + 1 and not lines[insert - 1].strip():
        insert -= 1
    after = lines[insert:]
    gap = [""] if after and after[0].strip() else []
    lead = [""] if insert == start + 1 else []
    return "\n".join(lines[:insert] + lead + new + gap + after)


def describe_outcome(outcome: ReviewOutcome, *, proposal_path: Path) -> str:
    """What a review run did, in words for the terminal."""

    def numbers(items: tuple[int, ...]) -> str:
        return ", ".join(str(i) for i in items) or "none"

    lines = [
        f"applied: {numbers(outcome.applied)}; rejected: {numbers(outcome.rejected)}; "
        f"waiting: {numbers(outcome.pending)}"
    ]
    lines += [f"problem: {p}" for p in outcome.problems]
    if outcome.remaining is None:
        lines.append(f"every edit is decided; {proposal_path.name} was removed")
    elif outcome.pending:
        lines.append(f"tick one box per edit in {proposal_path} and run review again")
    return "\n".join(lines)


def review_proposal(proposal_path: Path, *, card_path: Path | None = None) -> ReviewOutcome:
    """Apply a reviewed proposal file: rewrite the card, keep or remove the proposal."""
    proposal_text = proposal_path.read_text(encoding="utf-8")
    if card_path is None:
        name = parse_proposal(proposal_text).meta.get("card")
        if not name:
            raise ValueError(f"{proposal_path} does not name its card; pass card_path")
        card_path = proposal_path.with_name(Path(str(name)).name)
    outcome = apply_review(proposal_text=proposal_text, card_text=card_path.read_text(encoding="utf-8"))
    if outcome.applied:
        write_atomically(card_path, outcome.card_text)
    if outcome.remaining is None:
        proposal_path.unlink()
    elif outcome.applied or outcome.rejected:
        write_atomically(proposal_path, outcome.remaining)
    return outcome


def write_atomically(path: Path, text: str) -> None:
    """Write beside the file and rename over it, so nobody sees half a card."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
