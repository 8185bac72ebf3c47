"""LLM-output parsing, the JSON schema, evidence checks and the floor (classifiers/llm_output.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from classifiers.llm_output import (
    GRADE_SCHEMA,
    LLMGrade,
    LLMOutputError,
    found_evidence,
    grade_to_classification,
    parse_grade,
)
from monitor.records import (
    BlockChange,
    BlockKind,
    BlockOp,
    Category,
    Change,
    Classification,
    FactChange,
    PageKind,
    Severity,
)

CASES = yaml.safe_load((Path(__file__).parent / "data" / "llm_output_cases.yaml").read_text(encoding="utf-8"))
ANSWERS = CASES["answers"]
EVIDENCE = CASES["evidence"]

PRICE_CHANGE = Change(
    url="https://acme.example/pricing",
    competitor="Acme",
    page_kind=PageKind.PRICING,
    before_id=1,
    after_id=2,
    detected_at=datetime(2026, 11, 23, tzinfo=UTC),
    blocks=(
        BlockChange(
            BlockOp.MODIFIED,
            BlockKind.PARAGRAPH,
            ("Pricing", "Pro"),
            'Pro is now "$49 per seat / month"',
            'Pro is now "$59 per seat / month"',
        ),
    ),
    facts=(FactChange("price", "Pro", "monthly", "$49", "$59"),),
)
RULES = Classification(Severity.CRITICAL, Category.PRICING, "rules summary", source="rules", confidence=0.9)


@pytest.mark.parametrize("case", ANSWERS, ids=[c["name"] for c in ANSWERS])
def test_parse_grade(case: dict) -> None:
    if "error" in case:
        with pytest.raises(LLMOutputError) as caught:
            parse_grade(case["answer"])
        assert case["error"] in caught.value.problem
        return
    grade = parse_grade(case["answer"])
    for key, expected in case["expect"].items():
        got = getattr(grade, key)
        if key == "severity":
            got = got.label
        elif isinstance(got, tuple):
            got = list(got)
        assert got == expected, key


@pytest.mark.parametrize("case", EVIDENCE, ids=[c["name"] for c in EVIDENCE])
def test_evidence_must_be_found_in_the_change(case: dict) -> None:
    assert list(found_evidence(tuple(case["quotes"]), PRICE_CHANGE)) == case["kept"]


def test_schema_matches_the_model() -> None:
    """The schema the server enforces and the model we validate with name the same keys."""
    assert set(GRADE_SCHEMA["properties"]) == set(LLMGrade.model_fields)
    assert set(GRADE_SCHEMA["required"]) == set(LLMGrade.model_fields)
    assert GRADE_SCHEMA["additionalProperties"] is False
    assert GRADE_SCHEMA["properties"]["severity"]["enum"] == [s.label for s in Severity]
    assert GRADE_SCHEMA["properties"]["category"]["enum"] == [c.value for c in Category]


def _grade(**fields: object) -> LLMGrade:
    base = dict(severity="medium", category="pricing", summary="s", confidence=0.8, evidence=[], facts=[])
    base.update(fields)
    return LLMGrade.model_validate(base)


def _classify(grade: LLMGrade, *, floor: Severity = Severity.NONE, injection: bool = False) -> Classification:
    return grade_to_classification(
        grade, change=PRICE_CHANGE, model="m", floor=floor, rules=RULES, injection_seen=injection
    )


def test_the_rules_floor_binds_the_model() -> None:
    out = _classify(_grade(severity="low"), floor=Severity.HIGH)
    assert out.severity is Severity.HIGH
    assert out.source == "llm:m"


def test_the_model_may_grade_above_the_floor() -> None:
    assert _classify(_grade(severity="critical"), floor=Severity.HIGH).severity is Severity.CRITICAL


def test_a_page_addressing_graders_cannot_talk_the_grade_below_the_rules() -> None:
    out = _classify(_grade(severity="low", confidence=0.95), injection=True)
    assert out.severity is Severity.CRITICAL
    assert out.confidence <= 0.5


def test_invented_evidence_is_dropped_and_lowers_confidence() -> None:
    out = _classify(_grade(evidence=["$59 per seat / month", "free forever"], confidence=0.8))
    assert out.evidence == ("$59 per seat / month",)
    assert out.confidence == pytest.approx(0.6)
