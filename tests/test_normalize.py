"""Normalisation keeps meaning and drops noise: tables in tests/data/normalize_cases.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.normalize import (
    comparison_key,
    find_dates,
    normalize_numbers,
    readable,
    remove_ignored,
    strip_noise,
)

CASES = yaml.safe_load((Path(__file__).parent / "data" / "normalize_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES["same"], ids=[c["name"] for c in CASES["same"]])
def test_same_meaning_compares_equal(case: dict) -> None:
    assert comparison_key(case["a"]) == comparison_key(case["b"])


@pytest.mark.parametrize("case", CASES["different"], ids=[c["name"] for c in CASES["different"]])
def test_real_differences_survive(case: dict) -> None:
    assert comparison_key(case["a"]) != comparison_key(case["b"])


@pytest.mark.parametrize("case", CASES["keys"], ids=[c["name"] for c in CASES["keys"]])
def test_comparison_key(case: dict) -> None:
    assert comparison_key(case["text"]) == case["key"]


def test_readable_keeps_the_original_words() -> None:
    assert readable("  Pro\u00a0plan ,\n$49.00 / month ") == "Pro plan, $49.00 / month"


def test_ignore_patterns_are_removed_from_text() -> None:
    text = "Plans 18 teams signed up this week for you"
    assert remove_ignored(text, [r"\d+ teams signed up this week"]) == "Plans for you"
    assert remove_ignored(text, []) == text


def test_strip_noise_leaves_plain_dates() -> None:
    assert "2026-03-12" in strip_noise("Released 2026-03-12")
    assert find_dates("Released Mar 12, 2026 and 2026-04-01") == ("2026-03-12", "2026-04-01")


def test_numbers() -> None:
    assert normalize_numbers("1,000,000 events for 49,00 €") == "1000000 events for €49"
