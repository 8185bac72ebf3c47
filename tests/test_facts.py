"""Facts read off blocks, and their differences in plain words: tests/data/facts_cases.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.extract import extract_page
from monitor.facts import diff_facts, extract_facts
from monitor.records import Block, BlockKind, Fact, PageKind, Watch

CASES = yaml.safe_load((Path(__file__).parent / "data" / "facts_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES["extract"], ids=[c["name"] for c in CASES["extract"]])
def test_extract_facts(case: dict) -> None:
    watch = Watch(competitor="Acme", url="http://127.0.0.1/p", kind=PageKind(case["kind"]))
    page = extract_page(case["html"], watch)
    assert [[f.kind, f.subject, f.attribute, f.value] for f in page.facts] == case["facts"]


@pytest.mark.parametrize("case", CASES["describe"], ids=[c["name"] for c in CASES["describe"]])
def test_diff_facts_in_plain_words(case: dict) -> None:
    before = tuple(Fact(*f) for f in case["before"])
    after = tuple(Fact(*f) for f in case["after"])
    assert [c.describe() for c in diff_facts(before, after)] == case["lines"]


def test_unchanged_facts_have_no_difference() -> None:
    facts = (Fact("price", "Pro", "monthly", "$49"), Fact("feature", "SSO", "plans", "Enterprise"))
    assert diff_facts(facts, facts) == ()


def test_pricing_facts_ignore_other_page_kinds() -> None:
    blocks = (Block(BlockKind.HEADING, "Pro"), Block(BlockKind.PARAGRAPH, "$49 per month", path=("Pro",)))
    assert extract_facts(blocks, kind=PageKind.PRICING)
    assert extract_facts(blocks, kind=PageKind.CAREERS) == ()
