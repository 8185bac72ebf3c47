"""The morning digest as one self-contained HTML page (for mail or the web app).

Same content and order as the Markdown digest (``responders.digest``); every string that
came from a page, a model or the config goes through ``html.escape``, and page URLs are
links only when they are plain http(s) URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from pathlib import Path

from monitor.records import CardProposal, ClassifiedChange
from responders.alerts import clip, describe_block, describe_grade, model_did_not_run
from responders.digest import SHOWN, group_by_competitor
from responders.health import PageHealth

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
.sev{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-size:.8rem;text-transform:uppercase}
.critical{background:#c62828;color:#fff}.high{background:#ef6c00;color:#fff}
.medium{background:#f9a825}.low{background:#e0e0e0}
.provisional{color:#b71c1c}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto}.add{color:#1b5e20}.del{color:#b71c1c}
blockquote{margin:.3rem 0;padding-left:.6rem;border-left:3px solid #ccc;color:#555}
""".strip()


def _when(moment: datetime | None) -> str:
    return escape(f"{moment:%Y-%m-%d %H:%M %Z}".rstrip()) if moment else "never"


def _link(url: str) -> str:
    if url.startswith(("http://", "https://")) and not any(ch in url for ch in " \n\t\"'<>"):
        return f'<a href="{escape(url)}" rel="noopener noreferrer nofollow">{escape(url)}</a>'
    return escape(url)


def render_digest_html(
    changes: Sequence[ClassifiedChange],
    *,
    start: datetime,
    end: datetime,
    health: Sequence[PageHealth] = (),
    proposals: Sequence[CardProposal | Path] = (),
    notes: Sequence[str] = (),
) -> str:
    """The digest as an HTML document (the same arguments as ``build_digest``)."""
    ordered = group_by_competitor(changes)
    failing = sorted((h for h in health if h.error_streak > 0), key=lambda h: (-h.error_streak, h.url))
    title = f"Competitor digest — {end:%Y-%m-%d}"
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Period: {_when(start)} → {_when(end)}.</p>",
    ]
    if notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    if not ordered:
        out.append("<p>No changes worth telling at any competitor in this period.</p>")
    for competitor, items in ordered:
        out.append(f"<h2>{escape(competitor)}</h2>")
        for severity in SHOWN:
            group = [cc for cc in items if cc.classification.severity == severity]
            if group:
                out.append(f"<h3>{severity.label.capitalize()} ({len(group)})</h3>")
                out += [_entry(cc) for cc in group]
    out.append("<h2>Battle-card edits waiting for review</h2>")
    out.append(_proposals(proposals))
    out.append("<h2>Page health</h2>")
    out.append(_health(failing))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _entry(cc: ClassifiedChange) -> str:
    change, c = cc.change, cc.classification
    sev = c.severity.label
    parts = [
        "<article>",
        f'<h4><span class="sev {sev}">{sev}</span> {escape(clip(c.summary or "A change was detected", 400))}</h4>',
        "<ul>",
        f"<li>Grade: {escape(str(c.category))} · {escape(describe_grade(c))}</li>",
    ]
    if model_did_not_run(c):
        parts.append('<li class="provisional">The model did not grade this change; the severity is provisional.</li>')
    parts.append(f"<li>Page: {escape(str(change.page_kind))} page, {_link(change.url)}</li>")
    parts.append(f"<li>Detected: {_when(change.detected_at)} (change #{cc.id})</li>")
    parts.append("</ul>")
    facts = list(c.facts) or [f.describe() for f in change.facts]
    if facts:
        parts.append("<p>Facts:</p><ul>" + "".join(f"<li>{escape(clip(f, 400))}</li>" for f in facts) + "</ul>")
    parts += [f"<blockquote>{escape(clip(q, 400))}</blockquote>" for q in c.evidence]
    if change.blocks:
        parts.append("<pre>" + "\n".join(_diff_line(describe_block(b)) for b in change.blocks[:12]) + "</pre>")
    parts.append("</article>")
    return "\n".join(parts)


def _diff_line(line: str) -> str:
    line = " ".join(clip(line, 400).split())
    if line.startswith("+ "):
        return f'<span class="add">{escape(line)}</span>'
    if line.startswith("- "):
        return f'<span class="del">{escape(line)}</span>'
    return escape(line)


def _proposals(proposals: Sequence[CardProposal | Path]) -> str:
    if not proposals:
        return "<p>None.</p>"
    rows = []
    for p in proposals:
        if isinstance(p, CardProposal):
            ids = ", ".join(f"#{i}" for i in p.change_ids)
            where = escape(str(p.proposal_path))
            rows.append(f"<li><b>{escape(p.competitor)}</b>: changes {ids}, in <code>{where}</code></li>")
        else:
            rows.append(f"<li><code>{escape(str(p))}</code></li>")
    return "<ul>" + "".join(rows) + "</ul>"


def _health(failing: Sequence[PageHealth]) -> str:
    if not failing:
        return "<p>Every watched page fetched fine in its last check.</p>"
    head = "<tr><th>Competitor</th><th>Page</th><th>Failed in a row</th><th>Last error</th><th>Last good</th></tr>"
    rows = [
        f"<tr><td>{escape(h.competitor)}</td><td>{_link(h.url)}</td><td>{h.error_streak}</td>"
        f"<td>{escape(clip(h.last_error or 'unknown', 160))}</td><td>{_when(h.last_success_at)}</td></tr>"
        for h in failing
    ]
    return "<table>" + head + "".join(rows) + "</table>"
