"""A page's own `normalize:` options decide what counts as the same text there."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from monitor.config import load_config
from monitor.diff import diff_snapshots
from monitor.extract import extract_page
from monitor.records import NormalizeOptions, PageKind, Snapshot, Watch

CASES = yaml.safe_load((Path(__file__).parent / "data" / "normalize_options_cases.yaml").read_text())
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def html(line: str) -> str:
    return f"<html><body><main><h1>Acme</h1><p>{line}</p><p>Analytics for product teams.</p></main></body></html>"


def changed(watch: Watch, before: str, after: str) -> bool:
    a, b = extract_page(html(before), watch), extract_page(html(after), watch)
    return diff_snapshots(watch, Snapshot(1, watch.url, NOW, a), Snapshot(2, watch.url, NOW, b)) is not None


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_an_option_turned_off_makes_the_difference_count(case):
    watch = Watch(competitor="Acme", url="https://acme.example/", kind=PageKind.LEGAL)
    assert not changed(watch, case["before"], case["after"]), "the same by default"
    strict = replace(watch, normalize=NormalizeOptions(**{case["option"]: False}))
    assert changed(strict, case["before"], case["after"])


def test_the_options_come_from_the_page_config(tmp_path):
    config = tmp_path / "rivalwatch.yaml"
    config.write_text(
        "competitors:\n  - name: Acme\n    pages:\n"
        "      - url: https://acme.example/terms\n        normalize: {case: false, dates: false}\n"
        "      - url: https://acme.example/\n"
    )
    strict, default = load_config(config).watches()
    assert strict.normalize == NormalizeOptions(case=False, dates=False)
    assert default.normalize == NormalizeOptions()
