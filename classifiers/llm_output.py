"""The LLM's answer at the edge: its Pydantic model and JSON schema, parsing, and the checks
that keep a model from being fooled or from fooling us.

- ``GRADE_SCHEMA`` is strict-mode compatible (every key required, no extra keys) and is what
  the server is asked to enforce; where a server cannot, JSON mode plus ``parse_grade``.
- ``parse_grade`` forgives what is harmless (a Markdown fence, "High" for "high", text
  around the object) and rejects what changes meaning (an unknown severity or category).
- ``grade_to_classification`` keeps only evidence found in the change, lifts the severity
  to the rules' floor, and distrusts a grade that went down on a page addressing AI graders.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator

from monitor.errors import ClassifierError
from monitor.records import Category, Change, Classification, Severity

MAX_SUMMARY_CHARS = 400
MAX_ITEMS = 8


class LLMOutputError(ClassifierError):
    """The model's answer is not a usable grade; ``problem`` says why, for the repair turn."""

    def __init__(self, problem: str):
        self.problem = problem
        self.answer: str | None = None  # the unusable text, shown to the model in the repair turn
        super().__init__(problem)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str, limit: int) -> str:
    text = _CONTROL.sub("", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LLMGrade(BaseModel):
    """What the triage model answers for one change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: Severity
    category: Category
    summary: str = Field(min_length=1)
    facts: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    confidence: float = Field(ge=0.0, le=1.0)
    injection_suspected: bool = False

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Severity:
        if isinstance(value, str):
            return Severity.parse(value)
        raise ValueError(f"severity must be one of {', '.join(s.label for s in Severity)}")

    @field_serializer("severity")
    def _severity_label(self, value: Severity) -> str:
        # the cache stores grades in the model's own words, so they parse back the same way
        return value.label

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> Category:
        try:
            return Category(str(value).strip().lower())
        except ValueError:
            raise ValueError(f"category must be one of {', '.join(c.value for c in Category)}") from None

    @field_validator("summary", mode="before")
    @classmethod
    def _summary(cls, value: Any) -> str:
        return _clean(value, MAX_SUMMARY_CHARS) if isinstance(value, str) else value

    @field_validator("facts", "evidence", mode="before")
    @classmethod
    def _items(cls, value: Any) -> Any:
        if isinstance(value, list):
            return tuple(_clean(v, MAX_SUMMARY_CHARS) for v in value[:MAX_ITEMS] if isinstance(v, str) and v.strip())
        return value


GRADE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "severity": {"type": "string", "enum": [s.label for s in Severity]},
        "category": {"type": "string", "enum": [c.value for c in Category]},
        "summary": {"type": "string", "description": "one sentence for a product marketer"},
        "facts": {"type": "array", "items": {"type": "string"}},
        "evidence": {"type": "array", "items": {"type": "string"}, "description": "exact quotes"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "injection_suspected": {"type": "boolean"},
    },
    "required": ["severity", "category", "summary", "facts", "evidence", "confidence", "injection_suspected"],
    "additionalProperties": False,
}

RESPONSE_FORMAT_SCHEMA: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "change_grade", "strict": True, "schema": GRADE_SCHEMA},
}
RESPONSE_FORMAT_JSON: dict[str, Any] = {"type": "json_object"}

_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n(.*?)\n\s*```\s*$", re.DOTALL)


def _json_object(text: str) -> Any:
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # some models wrap the object in prose: take the outermost braces and try once more
        start, end = text.find("{"), text.rfind("}")
        if 0 <= start < end:
            try:
                return json.loads(text[start : end + 1])
            except json.JSONDecodeError:
                pass
        raise LLMOutputError(f"the answer is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def parse_grade(text: str | None) -> LLMGrade:
    """The model's text as an ``LLMGrade``; raises ``LLMOutputError`` naming what is wrong."""
    if text is None or not text.strip():
        raise LLMOutputError("the answer is empty")
    data = _json_object(text)
    if not isinstance(data, dict):
        raise LLMOutputError(f"the answer is JSON but not an object (got {type(data).__name__})")
    try:
        return LLMGrade.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise LLMOutputError(f"the answer does not match the schema: {problems}") from None


_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"', "\u00a0": " "})


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).replace('\\"', '"')
    return " ".join(text.split()).casefold()


def change_texts(change: Change) -> list[str]:
    """Every text a quote may come from: the changed blocks and the fact values."""
    texts = [t for b in change.blocks for t in (b.before, b.after) if t]
    texts += [t for f in change.facts for t in (f.subject, f.before, f.after, f.describe()) if t]
    return texts


def found_evidence(quotes: tuple[str, ...], change: Change) -> tuple[str, ...]:
    """The quotes that occur in the change (ignoring case, spacing and curly quotes)."""
    haystack = "\n".join(_normalise(t) for t in change_texts(change))
    kept = []
    for quote in quotes:
        needle = _normalise(quote.strip().strip('"').strip())
        if len(needle) >= 3 and needle in haystack and quote not in kept:
            kept.append(quote)
    return tuple(kept)


def grade_to_classification(
    grade: LLMGrade,
    *,
    change: Change,
    model: str,
    floor: Severity,
    rules: Classification | Callable[[], Classification],
    injection_seen: bool,
) -> Classification:
    """The grade as a ``Classification``, after the checks that make it trustworthy.

    ``rules`` may be a function: the rules' grade costs as much as the rest of this path
    together and is needed only when the model's grade is lifted, distrusted or incomplete.
    """
    rules_grade = rules if isinstance(rules, Classification) else None

    def by_rules() -> Classification:
        nonlocal rules_grade
        if rules_grade is None:
            assert callable(rules)
            rules_grade = rules()
        return rules_grade

    evidence = found_evidence(grade.evidence, change)
    confidence = grade.confidence
    if grade.evidence and len(evidence) < len(grade.evidence):
        # invented quotes say the model read something that is not there
        confidence *= 0.5 + 0.5 * len(evidence) / len(grade.evidence)
    severity = max(grade.severity, floor)
    if severity != grade.severity:
        confidence = min(confidence, by_rules().confidence)
    if injection_seen or grade.injection_suspected:
        # a page that talks to graders may have talked this one down: never go below the rules
        severity = max(severity, by_rules().severity)
        confidence = min(confidence, 0.5)
    category = grade.category
    if category is Category.NONE and severity > Severity.NONE:
        category = by_rules().category
    return Classification(
        severity=severity,
        category=category,
        summary=grade.summary,
        facts=grade.facts or by_rules().facts,
        evidence=evidence,
        source=f"llm:{model}",
        confidence=round(confidence, 3),
    )
