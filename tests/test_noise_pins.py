"""Learned volatile slots, and ops' overrides of them: unpin a learned slot, pin a block."""

from __future__ import annotations

from monitor.diff import block_signature
from monitor.pipeline import effective_volatile
from monitor.records import Block, BlockKind, Page, Watch
from monitor.volatility import SlotPattern, learn_slots, volatile_signatures

WIDGET = Block(BlockKind.PARAGRAPH, "Word of the moment: amber birch", ("Acme",))
PRICE = Block(BlockKind.PARAGRAPH, "Pro plan: $49 per seat", ("Acme", "Plans"))
QUOTE = Block(BlockKind.QUOTE, "We love it", ("Acme",))
PAGE = Page(url="https://acme.example/", title="", blocks=(WIDGET, PRICE, QUOTE))
SLOT = SlotPattern(BlockKind.PARAGRAPH, ("Acme",), "Word of the moment: ", "")


def page_with(*blocks: Block) -> Page:
    return Page(url=PAGE.url, title="", blocks=blocks)


def test_a_learned_slot_keeps_matching_new_texts_in_the_same_place():
    second = page_with(Block(BlockKind.PARAGRAPH, "Word of the moment: cedar dune", ("Acme",)), PRICE, QUOTE)
    (slot,) = learn_slots(PAGE, second, frozenset({block_signature(WIDGET)}))
    assert slot == SLOT and SlotPattern.from_json(slot.to_json()) == slot
    third = Block(BlockKind.PARAGRAPH, "Word of the moment: ember fjord", ("Acme",))
    assert volatile_signatures([slot], (page_with(third, PRICE),)) == {block_signature(third)}
    moved = Block(BlockKind.PARAGRAPH, "Word of the moment: ember fjord", ("Acme", "Plans"))
    assert volatile_signatures([slot], (page_with(moved),)) == frozenset()  # another place: watched


def test_variants_sharing_no_words_pin_the_slot_by_position():
    second = page_with(WIDGET, PRICE, Block(BlockKind.QUOTE, "Setup took a day", ("Acme",)))
    (slot,) = learn_slots(PAGE, second, frozenset({block_signature(QUOTE)}))
    assert slot.ordinal == 0 and slot.kind is BlockKind.QUOTE
    other = Block(BlockKind.QUOTE, "Support answers fast", ("Acme",))
    assert volatile_signatures([slot], (page_with(WIDGET, other),)) == {block_signature(other)}


def test_without_overrides_learned_slots_stand():
    watch = Watch(competitor="Acme", url=PAGE.url)
    assert effective_volatile(watch, [SLOT], (PAGE,)) == {block_signature(WIDGET)}


def test_an_unpinned_slot_is_alerted_on_again():
    watch = Watch(competitor="Acme", url=PAGE.url, unpin=(SLOT.signature[:12],))
    assert effective_volatile(watch, [SLOT], (PAGE,)) == frozenset()


def test_a_pinned_block_is_noise_though_never_learned():
    watch = Watch(competitor="Acme", url=PAGE.url, pin=(block_signature(PRICE)[:10],))
    assert effective_volatile(watch, [], (PAGE,)) == {block_signature(PRICE)}
