"""The rules classifier, from the table in tests/data/rules_cases.yaml, plus its contracts:
evidence is verbatim, the floor binds, the registry is complete, and the rules stay offline."""

from __future__ import annotations

import ast
import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

import classifiers
from classifiers.keywords import FAMILIES, FAMILY_BY_NAME, families_in
from classifiers.profile import focus_terms
from classifiers.rules import RulesClassifier, classify_by_rules, severity_floor
from classifiers.text import is_typo_fix, is_volatile_edit, quote
from monitor.config import ClassifierConfig
from monitor.records import (
    BlockChange,
    BlockKind,
    BlockOp,
    Category,
    Change,
    ClassifyContext,
    FactChange,
    PageKind,
    Severity,
)

ROOT = Path(__file__).resolve().parent.parent
CASES = yaml.safe_load((Path(__file__).parent / "data" / "rules_cases.yaml").read_text(encoding="utf-8"))


def build_change(case: dict) -> Change:
    blocks = tuple(
        BlockChange(
            op=BlockOp(op),
            kind=BlockKind(kind),
            path=tuple(p.strip() for p in path.split(">")) if path else (),
            before=before,
            after=after,
        )
        for op, kind, path, before, after in case.get("blocks") or []
    )
    facts = tuple(FactChange(*row) for row in case.get("facts") or [])
    return Change(
        url="https://rival.example/page",
        competitor="Rival Co",
        page_kind=PageKind(case["page_kind"]),
        before_id=1,
        after_id=2,
        detected_at=datetime(2026, 3, 1, tzinfo=UTC),
        blocks=blocks,
        facts=facts,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_rules_case(case: dict) -> None:
    change = build_change(case)
    grade = classify_by_rules(change, company=case.get("company", ""))
    expect = case["expect"]
    assert (grade.severity.label, grade.category.value) == (expect["severity"], expect["category"]), grade.summary
    assert grade.source == "rules"
    assert 0.0 < grade.confidence <= 1.0
    assert grade.summary.startswith("Rival Co (")
    block_texts = [t for b in change.blocks for t in (b.before, b.after) if t]
    for quoted in grade.evidence:
        assert any(quoted in text for text in block_texts), f"{quoted!r} is not verbatim in the change"
        assert len(quoted) <= 140
    if grade.severity > Severity.NONE:
        assert grade.evidence or grade.facts, "a graded change carries facts or evidence"
    if "evidence_has" in expect:
        assert any(expect["evidence_has"] in e for e in grade.evidence), grade.evidence
    if "summary_has" in expect:
        assert expect["summary_has"] in grade.summary


def test_every_case_name_is_unique_and_every_category_appears() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    seen = {c["expect"]["category"] for c in CASES}
    assert seen == {c.value for c in Category}
    assert {c["expect"]["severity"] for c in CASES} == {s.label for s in Severity}


def test_long_untrusted_text_is_quoted_short_and_verbatim() -> None:
    para = "We have acquired Hollow Corp. " + "Lorem ipsum dolor sit amet. " * 40
    change = build_change({"page_kind": "blog", "blocks": [["added", "paragraph", "News", None, para]]})
    grade = classify_by_rules(change)
    assert grade.severity is Severity.CRITICAL
    assert grade.evidence and all(e in para and len(e) <= 140 for e in grade.evidence)
    assert len(grade.summary) < 400


def test_grading_is_deterministic() -> None:
    for case in CASES:
        change = build_change(case)
        assert classify_by_rules(change) == classify_by_rules(change)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("core-plan-monthly-price-rise", Severity.HIGH),
        ("new-plan-added", Severity.HIGH),
        ("free-plan-removed", Severity.HIGH),
        ("feature-moved-between-tiers", Severity.MEDIUM),
        ("acquisition-announced", Severity.HIGH),
        ("security-incident-disclosed", Severity.HIGH),
        ("homepage-headline-rewritten", Severity.NONE),
        ("ordinary-blog-post", Severity.NONE),
        ("copyright-year", Severity.NONE),
        ("listed-price-edit-without-facts", Severity.HIGH),
        ("add-on-price-cut-is-medium", Severity.MEDIUM),
        ("plan-renamed-same-price-is-medium", Severity.MEDIUM),
    ],
)
def test_severity_floor(name: str, expected: Severity) -> None:
    case = next(c for c in CASES if c["name"] == name)
    change = build_change(case)
    floor = severity_floor(change)
    assert floor is expected
    assert floor <= classify_by_rules(change).severity


def test_rules_classifier_grades_through_the_protocol() -> None:
    case = next(c for c in CASES if c["name"] == "launch-aimed-at-our-buyers-is-critical")
    classifier = RulesClassifier.from_config(ClassifierConfig(provider="rules"))
    assert isinstance(classifier, classifiers.Classifier)
    grade = asyncio.run(classifier.classify(build_change(case), context=ClassifyContext(company=case["company"])))
    assert grade.severity is Severity.CRITICAL and grade.source == "rules"
    plain = asyncio.run(classifier.classify(build_change(case), context=ClassifyContext()))
    assert plain.severity is Severity.HIGH


def test_registry_entries_have_key_and_docstring() -> None:
    assert "rules" in classifiers.CLASSIFIERS
    for key, cls in classifiers.CLASSIFIERS.items():
        assert cls.key == key
        doc = (cls.__doc__ or "").strip()
        assert doc and "\n" not in doc


def test_focus_terms_read_only_the_product_line() -> None:
    profile = "# Us\nProduct: a fleet-tracking platform for couriers.\nPricing: $9 per van."
    assert {"fleet", "tracking", "courier"} <= focus_terms(profile)
    assert "van" not in focus_terms(profile)
    assert focus_terms("") == frozenset()
    section = "# Us\n\n## Product\n\nA fleet-tracking platform for couriers.\n\n- dispatch\n\n## Pricing\n$9"
    assert {"fleet", "tracking", "courier"} <= focus_terms(section)
    assert "dispatch" not in focus_terms(section)


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("Acme acquires Beta Labs", "acquisition"),
        ("We raised a €12M Series A", "funding"),
        ("now ISO/IEC 27001:2022 certified", "certification"),
        ("SOC 2 Type II report available", "certification"),
        ("Strategic partnership with Nimbus", "partnership"),
        ("Introducing Pulse", "launch"),
        ("Wir haben einen unbefugten Zugriff festgestellt", "security-incident"),
        ("Oxide appoints a new CFO", "executive"),
    ],
)
def test_keyword_family_matches(text: str, family: str) -> None:
    assert family in families_in(text)


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("Lower your customer acquisition cost", "acquisition"),
        ("SOC 2 Type I report available", "certification"),
        ("relaunching the blog theme", "launch"),
        ("our partners page", "partnership"),
    ],
)
def test_keyword_families_respect_word_boundaries(text: str, family: str) -> None:
    assert family not in families_in(text)


def test_families_are_data_with_names() -> None:
    assert len(FAMILY_BY_NAME) == len(FAMILIES)
    for family in FAMILIES:
        assert family.patterns and family.name == family.name.lower()


@pytest.mark.parametrize(
    ("before", "after", "typo", "volatile"),
    [
        ("données personelles", "données personnelles", True, False),
        ("Updated Mar 3, 2026", "Updated 4 March 2026", False, True),
        ("$65 per seat", "$69 per seat", False, False),
        ("thirty (30) days", "sixty (60) days", False, False),
    ],
)
def test_noise_edits(before: str, after: str, typo: bool, volatile: bool) -> None:
    assert is_typo_fix(before, after) is typo
    assert is_volatile_edit(before, after) is volatile


def test_quote_is_a_verbatim_prefix() -> None:
    text = "word " * 100
    assert text.startswith(quote(text, limit=50)) and len(quote(text, limit=50)) <= 50


def test_rules_import_nothing_beyond_records_errors_and_config() -> None:
    allowed = {"monitor.records", "monitor.errors", "monitor.config"}
    for name in ("rules.py", "signals.py", "fact_signals.py", "profile.py", "text.py", "keywords.py", "base.py"):
        tree = ast.parse((ROOT / "classifiers" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("monitor"):
                assert node.module in allowed, f"classifiers/{name} imports {node.module}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in {"httpx", "openai", "socket", "requests"}
