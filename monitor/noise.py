"""Confirmation, volatility learning and flapping: the noise no pattern can name. Pure.

When a crawl suggests a change, the pipeline fetches the page a second time.
``confirm_change`` keeps what both fetches agree on: a block that differs between them is
volatile (a rotating quote, a live counter nobody wrote a pattern for); its place in the kept
page is taken by the block from the last snapshot, and its signatures are returned so that the
caller suppresses it from then on.

``is_flapping`` judges from a page's history of content hashes whether it keeps returning to
states it has shown before (an A/B test, rotating variants). One return is never enough: a
price that goes back to its old value is a real change.
"""

from __future__ import annotations

from collections import Counter

from diff_match_patch import diff_match_patch

from monitor.diff import block_signature
from monitor.extract import block_key, content_hash
from monitor.records import Block, Fact, Page

_FLAP_WINDOW = 12  # only recent history counts: a page that flapped last year is not flapping now


def confirm_change(before: Page, first: Page, second: Page) -> tuple[Page, frozenset[str]]:
    """The agreed page (disputed blocks taken from ``before``) and the volatile blocks' signatures."""
    first_keys = [block_key(b) for b in first.blocks]
    second_keys = [block_key(b) for b in second.blocks]
    only_first = Counter(first_keys) - Counter(second_keys)
    only_second = Counter(second_keys) - Counter(first_keys)
    facts_agree = set(first.facts) == set(second.facts)
    if not only_first and not only_second and facts_agree:
        return first, frozenset()
    volatile = {block_signature(b) for b, k in zip(first.blocks, first_keys, strict=True) if k in only_first}
    volatile |= {block_signature(b) for b, k in zip(second.blocks, second_keys, strict=True) if k in only_second}
    disputed = []
    for key in first_keys:
        if only_first[key] > 0:
            only_first[key] -= 1
            disputed.append(True)
        else:
            disputed.append(False)
    blocks = _agreed_blocks(before.blocks, first.blocks, disputed)
    facts = _agreed_facts(before.facts, first.facts, second.facts)
    kept = Page(
        url=first.url,
        title=first.title,
        blocks=blocks,
        facts=facts,
        content_hash=content_hash(blocks, facts),
    )
    return kept, frozenset(volatile)


def _agreed_blocks(before: tuple[Block, ...], first: tuple[Block, ...], disputed: list[bool]) -> tuple[Block, ...]:
    """``first`` with each disputed block replaced by what stood in its place in ``before``."""
    table: dict[object, str] = {}
    before_keys = [block_key(b) for b in before]
    first_keys = [block_key(b) for b in first]
    for key in (*before_keys, *first_keys):
        table.setdefault(key, chr(0xE000 + len(table)) if len(table) < 0x1900 else chr(0x10000 + len(table)))
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0
    diffs = dmp.diff_main("".join(table[k] for k in before_keys), "".join(table[k] for k in first_keys), False)
    kept: list[Block] = []
    i = j = 0
    region_old: list[Block] = []
    region_new: list[tuple[Block, bool]] = []

    def close_region() -> None:
        if not region_new and not region_old:
            return
        if region_new and all(flag for _, flag in region_new):
            kept.extend(region_old)  # everything new here is disputed: keep what was there
        else:
            spare = list(region_old)
            for block, flag in region_new:
                if not flag:
                    kept.append(block)
                    continue
                stand_in = next((b for b in spare if b.path == block.path), None)
                if stand_in is not None:
                    spare.remove(stand_in)
                    kept.append(stand_in)
        region_old.clear()
        region_new.clear()

    for op, chunk in diffs:
        for _ in chunk:
            if op == 0:
                close_region()
                kept.append(first[j])  # both fetches may still dispute it; before agrees with first
                i, j = i + 1, j + 1
            elif op == -1:
                region_old.append(before[i])
                i += 1
            else:
                region_new.append((first[j], disputed[j]))
                j += 1
    close_region()
    return tuple(kept)


def _agreed_facts(before: tuple[Fact, ...], first: tuple[Fact, ...], second: tuple[Fact, ...]) -> tuple[Fact, ...]:
    second_by_key = {f.key: f for f in second}
    before_by_key = {f.key: f for f in before}
    out = []
    for fact in first:
        other = second_by_key.get(fact.key)
        if other == fact:
            out.append(fact)
        elif fact.key in before_by_key:
            out.append(before_by_key[fact.key])
    return tuple(out)


def is_flapping(history: list[str], new_hash: str, *, min_flips: int = 3) -> bool:
    """True when ``new_hash`` returns to an earlier state and such returns keep happening.

    ``history`` is the page's content hashes, oldest first. Only a return counts as a flip;
    the new hash must itself be a return, and together with the recent past make at least
    ``min_flips`` returns. A single return (a price going back) is never flapping.
    """
    states = [h for k, h in enumerate(history) if k == 0 or h != history[k - 1]]
    if not states or new_hash == states[-1]:
        return False
    states = states[-_FLAP_WINDOW:]
    if new_hash not in states:
        return False
    returns = 1  # the new hash itself
    for k, state in enumerate(states):
        if state in states[:k]:
            returns += 1
    return returns >= min_flips
