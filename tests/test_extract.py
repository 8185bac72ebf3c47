"""HTML -> blocks, facts and a content hash: tables in tests/data/extract_cases.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.extract import extract_page
from monitor.records import BlockKind, PageKind, Watch

DATA = Path(__file__).parent / "data"
CASES = yaml.safe_load((DATA / "extract_cases.yaml").read_text(encoding="utf-8"))


def watch_for(case: dict) -> Watch:
    options = case.get("watch", {})
    return Watch(
        competitor="Acme",
        url="http://127.0.0.1/page",
        kind=PageKind(options.get("kind", "other")),
        include=tuple(options.get("include", ())),
        exclude=tuple(options.get("exclude", ())),
        ignore=tuple(options.get("ignore", ())),
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_extract_blocks(case: dict) -> None:
    page = extract_page(case["html"], watch_for(case))
    assert [[b.kind.value, b.text] for b in page.blocks] == case["blocks"]
    by_text = {b.text: b for b in page.blocks}
    for text, path in case.get("paths", {}).items():
        assert list(by_text[text].path) == path
    if "same_group" in case:
        groups = {by_text[t].group for t in case["same_group"]}
        assert len(groups) == 1 and None not in groups


def test_title_and_url() -> None:
    page = extract_page(
        "<html><head><title> Pricing  · Acme </title></head><body><p>x y</p></body></html>", watch_for({})
    )
    assert page.title == "Pricing · Acme"
    assert page.url == "http://127.0.0.1/page"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<<<>>>",
        "\x00\x01\x02",
        "<?xml version='1.0' encoding='utf-8'?><html><body></body></html>",
        "<html><body>" + "<div>" * 3000 + "deep" + "</div>" * 3000 + "</body></html>",
        "<p>unclosed <b>bold",
        "\ufeff<html><body><p>bom</p>",
        "<table><tr><td>orphan cell",
    ],
    ids=[
        "empty",
        "blank",
        "brackets",
        "control-chars",
        "xml-declaration",
        "very-deep",
        "unclosed",
        "bom",
        "orphan-cell",
    ],
)
def test_junk_html_never_raises(html: str) -> None:
    page = extract_page(html, watch_for({}))
    assert isinstance(page.blocks, tuple)
    assert len(page.content_hash) == 64


def test_empty_input_has_no_blocks() -> None:
    assert extract_page("", watch_for({})).blocks == ()


NOISY = """<html><head><link rel="stylesheet" href="/main.css?v={cb}"></head><body>
<aside class="promo"><p>{ad}</p></aside><header><a href="/">Acme</a></header>
<main><h1>Pricing</h1><p class="stamp">Updated {minutes} minutes ago</p>
<p>{viewers} teams started a trial this week</p><p>Built {iso}</p>
<blockquote>{quote}</blockquote><ul class="logos">{logos}</ul>
<h2>Pro</h2><p>$49 per month</p><input type="hidden" name="csrf" value="{nonce}"></main>
<footer><p>© {year} Acme, Inc.</p><div class="cookie"><p>{cookie}</p></div></footer>
<script nonce="{nonce}">track()</script></body></html>"""
RENDERINGS = [
    dict(
        cb="8f3a2c11",
        ad="Join our webinar",
        minutes=7,
        viewers=312,
        iso="2026-11-23T05:01:02+00:00",
        quote="“Setup took an afternoon.” — Priya, Head of Growth",
        year=2025,
        nonce="a1b2c3d4e5f6a7b8c9d0",
        cookie="We use cookies.",
        logos="<li><img alt='Ledgerly'></li><li><img alt='Fernhill'></li><li><img alt='Cartwheel'></li>",
    ),
    dict(
        cb="00ff12ab",
        ad="Read the customer story",
        minutes=42,
        viewers=18,
        iso="2026-11-23T06:11:09Z",
        quote="“Support answers in minutes.” — Elena, Marketing Ops",
        year=2026,
        nonce="ffeeddccbbaa99887766",
        cookie="Cookies help us. Accept?",
        logos="<li><img alt='Cartwheel'></li><li><img alt='Ledgerly'></li><li><img alt='Fernhill'></li>",
    ),
]


def test_content_hash_ignores_noise_and_order() -> None:
    pages = [extract_page(NOISY.format(**values), watch_for({"watch": {"kind": "pricing"}})) for values in RENDERINGS]
    assert pages[0].content_hash == pages[1].content_hash
    assert pages[0].blocks[0].text == "Acme"


def test_content_hash_changes_with_content() -> None:
    changed = dict(RENDERINGS[0])
    base = extract_page(NOISY.format(**changed), watch_for({}))
    other = extract_page(NOISY.format(**changed).replace("$49", "$59"), watch_for({}))
    assert base.content_hash != other.content_hash


def test_facts_are_extracted_by_page_kind() -> None:
    html = "<body><h2>Pro</h2><p>$49 per month</p></body>"
    pricing = extract_page(html, watch_for({"watch": {"kind": "pricing"}}))
    careers = extract_page(html, watch_for({"watch": {"kind": "careers"}}))
    assert ("price", "Pro", "monthly") in {f.key for f in pricing.facts}
    assert careers.facts == ()


def test_block_kinds_are_the_enum() -> None:
    page = extract_page("<body><h1>A</h1><p>b</p></body>", watch_for({}))
    assert all(isinstance(b.kind, BlockKind) for b in page.blocks)


def test_bad_selectors_do_not_raise() -> None:
    watch = Watch(competitor="Acme", url="http://127.0.0.1/p", include=("main[",), exclude=("::bogus",))
    assert extract_page("<body><main><p>Copy.</p></main></body>", watch).blocks == ()
