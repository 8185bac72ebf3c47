"""The morning digest: table-driven rendering from tests/data/digest_cases.yaml, and writing it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from responder_records import classified

from monitor.records import CardProposal, Severity
from responders.digest import PageHealth, build_digest, group_by_competitor, render_digest_alert, write_digest

DATA = Path(__file__).parent / "data"
CASES = yaml.safe_load((DATA / "digest_cases.yaml").read_text(encoding="utf-8"))
START = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
END = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def _health(row: dict) -> PageHealth:
    row = dict(row)
    if isinstance(row.get("last_success_at"), str):
        row["last_success_at"] = datetime.fromisoformat(row["last_success_at"])
    return PageHealth(**row)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_build_digest(case: dict) -> None:
    changes = [classified(spec, default_id=i) for i, spec in enumerate(case["changes"], 1)]
    digest = build_digest(
        changes,
        start=START,
        end=END,
        health=[_health(h) for h in case.get("health", [])],
        notes=case.get("notes", []),
    )
    text = digest.markdown
    assert (digest.period_start, digest.period_end) == (START, END)
    for part in case.get("contains", []):
        assert part in text
    for part in case.get("absent", []):
        # absent unescaped: a backslash before it makes it literal text in Markdown
        assert not re.search(r"(?<!\\)" + re.escape(part), text), part
    position = 0
    for part in case.get("ordered_sections", []):
        found = text.find(part, position)
        assert found >= 0, f"{part!r} missing or out of order"
        position = found + len(part)
    if "change_ids" in case:
        assert list(digest.change_ids) == case["change_ids"]


def test_proposals_are_listed_with_their_edits(tmp_path: Path) -> None:
    card = tmp_path / "acme.md"
    staged = CardProposal(
        competitor="Acme",
        card_path=card,
        proposal_path=tmp_path / "acme.proposed.md",
        change_ids=(3, 8),
        markdown="<!-- rivalwatch:edit {} -->\n<!-- rivalwatch:edit {} -->\n",
    )
    digest = build_digest([], start=START, end=END, proposals=[staged, tmp_path / "beta.proposed.md"])
    assert "2 battle-card proposals waiting for review." in digest.markdown
    assert f"- **Acme**: 2 proposed edits from changes #3, #8, in `{tmp_path}/acme.proposed.md`" in digest.markdown
    assert f"- `{tmp_path}/beta.proposed.md`" in digest.markdown
    assert "Review with `rivalwatch review`" in digest.markdown


def test_write_digest_names_the_file_by_date_and_replaces_it(tmp_path: Path) -> None:
    first = build_digest([classified({"summary": "first"})], start=START, end=END)
    path = write_digest(first, tmp_path / "out")
    assert path == tmp_path / "out" / "digest-2026-11-23.md"
    assert path.read_text(encoding="utf-8") == first.markdown
    second = build_digest([classified({"summary": "second"})], start=START, end=END)
    assert write_digest(second, tmp_path / "out") == path
    assert "second" in path.read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["digest-2026-11-23.md"]


def test_digest_alert_for_slack_counts_orders_and_escapes(tmp_path: Path) -> None:
    changes = [
        classified({"id": 1, "severity": "low", "summary": "a low one"}),
        classified({"id": 2, "severity": "critical", "competitor": "Beta <!channel>", "summary": "<@U1> price"}),
        classified({"id": 3, "severity": "none", "summary": "noise"}),
    ] + [classified({"id": 10 + i, "severity": "medium", "summary": f"m{i}"}) for i in range(3)]
    digest = replace(build_digest(changes, start=START, end=END), path=tmp_path / "digest-2026-11-23.md")
    alert = render_digest_alert(digest, changes, channel="slack:#pmm", max_items=3)
    assert alert.severity is Severity.CRITICAL and alert.change_id is None
    assert alert.title == "Competitor digest — 2026-11-23"
    assert alert.text.startswith("*Competitor digest — 2026-11-23*\n\n5 changes: 1 critical, 3 medium, 1 low.")
    assert "• critical: Beta &lt;!channel&gt; — &lt;@U1&gt; price\n• medium: Acme Analytics — m0" in alert.text
    assert "(and 2 more in the digest)" in alert.text and "noise" not in alert.text
    assert alert.text.endswith(f"Full digest: {tmp_path}/digest-2026-11-23.md")
    assert "<!channel>" not in alert.text and "<@U1>" not in alert.text


def test_digest_alert_for_a_quiet_day_on_the_console() -> None:
    alert = render_digest_alert(build_digest([], start=START, end=END), [], channel="console")
    assert alert.text == "Competitor digest — 2026-11-23\nNo changes worth telling."
    assert alert.severity is Severity.LOW


ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "ul", "li", "a"}
ALLOWED_TAGS |= {"article", "span", "blockquote", "pre", "table", "tr", "th", "td", "b", "code"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_html_digest_holds_the_same_text_and_nothing_from_pages_becomes_markup(case: dict) -> None:
    from lxml import html as lxml_html

    from responders.digest_html import render_digest_html

    changes = [classified(spec, default_id=i) for i, spec in enumerate(case["changes"], 1)]
    health = [_health(h) for h in case.get("health", [])]
    page = render_digest_html(changes, start=START, end=END, health=health, notes=case.get("notes", []))
    tree = lxml_html.document_fromstring(page)
    assert {el.tag for el in tree.iter() if isinstance(el.tag, str)} <= ALLOWED_TAGS
    hrefs = {a.get("href") for a in tree.iter("a")}
    assert hrefs <= {cc.change.url for cc in changes} | {h.url for h in health}
    text = tree.text_content()
    for cc in changes:
        if cc.classification.severity > Severity.NONE:
            assert " ".join(cc.classification.summary.split()) in " ".join(text.split())
    fixed = {"Notes", "Battle-card edits waiting for review", "Page health"}
    headings = [h.text_content() for h in tree.iter("h2") if h.text_content() not in fixed]
    assert headings == [name for name, _ in group_by_competitor(changes)]


def test_digest_to_slack_needs_a_channel() -> None:
    from pydantic import ValidationError

    from monitor.config import DigestConfig

    with pytest.raises(ValidationError, match="outputs includes slack: set channel"):
        DigestConfig(outputs=["file", "slack"])
    assert DigestConfig(outputs=["slack"], channel="#pmm").channel == "#pmm"
