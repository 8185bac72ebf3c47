"""Alerts rendered from classified changes and page health: pure functions of records.

An ``Alert`` is rendered for one channel and carries text ready for that medium:
``console`` and ``file`` get plain text (control characters removed), ``slack:#name`` gets
Slack mrkdwn in which every competitor string is escaped. The outbox stores the alert as
rendered, so a retry sends exactly what was first meant to be sent.
"""

from __future__ import annotations

from monitor.records import Alert, BlockChange, BlockOp, Classification, ClassifiedChange, Severity
from responders.escape import plain_line, slack_text
from responders.health import HealthEvent, error_kind

SLACK_PREFIX = "slack:"
MAX_FACTS = 8
MAX_EVIDENCE = 4
MAX_BLOCKS = 4
MAX_LINE = 300
MAX_TITLE = 150
PROVISIONAL = "the model did not grade this change; the severity is provisional."


def is_slack_channel(channel: str) -> bool:
    return channel.startswith(SLACK_PREFIX)


def clip(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe_grade(classification: Classification) -> str:
    """Where a grade came from, in words, so a fallback grade never passes for a model's."""
    source = classification.source
    confidence = f"confidence {classification.confidence:.2f}"
    if source == "rules":
        return f"graded by rules (offline), {confidence}"
    if source.startswith("llm:"):
        return f"graded by the model {source[4:]}, {confidence}"
    if source.endswith("rules"):
        # e.g. "llm-failed→rules", "budget→rules": the model was asked for and did not grade
        return f"graded by rules because the model did not run ({source}), {confidence}"
    return f"graded by {source}, {confidence}"


def model_did_not_run(classification: Classification) -> bool:
    """True for a rules grade that stands in for a model that failed or was over budget."""
    source = classification.source
    return source != "rules" and not source.startswith("llm:") and source.endswith("rules")


def describe_block(block: BlockChange) -> str:
    """One changed block in plain words: "+ text", "- text" or "~ before → after"."""
    if block.op is BlockOp.ADDED:
        return f"+ {block.after or ''}"
    if block.op is BlockOp.REMOVED:
        return f"- {block.before or ''}"
    return f"~ {block.before or ''} → {block.after or ''}"


def _evidence_lines(cc: ClassifiedChange) -> tuple[list[str], list[str], list[str]]:
    c = cc.classification
    facts = list(c.facts) or [f.describe() for f in cc.change.facts]
    evidence = list(c.evidence)
    blocks = [] if facts or evidence else [describe_block(b) for b in cc.change.blocks]
    return facts[:MAX_FACTS], evidence[:MAX_EVIDENCE], blocks[:MAX_BLOCKS]


def _more(shown: int, total: int) -> list[str]:
    return [f"(and {total - shown} more)"] if total > shown else []


def render_alert(cc: ClassifiedChange, *, channel: str) -> Alert:
    """An alert about one classified change, rendered for ``channel`` (console|file|slack:#x)."""
    change, c = cc.change, cc.classification
    sev = c.severity.label.upper()
    summary = c.summary or "a change was detected"
    facts, evidence, blocks = _evidence_lines(cc)
    grade = describe_grade(c)
    footer = f"change #{cc.id}, detected {change.detected_at:%Y-%m-%d %H:%M %Z}".rstrip()
    if is_slack_channel(channel):
        esc = slack_text
        title = clip(f"{sev} · {esc(change.competitor)}: {esc(summary)}", MAX_TITLE)
        paragraphs = [f"*{esc(clip(summary, MAX_LINE))}*"]
        paragraphs += _slack_list("Facts", facts, "•", len(c.facts or change.facts))
        paragraphs += _slack_list("Evidence", evidence, ">", len(c.evidence))
        paragraphs += _slack_list("Changed", blocks, "•", len(change.blocks))
        if model_did_not_run(c):
            paragraphs.append(f":warning: *{PROVISIONAL}*")
        meta = f"{c.category} · {change.page_kind} page · {grade} · {footer}"
        paragraphs.append(f"_{esc(meta)}_")
        paragraphs.append(f"<{slack_url(change.url)}|Open the {esc(str(change.page_kind))} page>")
        text = "\n\n".join(paragraphs)
    else:
        esc = plain_line
        title = clip(f"[{sev}] {esc(change.competitor)}: {esc(summary)}", MAX_TITLE)
        lines = [
            f"{sev} {c.category} change at {esc(change.competitor)} ({change.page_kind} page)",
            esc(clip(summary, MAX_LINE)),
        ]
        lines += _plain_list("Facts", facts, "•", len(c.facts or change.facts))
        lines += _plain_list("Evidence", evidence, ">", len(c.evidence))
        lines += _plain_list("Changed", blocks, "", len(change.blocks))
        lines.append(grade[0].upper() + grade[1:] + ".")
        lines += [f"Note: {PROVISIONAL}"] if model_did_not_run(c) else []
        lines += [esc(change.url), footer[0].upper() + footer[1:]]
        text = "\n".join(lines)
    return Alert(
        change_id=cc.id,
        channel=channel,
        competitor=change.competitor,
        url=change.url,
        severity=c.severity,
        title=title,
        text=text,
    )


def _slack_list(heading: str, items: list[str], mark: str, total: int) -> list[str]:
    if not items:
        return []
    body = [f"{mark} {slack_text(clip(item, MAX_LINE))}" for item in items]
    return [f"*{heading}*\n" + "\n".join(body + [slack_text(m) for m in _more(len(items), total)])]


def _plain_list(heading: str, items: list[str], mark: str, total: int) -> list[str]:
    if not items:
        return []
    prefix = f"  {mark} " if mark else "  "
    lines = [prefix + plain_line(clip(item, MAX_LINE)) for item in items]
    return [f"{heading}:", *lines, *_more(len(items), total)]


def slack_url(url: str) -> str:
    """A URL safe inside Slack's <url|label>: the characters that end it are percent-encoded."""
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def render_health_alert(event: HealthEvent, *, channel: str) -> Alert:
    """ "Page broken" (failures in a row, error kind and message) or "page recovered"."""
    if event.kind == "broken":
        severity = Severity.MEDIUM
        headline = f"page broken: {event.streak} failed fetches in a row ({error_kind(event.error)})"
        detail = f"Last error: {event.error or 'unknown'}."
        hint = "Changes on this page are not seen until it recovers."
    elif event.kind == "recovered":
        severity = Severity.LOW
        headline = f"page recovered after {event.streak} failed fetches"
        detail = f"It fetched fine again (last error was {event.error or 'unknown'})."
        hint = "It is compared with its last good snapshot, so nothing that changed meanwhile is missed."
    else:
        raise ValueError(f"unknown health event kind {event.kind!r} (valid: broken, recovered)")
    if is_slack_channel(channel):
        esc = slack_text
        title = clip(f"{esc(event.competitor)}: {esc(headline)}", MAX_TITLE)
        parts = [f"*{esc(headline)}*", esc(clip(detail, MAX_LINE)), esc(hint)]
        parts.append(f"<{slack_url(event.url)}|Open the page>")
        text = "\n\n".join(parts)
    else:
        esc = plain_line
        title = clip(f"[{severity.label.upper()}] {esc(event.competitor)}: {esc(headline)}", MAX_TITLE)
        text = "\n".join([esc(headline), esc(clip(detail, MAX_LINE)), hint, esc(event.url)])
    return Alert(
        change_id=None,
        channel=channel,
        competitor=event.competitor,
        url=event.url,
        severity=severity,
        title=title,
        text=text,
    )
