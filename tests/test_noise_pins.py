"""Ops' overrides of learned volatility: unpin a learned block, pin another."""

from __future__ import annotations

from monitor.diff import block_signature
from monitor.pipeline import effective_volatile
from monitor.records import Block, BlockKind, Page, Watch

A = Block(BlockKind.PARAGRAPH, "Rotating quote from a happy customer")
B = Block(BlockKind.PARAGRAPH, "Pro plan: $49 per seat")
PAGE = Page(url="https://acme.example/", title="", blocks=(A, B))
SA, SB = block_signature(A), block_signature(B)


def test_without_overrides_learned_signatures_stand():
    watch = Watch(competitor="Acme", url=PAGE.url)
    assert effective_volatile(watch, frozenset({SA, SB}), (PAGE,)) == {SA, SB}


def test_unpinned_block_is_alerted_on_again():
    watch = Watch(competitor="Acme", url=PAGE.url, unpin=(SB[:12],))
    assert effective_volatile(watch, frozenset({SA, SB}), (PAGE,)) == {SA}


def test_pinned_block_is_noise_though_never_learned():
    watch = Watch(competitor="Acme", url=PAGE.url, pin=(SA[:10],))
    assert effective_volatile(watch, frozenset(), (PAGE,)) == {SA}
