"""Two snapshots -> the meaningful ``Change`` between them, or ``None``. Pure.

Blocks are compared by (normalised heading path, normalised text) as a multiset: a block that
only moved within its section, a reordered menu, logo wall or card grid, is not a change. A
block whose section heading was renamed is not reported again under the new heading.
diff-match-patch runs at block granularity (one character per distinct block, like its
``linesToChars``) to keep the changes in page order, and at word granularity for the
side-by-side HTML, in which every competitor string is escaped.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter

from diff_match_patch import diff_match_patch

from monitor.extract import block_key
from monitor.facts import diff_facts
from monitor.normalize import comparison_key, normalizing
from monitor.records import Block, BlockChange, BlockKind, BlockOp, Change, FactChange, Snapshot, Watch

_PAIR_MIN_SIMILARITY = 0.4
_PAIR_BUDGET = 4000
_ALIGN_MAX_CHANGES = 400  # candidate comparisons before pairing keeps to one section
_CONTEXT_WORDS = 10
_HTML_MAX_ROWS = 200  # a page rewrite is read in the page itself, not in a 2,000-row table
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)

Key = tuple[tuple[str, ...], str]


def block_signature(block: Block) -> str:
    """A stable id of a block's content, used to remember volatile blocks of a page."""
    path, text = block_key(block)
    raw = f"{block.kind.value}\x1f{chr(31).join(path)}\x1f{text}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def diff_snapshots(
    watch: Watch, before: Snapshot, after: Snapshot, *, volatile: frozenset[str] = frozenset()
) -> Change | None:
    """The change from ``before`` to ``after``; None once noise, volatility and order are set aside."""
    with normalizing(watch.normalize):
        return _diff_snapshots(watch, before, after, volatile=volatile)


def _diff_snapshots(watch: Watch, before: Snapshot, after: Snapshot, *, volatile: frozenset[str]) -> Change | None:
    if before.page.content_hash and before.page.content_hash == after.page.content_hash:
        return None
    old = [b for b in before.page.blocks if not volatile or block_signature(b) not in volatile]
    new = [b for b in after.page.blocks if not volatile or block_signature(b) not in volatile]
    changes = diff_blocks(tuple(old), tuple(new))
    facts = diff_facts(before.page.facts, after.page.facts)
    if not changes and not facts:
        return None
    return Change(
        url=after.url,
        competitor=watch.competitor,
        page_kind=watch.kind,
        before_id=before.id,
        after_id=after.id,
        detected_at=after.taken_at,
        blocks=changes,
        facts=facts,
        diff_html=render_diff_html(changes, facts),
    )


def diff_blocks(old: tuple[Block, ...], new: tuple[Block, ...]) -> tuple[BlockChange, ...]:
    """Added, removed and modified blocks, in page order."""
    old_keys = _block_keys(old)
    new_keys = _block_keys(new)
    gone = Counter(old_keys) - Counter(new_keys)
    came = Counter(new_keys) - Counter(old_keys)
    if not gone and not came:
        return ()
    removed, added = _ordered_ops(old, old_keys, new, new_keys, gone, came)
    removed, added = _cancel_restructured(removed, added, old, new)
    if _rechunked(removed, added):
        return ()
    return _pair(removed, added, old, new)


def _block_keys(blocks: tuple[Block, ...]) -> list[Key]:
    """``block_key`` of each block; blocks share their heading paths, so each path is keyed once."""
    paths: dict[tuple[str, ...], tuple[str, ...]] = {}
    keys = []
    for block in blocks:
        path = paths.get(block.path)
        if path is None:
            path = paths[block.path] = tuple(map(comparison_key, block.path))
        keys.append((path, comparison_key(block.text)))
    return keys


def _ordered_ops(
    old: tuple[Block, ...],
    old_keys: list[Key],
    new: tuple[Block, ...],
    new_keys: list[Key],
    gone: Counter[Key],
    came: Counter[Key],
) -> tuple[list[tuple[int, Block]], list[tuple[int, Block]]]:
    """Blocks removed and added, in page order, from a block-level diff-match-patch run.

    A rewrite of most of a page is listed in page order without the alignment: diff-match-patch
    costs O(N·D), and there the alignment adds nothing a reader would see.
    """
    if sum(gone.values()) + sum(came.values()) > _ALIGN_MAX_CHANGES:
        return _take(old, old_keys, gone), _take(new, new_keys, came)
    table: dict[Key, str] = {}
    for key in (*old_keys, *new_keys):
        if key not in table:
            table[key] = chr(0xE000 + len(table)) if len(table) < 0x1900 else chr(0x10000 + len(table))
    a = "".join(table[k] for k in old_keys)
    b = "".join(table[k] for k in new_keys)
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0  # deterministic: the full diff, whatever it costs on a huge page
    removed: list[tuple[int, Block]] = []
    added: list[tuple[int, Block]] = []
    i = j = 0
    for op, chunk in dmp.diff_main(a, b, False):
        for _ in chunk:
            if op == 0:
                i, j = i + 1, j + 1
            elif op == -1:
                if gone[old_keys[i]] > 0:  # a moved block is deleted here and inserted elsewhere
                    gone[old_keys[i]] -= 1
                    removed.append((i, old[i]))
                i += 1
            else:
                if came[new_keys[j]] > 0:
                    came[new_keys[j]] -= 1
                    added.append((j, new[j]))
                j += 1
    return removed, added


def _take(blocks: tuple[Block, ...], keys: list[Key], wanted: Counter[Key]) -> list[tuple[int, Block]]:
    left = Counter(wanted)
    out = []
    for i, key in enumerate(keys):
        if left[key] > 0:
            left[key] -= 1
            out.append((i, blocks[i]))
    return out


def _cancel_restructured(
    removed: list[tuple[int, Block]],
    added: list[tuple[int, Block]],
    old: tuple[Block, ...],
    new: tuple[Block, ...],
) -> tuple[list[tuple[int, Block]], list[tuple[int, Block]]]:
    """Same text under a different heading path is no change unless it is a list or grid item that
    moved between two sections existing in both versions (a feature moved to another plan's card)."""
    old_sections = {comparison_key(b.text) for b in old if b.kind is BlockKind.HEADING}
    new_sections = {comparison_key(b.text) for b in new if b.kind is BlockKind.HEADING}
    waiting: dict[str, list[int]] = {}
    for m, (_, block) in enumerate(removed):
        waiting.setdefault(comparison_key(block.text), []).append(m)
    dropped_removed: set[int] = set()
    dropped_added: set[int] = set()
    for n, (_, block) in enumerate(added):
        candidates = waiting.get(comparison_key(block.text))
        if not candidates:
            continue
        m = candidates.pop(0)
        was, now = removed[m][1], block
        was_section = comparison_key(was.path[-1]) if was.path else ""
        now_section = comparison_key(now.path[-1]) if now.path else ""
        # items of lists and card grids carry meaning by where they are (a plan's feature list);
        # loose text that lands under another heading is a restructured page
        moved = (
            was_section != now_section
            and was_section in new_sections
            and now_section in old_sections
            and was.group is not None
            and now.group is not None
        )
        if not moved:
            dropped_removed.add(m)
            dropped_added.add(n)
    return (
        [r for m, r in enumerate(removed) if m not in dropped_removed],
        [a for n, a in enumerate(added) if n not in dropped_added],
    )


def _rechunked(removed: list[tuple[int, Block]], added: list[tuple[int, Block]]) -> bool:
    """The same words cut into different blocks (markup rebuilt, tags moved into a title line)."""
    if not removed or not added:
        return False
    if sorted(comparison_key(b.text) for _, b in removed) == sorted(comparison_key(b.text) for _, b in added):
        return False  # the same blocks in other sections: moved, not re-cut
    before = " ".join(comparison_key(b.text) for _, b in removed).split()
    after = " ".join(comparison_key(b.text) for _, b in added).split()
    if before == after:
        return True
    return len(removed) != len(added) and Counter(before) == Counter(after)


def _similarity(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _pair(
    removed: list[tuple[int, Block]],
    added: list[tuple[int, Block]],
    old: tuple[Block, ...],
    new: tuple[Block, ...],
) -> tuple[BlockChange, ...]:
    """Match removed to added blocks that are edits of one another; the rest are adds and removes."""
    wide = len(removed) * len(added) <= _PAIR_BUDGET
    removed_keys = [comparison_key(b.text) for _, b in removed]
    removed_words = [set(k.split()) for k in removed_keys]
    candidates: list[tuple[float, int, int]] = []
    for n, (_, after) in enumerate(added):
        after_key = comparison_key(after.text)
        after_words = set(after_key.split())
        for m, (_, before) in enumerate(removed):
            if not wide and before.path != after.path:
                continue
            if removed_keys[m] == after_key:
                continue  # a block that moved between sections is removed here and added there
            score = _similarity(removed_words[m], after_words)
            score += 0.1 if before.path == after.path else 0.0
            score += 0.05 if before.kind is after.kind else 0.0
            if score > _PAIR_MIN_SIMILARITY:
                candidates.append((-score, n, m))
    # best pairs first, so an edit is never paired with a look-alike because it came earlier
    pairs: dict[int, tuple[int, Block]] = {}
    taken: set[int] = set()
    for _, n, m in sorted(candidates):
        if n not in pairs and m not in taken:
            pairs[n] = removed[m]
            taken.add(m)
    out: list[tuple[int, int, BlockChange]] = []
    for n, (j, after) in enumerate(added):
        context = _context(new, j)
        if n in pairs:
            _, before = pairs[n]
            change = BlockChange(BlockOp.MODIFIED, after.kind, after.path, before.text, after.text, context)
        else:
            change = BlockChange(BlockOp.ADDED, after.kind, after.path, None, after.text, context)
        out.append((j, 1, change))
    for m, (i, before) in enumerate(removed):
        if m not in taken:
            change = BlockChange(BlockOp.REMOVED, before.kind, before.path, before.text, None, _context(old, i))
            out.append((_position_in_new(i, old, new), 0, change))
    out.sort(key=lambda t: (t[0], t[1]))
    return tuple(c for _, _, c in out)


def _position_in_new(i: int, old: tuple[Block, ...], new: tuple[Block, ...]) -> int:
    return round(i * len(new) / len(old)) if old else 0


def _context(blocks: tuple[Block, ...], at: int) -> str:
    """A few words of the block before (or else after) the changed one."""
    for k in (at - 1, at + 1):
        if 0 <= k < len(blocks):
            words = blocks[k].text.split()
            text = " ".join(words[:_CONTEXT_WORDS])
            return text + (" …" if len(words) > _CONTEXT_WORDS else "")
    return ""


# --- side-by-side HTML ----------------------------------------------------------------------------


def _word_diff(before: str, after: str) -> tuple[str, str]:
    """Both sides as escaped HTML with <del>/<ins> around the words that differ."""
    tokens: dict[str, str] = {}
    decode: list[str] = []

    def encode(text: str) -> str:
        out = []
        for token in _TOKEN.findall(text):
            if token not in tokens:
                tokens[token] = chr(0xE000 + len(decode)) if len(decode) < 0x1900 else chr(0x10000 + len(decode))
                decode.append(token)
            out.append(tokens[token])
        return "".join(out)

    dmp = diff_match_patch()
    diffs = dmp.diff_main(encode(before), encode(after), False)
    dmp.diff_cleanupSemantic(diffs)
    left, right = [], []
    for op, chunk in diffs:
        text = html.escape("".join(decode[ord(c) - (0xE000 if ord(c) < 0x10000 else 0x10000)] for c in chunk))
        if op == 0:
            left.append(text)
            right.append(text)
        elif op == -1:
            left.append(f"<del>{text}</del>")
        else:
            right.append(f"<ins>{text}</ins>")
    return "".join(left), "".join(right)


def render_diff_html(changes: tuple[BlockChange, ...], facts: tuple[FactChange, ...]) -> str:
    """A self-contained side-by-side table; every string from the page is HTML-escaped."""
    parts = ['<div class="rw-diff">']
    if facts:
        parts.append('<ul class="rw-facts">')
        parts.extend(f"<li>{html.escape(f.describe())}</li>" for f in facts)
        parts.append("</ul>")
    parts.append(
        '<table class="rw-side-by-side"><thead><tr><th>Where</th><th>Before</th><th>After</th></tr></thead><tbody>'
    )
    for change in changes[:_HTML_MAX_ROWS]:
        where = html.escape(" › ".join(change.path)) or "—"
        if change.op is BlockOp.MODIFIED:
            left, right = _word_diff(change.before or "", change.after or "")
        elif change.op is BlockOp.ADDED:
            left, right = "", f"<ins>{html.escape(change.after or '')}</ins>"
        else:
            left, right = f"<del>{html.escape(change.before or '')}</del>", ""
        parts.append(
            f'<tr class="rw-{change.op.value}"><td class="rw-where">{where}</td>'
            f'<td class="rw-before">{left}</td><td class="rw-after">{right}</td></tr>'
        )
    if len(changes) > _HTML_MAX_ROWS:
        more = len(changes) - _HTML_MAX_ROWS
        parts.append(f'<tr class="rw-more"><td colspan="3">… and {more} more changed blocks</td></tr>')
    parts.append("</tbody></table></div>")
    return "".join(parts)
