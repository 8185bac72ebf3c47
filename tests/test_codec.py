"""The JSON a snapshot's blocks and facts are stored as: one format whichever encoder wrote it."""

from __future__ import annotations

import json

import pytest

from monitor import codec
from monitor.records import Block, BlockKind, Fact

TEXTS = [
    "Pro — $49 / month",
    'quoted "plan" and a back\\slash',
    "controls \x00 \x1f \t\n and separators \u2028 \u2029",
    "Ünïcödé, 日本語 and 😀",
    "",
]


def standard(value: object) -> str:
    """How the store has always written them: the standard library, UTF-8 as is, no spaces."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("text", TEXTS)
def test_blocks_and_facts_are_written_as_the_standard_encoder_writes_them(text):
    blocks = (
        Block(BlockKind.PARAGRAPH, text, ("Pricing", text), None),
        Block(BlockKind.TABLE_ROW, text + " | x", (), "table#1"),
    )
    facts = (Fact("price", text, "monthly", "$49"),)
    blocks_json, facts_json = codec.blocks_to_json(blocks), codec.facts_to_json(facts)
    assert blocks_json == standard([[b.kind.value, b.text, list(b.path), b.group] for b in blocks])
    assert facts_json == standard([[f.kind, f.subject, f.attribute, f.value] for f in facts])
    assert codec.blocks_from_json(blocks_json) == blocks
    assert codec.facts_from_json(facts_json) == facts


def test_a_lone_surrogate_from_a_rendered_page_is_kept_not_refused():
    # a script can put half a surrogate pair into the DOM; the fast encoder refuses it
    text = "broken emoji \ud83d here"
    blocks = (Block(BlockKind.PARAGRAPH, text, ("\udc00",), None),)
    blocks_json = codec.blocks_to_json(blocks)
    assert blocks_json == standard([["paragraph", text, ["\udc00"], None]])
    assert codec.blocks_from_json(blocks_json) == blocks
    facts = (Fact("plan", text, "", "offered"),)
    assert codec.facts_from_json(codec.facts_to_json(facts)) == facts
