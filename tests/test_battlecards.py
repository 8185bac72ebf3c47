"""Battle-card staging and review: proposals from tests/data/battlecard_cases.yaml, and review runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from responder_records import classified

from monitor.records import Severity
from responders.battlecards import apply_review, review_proposal, stage_card_update, write_proposal
from responders.card_review import parse_proposal, text_markers

DATA = Path(__file__).parent / "data"
CARDS = DATA / "battlecards"
CASES = yaml.safe_load((DATA / "battlecard_cases.yaml").read_text(encoding="utf-8"))
ACME = (CARDS / "acme.md").read_text(encoding="utf-8")


def stage(card_path: Path, specs: list[dict], **kwargs):  # type: ignore[no-untyped-def]
    changes = [classified(spec, default_id=i) for i, spec in enumerate(specs, 1)]
    return stage_card_update(
        competitor="Acme Analytics",
        card_path=card_path,
        card_text=card_path.read_text(encoding="utf-8"),
        changes=changes,
        **kwargs,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_stage_card_update(case: dict) -> None:
    card = CARDS / case["card"]
    proposal = stage(card, case["changes"], drafted=case.get("drafted"))
    assert proposal is not None
    assert proposal.card_path == card
    assert proposal.proposal_path == card.with_name(f"{card.stem}.proposed.md")
    assert set(proposal.change_ids) == {spec["id"] for spec in case["changes"]}
    parsed = parse_proposal(proposal.markdown)
    assert parsed.meta["card"] == case["card"] and parsed.meta["competitor"] == "Acme Analytics"
    found = [
        {"op": e.meta["op"], "section": e.meta["section"], "text": e.text, "changes": list(e.change_ids)}
        | ({"old": e.meta["old"]} if "old" in e.meta else {})
        for e in parsed.edits
    ]
    wanted = [{k: v for k, v in e.items() if k != "decision"} for e in case["edits"]]
    assert found == wanted
    assert all(e.decision is None and e.problem is None for e in parsed.edits)
    for part in case.get("proposal_contains", []):
        assert part in proposal.markdown
    for part in case.get("proposal_absent", []):
        assert not re.search(r"(?<!\\)" + re.escape(part), proposal.markdown), part


def test_nothing_to_stage_below_the_threshold_or_for_others() -> None:
    card = CARDS / "acme.md"
    assert stage(card, [{"severity": "low"}]) is None
    assert stage(card, [{"severity": "critical", "competitor": "Beta"}]) is None
    assert stage(card, [{"severity": "low"}], min_severity=Severity.LOW) is not None


def tick(markdown: str, number: int, choice: str, *, text: str | None = None) -> str:
    """What a reviewer does: tick one box of an edit, and maybe rewrite its proposed text."""
    begin, end = text_markers(number)
    b, e = markdown.index(begin), markdown.index(end)
    if text is not None:
        markdown = markdown[: b + len(begin)] + "\n" + text + "\n" + markdown[e:]
        e = markdown.index(end)
    box = markdown.index(f"- [ ] {choice}", e)
    return markdown[:box] + f"- [x] {choice}" + markdown[box + len(f"- [ ] {choice}") :]


def staged_three(tmp_path: Path) -> tuple[Path, str]:
    card = tmp_path / "acme.md"
    shutil.copy(CARDS / "acme.md", card)
    proposal = stage(
        card,
        [
            {"id": 1, "severity": "critical", "fact_changes": [{"subject": "Pro", "before": "$49", "after": "$59"}]},
            {"id": 2, "severity": "high", "category": "product", "facts": ["AI agents launched"]},
            {"id": 3, "severity": "medium", "category": "legal", "summary": "Privacy policy updated"},
        ],
    )
    assert proposal is not None
    return card, proposal.markdown


def test_approve_edit_reject_and_leave_pending(tmp_path: Path) -> None:
    card, markdown = staged_three(tmp_path)
    markdown = tick(markdown, 1, "approve")
    markdown = tick(markdown, 2, "edit", text="- AI agents (beta) on Pro and up")
    outcome = apply_review(proposal_text=markdown, card_text=ACME)
    assert (outcome.applied, outcome.rejected, outcome.pending, outcome.problems) == ((1, 2), (), (3,), ())
    assert outcome.applied_change_ids == (1, 2)
    assert "- Pro: $59 per seat / month (billed yearly: $490)" in outcome.card_text
    assert "$49 per seat" not in outcome.card_text
    product = outcome.card_text.split("## Product and features\n", 1)[1].split("\n## ", 1)[0]
    assert (
        product
        == "\n- Dashboards, funnels, retention\n- SAML SSO on Enterprise only\n- AI agents (beta) on Pro and up\n"
    )
    assert outcome.remaining is not None
    left = parse_proposal(outcome.remaining)
    assert [e.number for e in left.edits] == [3]
    # the reviewer comes back and rejects the last one
    second = apply_review(proposal_text=tick(outcome.remaining, 3, "reject"), card_text=outcome.card_text)
    assert second.rejected == (3,) and second.rejected_change_ids == (3,) and second.remaining is None
    assert second.card_text == outcome.card_text


def test_new_section_is_made_when_the_card_has_none(tmp_path: Path) -> None:
    card, markdown = staged_three(tmp_path)
    outcome = apply_review(proposal_text=tick(markdown, 3, "approve"), card_text=ACME)
    assert outcome.card_text.endswith("## Legal and compliance\n\n- Privacy policy updated (2026-11-22, change #3)\n")


def test_two_ticks_or_a_vanished_line_stay_pending_with_a_problem(tmp_path: Path) -> None:
    card, markdown = staged_three(tmp_path)
    markdown = tick(tick(markdown, 2, "approve"), 2, "reject")
    markdown = tick(markdown, 1, "approve")
    changed_card = ACME.replace("- Pro: $49 per seat / month (billed yearly: $490)", "- Pro: $55 per seat")
    outcome = apply_review(proposal_text=markdown, card_text=changed_card)
    assert outcome.applied == () and outcome.pending == (1, 2, 3)
    assert outcome.card_text == changed_card
    assert any(p.startswith("edit 1: the line it replaces") and "no longer on the card" in p for p in outcome.problems)
    assert "edit 2: tick one box, not 2 (approve, reject)" in outcome.problems


def test_broken_markers_are_a_problem_not_a_guess(tmp_path: Path) -> None:
    card, markdown = staged_three(tmp_path)
    markdown = tick(markdown, 2, "approve").replace(text_markers(2)[1], "")
    outcome = apply_review(proposal_text=markdown, card_text=ACME)
    assert outcome.applied == () and 2 in outcome.pending
    assert "edit 2: its text markers were removed or reordered" in outcome.problems


def test_review_proposal_rewrites_card_and_proposal_files(tmp_path: Path) -> None:
    card, markdown = staged_three(tmp_path)
    proposal_path = card.with_name("acme.proposed.md")
    proposal_path.write_text(tick(tick(markdown, 1, "approve"), 2, "reject"), encoding="utf-8")
    outcome = review_proposal(proposal_path)
    assert outcome.applied == (1,) and outcome.rejected == (2,) and outcome.pending == (3,)
    assert "- Pro: $59 per seat" in card.read_text(encoding="utf-8")
    assert [e.number for e in parse_proposal(proposal_path.read_text(encoding="utf-8")).edits] == [3]
    proposal_path.write_text(tick(proposal_path.read_text(encoding="utf-8"), 3, "approve"), encoding="utf-8")
    review_proposal(proposal_path)
    assert not proposal_path.exists()
    assert "## Legal and compliance" in card.read_text(encoding="utf-8")


def test_an_append_applied_twice_is_added_once(tmp_path: Path) -> None:
    card, markdown = staged_three(tmp_path)
    approved = tick(markdown, 2, "approve")
    once = apply_review(proposal_text=approved, card_text=ACME).card_text
    twice = apply_review(proposal_text=approved, card_text=once).card_text
    assert twice == once and once.count("AI agents launched") == 1


def test_write_proposal_keeps_pending_ticks_and_adds_only_new_changes(tmp_path: Path) -> None:
    card, _ = staged_three(tmp_path)
    first = stage(card, [{"id": 1, "severity": "high", "facts": ["first"]}])
    assert first is not None
    path = write_proposal(first)
    assert path == card.with_name("acme.proposed.md")
    path.write_text(tick(path.read_text(encoding="utf-8"), 1, "approve"), encoding="utf-8")
    again = stage(
        card, [{"id": 1, "severity": "high", "facts": ["first"]}, {"id": 5, "severity": "high", "facts": ["fifth"]}]
    )
    assert again is not None
    write_proposal(again)
    parsed = parse_proposal(path.read_text(encoding="utf-8"))
    assert [(e.number, e.change_ids, e.decision) for e in parsed.edits] == [(1, (1,), "approve"), (2, (5,), None)]
    assert "## Edit 2 · high" in path.read_text(encoding="utf-8")
    assert "fifth (2026-11-22, change #5)" in (parsed.edits[1].text or "")


def test_load_proposal_reads_back_who_and_what(tmp_path: Path) -> None:
    from responders.battlecards import load_proposal

    card, markdown = staged_three(tmp_path)
    path = card.with_name("acme.proposed.md")
    path.write_text(markdown, encoding="utf-8")
    loaded = load_proposal(path)
    assert (loaded.competitor, loaded.card_path, loaded.proposal_path) == ("Acme Analytics", card, path)
    assert loaded.change_ids == (1, 2, 3) and loaded.markdown == markdown


def test_describe_outcome_tells_what_happened(tmp_path: Path) -> None:
    from responders.battlecards import describe_outcome

    card, markdown = staged_three(tmp_path)
    markdown = tick(tick(tick(markdown, 1, "approve"), 2, "approve"), 2, "reject")
    outcome = apply_review(proposal_text=markdown, card_text=ACME)
    text = describe_outcome(outcome, proposal_path=tmp_path / "acme.proposed.md")
    assert text.splitlines() == [
        "applied: 1; rejected: none; waiting: 2, 3",
        "problem: edit 2: tick one box, not 2 (approve, reject)",
        f"tick one box per edit in {tmp_path}/acme.proposed.md and run review again",
    ]


EXAMPLE_CARDS = sorted((Path(__file__).parent.parent / "config" / "battlecards").glob("*.md"))


@pytest.mark.parametrize("card", EXAMPLE_CARDS, ids=[c.stem for c in EXAMPLE_CARDS])
def test_example_cards_take_an_approved_edit_in_an_existing_section(card: Path, tmp_path: Path) -> None:
    copy = tmp_path / card.name
    shutil.copy(card, copy)
    proposal = stage(copy, [{"id": 1, "severity": "high", "category": "product", "facts": ["launched X"]}])
    assert proposal is not None
    [edit] = parse_proposal(proposal.markdown).edits
    assert edit.meta["section"] in [
        line[3:].strip() for line in copy.read_text().splitlines() if line.startswith("## ")
    ]
    outcome = apply_review(proposal_text=tick(proposal.markdown, 1, "approve"), card_text=copy.read_text())
    assert outcome.applied == (1,) and "- launched X (2026-11-22, change #1)" in outcome.card_text
    assert outcome.card_text.count("\n## ") == copy.read_text().count("\n## ")


def test_a_proposal_saved_with_windows_line_endings_still_reviews(tmp_path: Path) -> None:
    card, markdown = staged_three(tmp_path)
    crlf = tick(markdown, 1, "approve").replace("\n", "\r\n")
    outcome = apply_review(proposal_text=crlf, card_text=ACME.replace("\n", "\r\n"))
    assert outcome.applied == (1,) and "- Pro: $59 per seat" in outcome.card_text
