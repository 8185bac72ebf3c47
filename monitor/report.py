"""Plain-text views for the terminal: run results, page health, history, a change, noise."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime

from monitor.records import BlockOp, ClassifiedChange, PageHealth, Snapshot, Watch
from monitor.volatility import SlotPattern

STATUS_MARK = {
    "first": "baseline",
    "unchanged": "-",
    "noise": "noise",
    "changed": "CHANGED",
    "error": "ERROR",
}


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


def _when(value: datetime | None) -> str:
    if value is None:
        return "never"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.strftime("%Y-%m-%d %H:%M")


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def outcome_table(outcomes: Sequence) -> str:  # Sequence[PageOutcome]
    rows = []
    for o in outcomes:
        if o.change is not None:
            grade = o.change.classification
            detail = f"{grade.severity.label}/{grade.category.value}: {grade.summary}"
        elif o.error is not None:
            detail = str(o.error)
        else:
            detail = ""
        rows.append([o.competitor, _short(o.url, 50), STATUS_MARK.get(o.status, o.status), _short(detail, 90)])
    changed = sum(1 for o in outcomes if o.status == "changed")
    errors = sum(1 for o in outcomes if o.status == "error")
    table = _table(["competitor", "page", "status", "what"], rows)
    return f"{table}\n\n{len(outcomes)} pages checked: {changed} changed, {errors} failed to fetch."


def health_table(health: Sequence[PageHealth]) -> str:
    if not health:
        return "no pages checked yet"
    rows = [
        [
            h.competitor,
            _short(h.url, 50),
            _when(h.last_success_at),
            str(h.error_streak),
            _short(h.last_error or "", 60),
        ]
        for h in health
    ]
    return _table(["competitor", "page", "last success", "streak", "last error"], rows)


def history_text(url: str, snapshots: Sequence[Snapshot], checks: Sequence, health: PageHealth | None = None) -> str:
    lines = [f"{url}"]
    if health is not None:
        lines.append(
            f"last checked {_when(health.last_checked_at)}, last fetched fine {_when(health.last_success_at)}"
            + (f", failing {health.error_streak}x in a row: {health.last_error}" if health.error_streak else "")
        )
    lines += ["", f"{len(snapshots)} snapshots:"]
    for snap in snapshots:
        lines.append(
            f"  #{snap.id}  {_when(snap.taken_at)}  {len(snap.page.blocks)} blocks, "
            f"{len(snap.page.facts)} facts  {snap.page.content_hash[:12]}"
        )
    lines += ["", f"last {len(checks)} events (newest first; unchanged checks only update 'last checked'):"]
    for check in checks:
        extra = f"  {check.error_kind}: {check.error_message}" if check.error_kind else ""
        change = f"  change #{check.change_id}" if check.change_id else ""
        lines.append(f"  {_when(check.checked_at)}  {check.status}{change}{extra}")
    return "\n".join(lines)


def change_text(cc: ClassifiedChange) -> str:
    grade, change = cc.classification, cc.change
    lines = [
        f"change #{cc.id}  {change.competitor}  {change.url}",
        f"detected {_when(change.detected_at)}  snapshot #{change.before_id} -> #{change.after_id}",
        f"grade: {grade.severity.label} / {grade.category.value}  (source {grade.source}, "
        f"confidence {grade.confidence:.2f})",
        "",
        textwrap.fill(grade.summary, 100),
    ]
    if change.facts:
        lines += ["", "facts:"] + [f"  * {f.describe()}" for f in change.facts]
    lines += ["", "blocks:"]
    for b in change.blocks:
        where = f"  [{' › '.join(b.path)}]" if b.path else ""
        if b.op is BlockOp.MODIFIED:
            lines += [f"  ~ {b.kind}{where}", f"    - {b.before}", f"    + {b.after}"]
        elif b.op is BlockOp.ADDED:
            lines.append(f"  + {b.kind}{where}: {b.after}")
        else:
            lines.append(f"  - {b.kind}{where}: {b.before}")
    return "\n".join(lines)


def noise_text(url: str, watch: Watch | None, rows: Sequence) -> str:
    lines = [url, ""]
    if watch is not None and watch.ignore:
        lines.append("ignored by config (ignore:):")
        lines += [f"  /{pattern}/" for pattern in watch.ignore]
        lines.append("")
    if watch is not None and watch.exclude:
        lines.append("dropped by config (exclude:): " + ", ".join(watch.exclude))
        lines.append("")
    if watch is not None and watch.pin:
        lines.append("pinned as noise in config (noise.pin): " + ", ".join(watch.pin))
        lines.append("")
    lines.append("built in: whitespace, Unicode forms, number and date formats, timestamps, counters,")
    lines.append("tokens and cache-busters, reordered lists, hidden and script content.")
    lines.append("")
    if not rows:
        lines.append("no blocks learned as volatile yet.")
    else:
        lines.append(
            f"{len(rows)} blocks learned as volatile (places whose text differed between two fetches moments apart):"
        )
        for row in rows:
            lines.append(f"  {row.signature[:12]}  seen {row.hits}x since {_when(row.first_seen)}  {row.reason}")
            if row.text:
                lines.append(f"      {_short(SlotPattern.from_json(row.text).describe(), 100)}")
        lines.append("")
        lines.append("To alert on one of them again, add its signature to the page's noise.unpin in the config;")
        lines.append("to silence a block that was not learned, add its signature to noise.pin.")
    return "\n".join(lines)
