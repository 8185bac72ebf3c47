"""Snapshot diff: tables in tests/data/diff_cases.yaml, plus signatures, volatility and the HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from monitor.diff import block_signature, diff_snapshots
from monitor.extract import extract_page
from monitor.records import Block, BlockKind, BlockOp, PageKind, Snapshot, Watch

CASES = yaml.safe_load((Path(__file__).parent / "data" / "diff_cases.yaml").read_text(encoding="utf-8"))
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def snapshots(before: str, after: str, kind: str = "other") -> tuple[Watch, Snapshot, Snapshot]:
    watch = Watch(competitor="Acme", url="http://127.0.0.1/p", kind=PageKind(kind))
    old = Snapshot(1, watch.url, T0, extract_page(before, watch))
    new = Snapshot(2, watch.url, T0 + timedelta(hours=6), extract_page(after, watch))
    return watch, old, new


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_diff_snapshots(case: dict) -> None:
    watch, old, new = snapshots(case["before"], case["after"], case.get("kind", "other"))
    change = diff_snapshots(watch, old, new)
    expect = case["expect"]
    if expect is None:
        assert change is None
        return
    assert change is not None
    assert sorted(c.after for c in change.blocks if c.op is BlockOp.ADDED) == sorted(expect.get("added", []))
    assert sorted(c.before for c in change.blocks if c.op is BlockOp.REMOVED) == sorted(expect.get("removed", []))
    assert [[c.before, c.after] for c in change.blocks if c.op is BlockOp.MODIFIED] == expect.get("modified", [])
    lines = [f.describe() for f in change.facts]
    for line in expect.get("facts", []):
        assert line in lines
    assert change.detected_at == new.taken_at
    assert (change.before_id, change.after_id, change.competitor) == (1, 2, "Acme")


def test_change_carries_path_and_context() -> None:
    watch, old, new = snapshots(
        "<body><h1>Product</h1><h2>Replay</h2><p>Watch sessions.</p><p>Beta on Team.</p></body>",
        "<body><h1>Product</h1><h2>Replay</h2><p>Watch sessions.</p><p>Generally available on Team.</p></body>",
    )
    change = diff_snapshots(watch, old, new)
    assert change is not None
    (block,) = change.blocks
    assert block.op is BlockOp.MODIFIED
    assert block.path == ("Product", "Replay")
    assert block.context == "Watch sessions."


def test_volatile_blocks_are_suppressed() -> None:
    watch, old, new = snapshots(
        "<body><h1>Home</h1><p>Today: sunny</p><p>Stable copy.</p></body>",
        "<body><h1>Home</h1><p>Today: rainy</p><p>Stable copy.</p></body>",
    )
    assert diff_snapshots(watch, old, new) is not None
    volatile = frozenset(block_signature(b) for b in (*old.page.blocks, *new.page.blocks) if b.text.startswith("Today"))
    assert diff_snapshots(watch, old, new, volatile=volatile) is None


def test_block_signature_is_stable_and_specific() -> None:
    a = Block(BlockKind.PARAGRAPH, "Pro  $49.00 per month", path=("Pricing",))
    b = Block(BlockKind.PARAGRAPH, "Pro $49 per month", path=("Pricing",))
    c = Block(BlockKind.PARAGRAPH, "Pro $49 per month", path=("Other",))
    d = Block(BlockKind.HEADING, "Pro $49 per month", path=("Pricing",))
    assert block_signature(a) == block_signature(b)
    assert len({block_signature(b), block_signature(c), block_signature(d)}) == 3


def test_diff_html_escapes_competitor_text() -> None:
    evil = '<img src=x onerror="alert(1)"> & <script>steal()</script>'
    escaped = evil.replace("&", "&amp;").replace("<", "&lt;")
    watch, old, new = snapshots(
        "<body><h2>Plans &amp; prices</h2><p>Old copy here.</p></body>",
        f"<body><h2>Plans &amp; prices</h2><p>Old copy here. {escaped}</p></body>",
    )
    change = diff_snapshots(watch, old, new)
    assert change is not None
    assert "<script>" not in change.diff_html and "<img" not in change.diff_html
    assert "&lt;script&gt;" in change.diff_html
    assert "Plans &amp; prices" in change.diff_html
    assert "<ins>" in change.diff_html


def test_word_level_side_by_side() -> None:
    watch, old, new = snapshots(
        "<body><p>SSO is available on the Enterprise plan only.</p></body>",
        "<body><p>SSO is available on the Growth and Enterprise plans.</p></body>",
    )
    change = diff_snapshots(watch, old, new)
    assert change is not None
    assert "<del>" in change.diff_html and "<ins>" in change.diff_html
    assert "SSO is available on the " in change.diff_html


def test_side_by_side_of_a_rewrite_is_capped() -> None:
    before = "<body>" + "".join(f"<p>Old paragraph number {n} here.</p>" for n in range(260)) + "</body>"
    after = "<body>" + "".join(f"<p>Entirely new text {n} now.</p>" for n in range(260)) + "</body>"
    watch, old, new = snapshots(before, after)
    change = diff_snapshots(watch, old, new)
    assert change is not None and len(change.blocks) >= 260
    assert change.diff_html.count('<tr class="rw-') == 201
    assert "more changed blocks" in change.diff_html


def test_an_edit_pairs_with_its_own_row_not_a_look_alike_that_comes_first() -> None:
    """The demo's v4 pricing moves SSO into Pro: the card gains an "SSO" item and the comparison row
    changes. Pairing greedily in page order once matched the row with the card item."""
    import random

    from monitor.demo.site import DEMO_PAGES, SITE_DIR, load_page_versions, render_noise

    page = next(p for p in DEMO_PAGES if p.name == "pricing")
    versions = load_page_versions(SITE_DIR, page)
    watch = Watch(competitor="Northwind", url="http://127.0.0.1/pricing", kind=PageKind.PRICING)
    now = datetime(2026, 11, 23, tzinfo=UTC)

    def snap(i: int, html: str) -> Snapshot:
        text = render_noise(html, rng=random.Random(i), now=now, testimonials=["“Great.” — Ana"])
        return Snapshot(i, watch.url, now, extract_page(text, watch))

    change = diff_snapshots(watch, snap(1, versions[2]), snap(2, versions[4]))
    assert change is not None
    modified = [(c.kind, c.before, c.after) for c in change.blocks if c.op is BlockOp.MODIFIED]
    assert modified == [
        (
            BlockKind.TABLE_ROW,
            "SAML single sign-on (SSO) | Starter: — | Pro: — | Enterprise: ✓",
            "SAML single sign-on (SSO) | Starter: — | Pro: ✓ | Enterprise: ✓",
        )
    ]
