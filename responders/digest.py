"""The morning digest for product marketers: a pure Markdown rendering of the last period.

What changed at which competitor (grouped by competitor, then severity, highest first), how
much it matters (severity, category, and where the grade came from, so a rules fallback
never passes for a model's judgement), the evidence (facts, quotes, the diff), which
battle-card edits wait for review, and which pages are broken. Every competitor string is
escaped (``markdown_inline``) or fenced (``code_fence``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from monitor.records import Alert, CardProposal, ClassifiedChange, Digest, Severity
from responders.alerts import clip, describe_block, describe_grade, is_slack_channel, model_did_not_run
from responders.card_review import write_atomically
from responders.escape import code_fence, code_span, markdown_inline, markdown_url, plain_line, slack_text
from responders.health import PageHealth

__all__ = ["PageHealth", "build_digest", "digest_filename", "render_digest_alert", "write_digest"]

MAX_DIFF_LINES = 12
MAX_LINE = 400
SHOWN = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M %Z}".rstrip() if moment else "never"


def group_by_competitor(changes: Sequence[ClassifiedChange]) -> list[tuple[str, list[ClassifiedChange]]]:
    """Changes graded above none, by competitor: the one with the gravest change first.

    Within a competitor, changes keep severity-then-time order when rendered by severity.
    """
    groups: dict[str, list[ClassifiedChange]] = {}
    for cc in changes:
        if cc.classification.severity > Severity.NONE:
            groups.setdefault(cc.change.competitor, []).append(cc)
    for items in groups.values():
        items.sort(key=lambda cc: (-int(cc.classification.severity), cc.change.detected_at, cc.id))

    def order(kv: tuple[str, list[ClassifiedChange]]) -> tuple[int, int, str]:
        top = max(cc.classification.severity for cc in kv[1])
        return (-int(top), -len(kv[1]), kv[0].casefold())

    return sorted(groups.items(), key=order)


def build_digest(
    changes: Sequence[ClassifiedChange],
    *,
    start: datetime,
    end: datetime,
    health: Sequence[PageHealth] = (),
    proposals: Sequence[CardProposal | Path] = (),
    notes: Sequence[str] = (),
) -> Digest:
    """The digest of ``changes`` (those the caller selected for start..end) as Markdown.

    ``health`` rows with failures are listed as broken pages; ``proposals`` are staged
    battle-card proposals (records, or paths to proposal files) waiting for review;
    ``notes`` are the daemon's own remarks (LLM budget spent, a page skipped), shown first.
    """
    listed = [cc for cc in changes if cc.classification.severity > Severity.NONE]
    noise = len(changes) - len(listed)
    ordered = group_by_competitor(listed)
    failing = [h for h in health if h.error_streak > 0]

    out = [f"# Competitor digest — {end:%Y-%m-%d}", ""]
    out.append(f"Period: {_when(start)} → {_when(end)}.")
    out.append("")
    out.append(_headline(listed, len(ordered), failing, proposals, noise))
    out.append("")
    if notes:
        out += ["## Notes", ""] + [f"- {markdown_inline(note)}" for note in notes] + [""]
    if ordered:
        out += _glance(ordered)
    for competitor, items in ordered:
        out += _competitor_section(competitor, items)
    out += _proposals_section(proposals)
    out += _health_section(failing)
    return Digest(
        period_start=start,
        period_end=end,
        markdown="\n".join(out).rstrip() + "\n",
        change_ids=tuple(cc.id for cc in changes),
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _headline(
    listed: list[ClassifiedChange],
    competitors: int,
    failing: Sequence[PageHealth],
    proposals: Sequence[CardProposal | Path],
    noise: int,
) -> str:
    if listed:
        counts = [
            f"{sum(1 for cc in listed if cc.classification.severity == s)} {s.label}"
            for s in SHOWN
            if any(cc.classification.severity == s for cc in listed)
        ]
        line = f"{_plural(len(listed), 'change')} at {_plural(competitors, 'competitor')}: {', '.join(counts)}."
    else:
        line = "No changes worth telling at any competitor in this period."
    if noise:
        line += f" {_plural(noise, 'difference')} judged noise (not listed)."
    line += f" {_plural(len(proposals), 'battle-card proposal')} waiting for review."
    line += f" {_plural(len(failing), 'page')} failing." if failing else " Every watched page fetched fine."
    return line


def _glance(ordered: list[tuple[str, list[ClassifiedChange]]]) -> list[str]:
    lines = ["## At a glance", "", "| Competitor | " + " | ".join(s.label for s in SHOWN) + " |"]
    lines.append("|---" * (len(SHOWN) + 1) + "|")
    for competitor, items in ordered:
        cells = [str(sum(1 for cc in items if cc.classification.severity == s) or "") for s in SHOWN]
        lines.append(f"| {markdown_inline(competitor)} | " + " | ".join(cells) + " |")
    return lines + [""]


def _competitor_section(competitor: str, items: list[ClassifiedChange]) -> list[str]:
    lines = [f"## {markdown_inline(competitor)}", ""]
    for severity in SHOWN:
        group = [cc for cc in items if cc.classification.severity == severity]
        if not group:
            continue
        lines += [f"### {severity.label.capitalize()} ({len(group)})", ""]
        for cc in group:
            lines += _change_entry(cc)
    return lines


def _change_entry(cc: ClassifiedChange) -> list[str]:
    change, c = cc.change, cc.classification
    summary = markdown_inline(clip(c.summary or "A change was detected", MAX_LINE))
    grade = describe_grade(c)
    lines = [f"#### {summary}", ""]
    lines.append(f"- **Grade:** {c.severity.label} · {c.category} · {markdown_inline(grade)}")
    if model_did_not_run(c):
        lines.append("- **Note:** the model did not grade this change; treat the severity as provisional.")
    lines.append(f"- **Page:** {change.page_kind} page, {markdown_url(change.url)}")
    lines.append(f"- **Detected:** {_when(change.detected_at)} (change #{cc.id})")
    facts = list(c.facts) or [f.describe() for f in change.facts]
    if facts:
        lines.append("- **Facts:**")
        lines += [f"  - {markdown_inline(clip(fact, MAX_LINE))}" for fact in facts]
    if c.evidence:
        lines.append("- **Evidence:**")
        lines += [f"  > {markdown_inline(clip(quote, MAX_LINE))}" for quote in c.evidence]
    diff = [describe_block(b) for b in change.blocks]
    if diff:
        shown = [plain_line(clip(line, MAX_LINE)) for line in diff[:MAX_DIFF_LINES]]
        if len(diff) > len(shown):
            shown.append(f"… and {len(diff) - len(shown)} more changed blocks")
        lines += ["", code_fence("\n".join(_diff_lines(shown)), info="diff")]
    return lines + [""]


def _diff_lines(lines: list[str]) -> list[str]:
    # "~ before → after" reads better in a diff block as a removed and an added line
    out = []
    for line in lines:
        if line.startswith("~ ") and " → " in line:
            before, after = line[2:].split(" → ", 1)
            out += [f"- {before}", f"+ {after}"]
        else:
            out.append(line)
    return out


def _proposals_section(proposals: Sequence[CardProposal | Path]) -> list[str]:
    lines = ["## Battle-card edits waiting for review", ""]
    if not proposals:
        return lines + ["None.", ""]
    for p in proposals:
        if isinstance(p, CardProposal):
            ids = ", ".join(f"#{i}" for i in p.change_ids)
            edits = p.markdown.count("<!-- rivalwatch:edit ")
            lines.append(
                f"- **{markdown_inline(p.competitor)}**: {_plural(edits, 'proposed edit')} from changes {ids},"
                f" in {code_span(str(p.proposal_path))}"
            )
        else:
            lines.append(f"- {code_span(str(p))}")
    lines += ["", "Review with `rivalwatch review` (approve, edit or reject each edit).", ""]
    return lines


def _health_section(failing: Sequence[PageHealth]) -> list[str]:
    lines = ["## Page health", ""]
    if not failing:
        return lines + ["Every watched page fetched fine in its last check.", ""]
    lines += [
        "| Competitor | Page | Failed fetches in a row | Last error | Last good fetch |",
        "|---|---|---|---|---|",
    ]
    for h in sorted(failing, key=lambda h: (-h.error_streak, h.competitor, h.url)):
        error = markdown_inline(clip(h.last_error or "unknown", 160))
        lines.append(
            f"| {markdown_inline(h.competitor)} | {markdown_url(h.url)} | {h.error_streak} | {error} "
            f"| {_when(h.last_success_at)} |"
        )
    return lines + [""]


def render_digest_alert(
    digest: Digest, changes: Sequence[ClassifiedChange], *, channel: str, max_items: int = 10
) -> Alert:
    """A short copy of the digest for a channel (Slack or console): counts and the top changes.

    The full digest stays in the file; this names it (``digest.path``) when it was written.
    """
    listed = [cc for cc in changes if cc.classification.severity > Severity.NONE]
    listed.sort(key=lambda cc: (-int(cc.classification.severity), cc.change.detected_at, cc.id))
    slack = is_slack_channel(channel)
    esc = slack_text if slack else plain_line
    title = f"Competitor digest — {digest.period_end:%Y-%m-%d}"
    counts = ", ".join(
        f"{n} {s.label}" for s in SHOWN if (n := sum(1 for cc in listed if cc.classification.severity == s))
    )
    parts = [f"*{title}*" if slack else title]
    parts.append(f"{_plural(len(listed), 'change')}: {counts}." if listed else "No changes worth telling.")
    shown = listed[:max_items]
    if shown:
        items = [
            f"• {cc.classification.severity.label}: {esc(cc.change.competitor)} — "
            f"{esc(clip(cc.classification.summary or 'a change', 200))}"
            for cc in shown
        ]
        if len(listed) > len(shown):
            items.append(f"(and {len(listed) - len(shown)} more in the digest)")
        parts.append("\n".join(items))
    if digest.path is not None:
        parts.append(f"Full digest: {esc(str(digest.path))}")
    top = max((cc.classification.severity for cc in listed), default=Severity.LOW)
    return Alert(
        change_id=None,
        channel=channel,
        competitor="all competitors",
        url=str(digest.path or ""),
        severity=top,
        title=esc(title),
        text=("\n\n" if slack else "\n").join(parts),
    )


def digest_filename(digest: Digest) -> str:
    return f"digest-{digest.period_end:%Y-%m-%d}.md"


def write_digest(digest: Digest, out_dir: Path) -> Path:
    """Write ``digest-YYYY-MM-DD.md`` (the period's end date) atomically; return its path."""
    path = out_dir / digest_filename(digest)
    write_atomically(path, digest.markdown)  # a reader (or a crash) never sees half a digest
    return path
