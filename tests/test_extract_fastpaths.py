"""The fast paths of extraction and normalisation give what the plain steps they replace give."""

from __future__ import annotations

import hashlib
import random
import re

from monitor.cleanup import _PRE_STRIP, _pre_strip
from monitor.extract import _row_text, content_hash, extract_page
from monitor.normalize import (
    _ASCII_WORD_KEY,
    _ASCII_WORD_KEY_DIGIT_0,
    _DEFAULT_FIELD,
    _RELATIVE_TIME,
    _default_key,
    _may_be_relative,
    _may_have_default_field,
    _strip_noise,
    comparison_key,
    normalize_places,
    normalizing,
    readable,
)
from monitor.records import Block, BlockKind, Fact, NormalizeOptions, PageKind, Watch

_SPACE_BEFORE_PUNCT = re.compile(r"\s+(?=[,.;:!?)\]](?:\s|$))")
_PIECES = [
    "a", "Bc", " ", "  ", "\t", "\n", "\x0b", "\x1c", "\x1f", "\u00a0", "\u2003", "\u200b", "\u00ad", "\x01",
    ",", ".", ")", "]", " ,", " .", "|", " · ", "•", "ß", "İ", "3", "2026", "12:30 PM", "2026-03-12T10:00:00Z",
    "$49.00", "1,000", "Full-time", " this week", " online", "5 likes", "3 days ago", "yesterday", "=", "?v=9",
    "deadbeef1234cafe", "aB3dEfGhIjKlMnOpQrSt1", "550e8400-e29b-41d4-a716-446655440000", "Copyright ©",
    "l'instant", "il-y-a", "Just now", " ago", "VOR", "Boston, MA", "a, UK", " | Full time", "|", "'", " (", "!",
]  # fmt: skip


def _texts(count: int = 4000) -> list[str]:
    rng = random.Random(5)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 12))) for _ in range(count)]


def _plain_readable(text: str) -> str:
    text = " ".join(text.replace("\u200b", "").replace("\u00ad", "").split())
    return _SPACE_BEFORE_PUNCT.sub("", text)


def test_readable_fast_path_matches_the_plain_steps() -> None:
    for text in _texts():
        assert readable(text) == _plain_readable(text), repr(text)


def _plain_ascii_words_key(text: str) -> str:
    if _may_be_relative(text.lower()):
        text = _RELATIVE_TIME.sub(" ", text)
    if _may_have_default_field(text):
        text = _DEFAULT_FIELD.sub("", text)
    text = normalize_places(text)
    return " ".join(text.encode("ascii").translate(_ASCII_WORD_KEY).decode("ascii").split())


def test_ascii_key_without_digits_matches_the_plain_steps() -> None:
    for text in _texts():
        if not text.isascii():
            continue
        words = text.encode("ascii").translate(_ASCII_WORD_KEY_DIGIT_0).decode("ascii")
        assert ("0" in words) == bool(re.search(r"\d", text)), repr(text)
        if "0" not in words and "=" not in text:
            assert _default_key.__wrapped__(text) == _plain_ascii_words_key(text), repr(text)


def test_noise_is_the_same_whether_the_digit_test_is_known_or_not() -> None:
    for text in _texts():
        if text.isascii() and re.search(r"\d", text):
            assert _strip_noise(text, digits=True) == _strip_noise(text), repr(text)


def _blocks(html: str) -> list[tuple[str, str]]:
    page = extract_page(html, Watch(competitor="c", url="http://x/", kind=PageKind.OTHER))
    return [(b.kind, b.text) for b in page.blocks]


def test_plain_and_nested_tables_read_row_by_row() -> None:
    plain = "<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>$49</td></tr></table>"
    assert _blocks(f"<html><body>{plain}</body></html>") == [(BlockKind.TABLE_ROW, "Pro | Price: $49")]
    nested = (
        "<table><tr><td>Outer <table><tr><td>in a</td><td>in b</td></tr></table></td><td>x</td></tr>"
        "<tr><td>r2</td><td>y</td></tr></table>"
    )
    assert _blocks(f"<html><body>{nested}</body></html>") == [
        (BlockKind.TABLE_ROW, "Outer in ain b | x"),
        (BlockKind.TABLE_ROW, "r2 | y"),
    ]
    # a row nested in a cell-less wrapper inside another row: each cell stays with its own row
    odd = "<table><tr><td>a</td><div><tr><td>b</td></tr></div><td>c</td></tr></table>"
    assert _blocks(f"<html><body>{odd}</body></html>") == [(BlockKind.TABLE_ROW, "a | c"), (BlockKind.TABLE_ROW, "b")]


def test_a_long_mixed_container_is_no_group_and_a_repeated_one_is() -> None:
    mixed = "".join(f"<p class='c{n % 5}'>para {n} words</p>" for n in range(40))
    page = extract_page(f"<html><body><main>{mixed}</main></body></html>", Watch(competitor="c", url="http://x/"))
    assert all(b.group is None for b in page.blocks)
    cards = "".join(f"<div class='card'><p>Card {n}</p></div>" for n in range(8)) + "<p>odd one</p>"
    page = extract_page(f"<html><body><main>{cards}</main></body></html>", Watch(competitor="c", url="http://x/"))
    assert {b.group for b in page.blocks} == {"main.#1"}


def test_hidden_panels_named_by_aria_controls_stay() -> None:
    html = (
        "<html><body><button aria-controls='p1 p2'>Open</button><div id='p2' hidden>Panel text</div>"
        "<div id='p3' hidden>Gone</div><div style='display:none'>Also gone</div><p>Kept</p></body></html>"
    )
    texts = [text for _, text in _blocks(html)]
    assert "Panel text" in texts and "Kept" in texts
    assert "Gone" not in texts and "Also gone" not in texts


def test_blocks_built_without_init_equal_blocks_built_with_it() -> None:
    page = extract_page("<html><body><h1>T</h1><p>x</p></body></html>", Watch(competitor="c", url="http://x/"))
    for block in page.blocks:
        assert block == Block(block.kind, block.text, block.path, block.group)
        assert hash(block) == hash(Block(block.kind, block.text, block.path, block.group))


def test_pre_strip_matches_the_pattern_substitution() -> None:
    rng = random.Random(7)
    pieces = ["<script>x</script>", "<ScRiPt a=1>x</SCRIPT  >", "<script>", "<!-- a -->", "<!---->", "<!-- x",
              "<style/>y</style>", "<svg><svg></svg></svg>", "<scriptx>", "<NOSCRIPT>n</noscript>", "<template>t",
              "</TEMPLATE>", "<<script>a</script>", "<!--<script>-->x</script>", "<s", "<!-", "é", "ſ", "K", "<ſcript>",
              "a", " ", ">", "<", "/", "\n", "<p>", "<table>"]  # fmt: skip
    for _ in range(4000):
        html = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert _pre_strip(html) == _PRE_STRIP.sub(" ", html), repr(html)


def _plain_row_text(cells: list[str], header: list[str]) -> str:
    nonempty = [c for c in cells if c]
    if len(nonempty) <= 1 or len(header) != len(cells):
        return " | ".join(nonempty)
    named = [f"{h}: {c or '—'}" for h, c in zip(header[1:], cells[1:], strict=True)]
    return " | ".join([cells[0] or "—", *named])


def test_two_cell_rows_read_as_the_general_steps_read_them() -> None:
    values = ["", "a", "Pro", "$49", "—"]
    headers: list[list[str]] = [[], ["Plan"], ["Plan", "Price"], ["", ""], ["Plan", ""], ["A", "B", "C"]]
    for first in values:
        for second in values:
            for header in headers:
                cells = [first, second]
                assert _row_text(cells, header) == _plain_row_text(cells, header), (cells, header)


def test_noisy_class_names_drop_their_element_with_or_without_other_attributes() -> None:
    html = (
        "<html><body><div class='cookie-banner'>Cookies</div><div class='card'>Card</div>"
        "<div class='card' id='promo-bar'>Promo</div><a href='/x'>Link</a><p class=''>Empty class</p>"
        "<div class='x' aria-label='Trending now'>Trend</div></body></html>"
    )
    texts = [text for _, text in _blocks(html)]
    assert texts == ["Card", "Link", "Empty class"]


def _plain_content_hash(blocks: tuple[Block, ...], facts: tuple[Fact, ...]) -> str:
    lines = sorted("\x1f".join(map(comparison_key, b.path)) + "\x1e" + comparison_key(b.text) + "\n" for b in blocks)
    lines.append("\x00facts\n")
    lines.extend(
        sorted("\x1f".join((f.kind, *map(comparison_key, (f.subject, f.attribute, f.value)))) + "\n" for f in facts)
    )
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def test_content_hash_sorted_by_prefix_equals_the_sorted_lines() -> None:
    rng = random.Random(9)
    texts = _texts(300)
    paths = [(), ("Pro",), ("Pro", "Team"), ("pro",), ("Pro ",), ("Pro", ""), ("", "Pro"), ("a b",), ("a", "b")]
    facts = (Fact("price", "Pro", "monthly", "$49"), Fact("plan", "Pro", "", "offered"))
    for options in (NormalizeOptions(), NormalizeOptions(case=False, noise=False)):
        with normalizing(options):
            for _ in range(300):
                blocks = tuple(
                    Block(BlockKind.PARAGRAPH, rng.choice(texts), rng.choice(paths), None)
                    for _ in range(rng.randint(0, 20))
                )
                assert content_hash(blocks, facts) == _plain_content_hash(blocks, facts), blocks
