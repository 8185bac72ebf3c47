"""Confirmation, volatility and flapping: tables in tests/data/noise_cases.yaml."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from monitor.diff import block_signature, diff_snapshots
from monitor.extract import extract_page
from monitor.noise import confirm_change, is_flapping
from monitor.records import PageKind, Snapshot, Watch

CASES = yaml.safe_load((Path(__file__).parent / "data" / "noise_cases.yaml").read_text(encoding="utf-8"))
WATCH = Watch(competitor="Acme", url="http://127.0.0.1/p", kind=PageKind.PRICING)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("case", CASES["confirm"], ids=[c["name"] for c in CASES["confirm"]])
def test_confirm_change(case: dict) -> None:
    before, first, second = (extract_page(case[k], WATCH) for k in ("before", "first", "second"))
    kept, volatile = confirm_change(before, first, second)
    assert [b.text for b in kept.blocks] == case["kept"]
    assert len(volatile) == case["volatile"]
    change = diff_snapshots(WATCH, Snapshot(1, WATCH.url, T0, before), Snapshot(2, WATCH.url, T0, kept))
    assert (change is not None) == case["changed"]


def test_volatile_signatures_suppress_the_block_next_time() -> None:
    before = extract_page("<body><h1>Home</h1><p>Quote: A</p></body>", WATCH)
    first = extract_page("<body><h1>Home</h1><p>Quote: B</p></body>", WATCH)
    second = extract_page("<body><h1>Home</h1><p>Quote: C</p></body>", WATCH)
    _, volatile = confirm_change(before, first, second)
    assert {block_signature(b) for b in first.blocks if b.text == "Quote: B"} <= volatile
    later = extract_page("<body><h1>Home</h1><p>Quote: B</p></body>", WATCH)
    snapshot = Snapshot(1, WATCH.url, T0, second)
    assert diff_snapshots(WATCH, snapshot, Snapshot(2, WATCH.url, T0, later), volatile=volatile) is None


def test_agreed_page_hash_is_recomputed() -> None:
    before = extract_page("<body><p>Deal: A</p><p>Copy one.</p></body>", WATCH)
    first = extract_page("<body><p>Deal: B</p><p>Copy two.</p></body>", WATCH)
    second = extract_page("<body><p>Deal: C</p><p>Copy two.</p></body>", WATCH)
    kept, _ = confirm_change(before, first, second)
    assert kept.content_hash not in (before.content_hash, first.content_hash, "")
    assert kept.content_hash == extract_page("<body><p>Deal: A</p><p>Copy two.</p></body>", WATCH).content_hash


@pytest.mark.parametrize("case", CASES["flapping"], ids=[c["name"] for c in CASES["flapping"]])
def test_is_flapping(case: dict) -> None:
    options = {"min_flips": case["min_flips"]} if "min_flips" in case else {}
    assert is_flapping(case["history"], case["new"], **options) is case["flapping"]
