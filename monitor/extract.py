"""HTML -> ``Page``: ordered content blocks with their heading path, facts and a content hash.

lxml alone, no BeautifulSoup: building a bs4 tree costs several times the whole budget
(DESIGN.md, bench/extract.py). ``monitor.cleanup`` first drops what no reader sees (hidden
content, page chrome, rotating widgets); the walk here cuts the rest into blocks at block-level
elements, keeps the heading path of each, reads tables row by row with their column headers,
marks sibling groups whose order means nothing, and joins small repeated records (a job row,
a logo) into one block. Inline-attributed quotes ("“…” — Name, Role") are the shape of a
rotating testimonial slot and are left out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import fields, replace

from monitor.cleanup import Element, drop, drop_invisible, outermost, parse_html, select
from monitor.facts import extract_facts
from monitor.normalize import comparison_key, comparison_keyer, normalizing, readable, remove_ignored
from monitor.records import Block, BlockKind, Fact, Page, Watch

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_KIND_OF_TAG = {
    "p": BlockKind.PARAGRAPH,
    "li": BlockKind.LIST_ITEM,
    "dt": BlockKind.LIST_ITEM,
    "dd": BlockKind.LIST_ITEM,
    "blockquote": BlockKind.QUOTE,
    "figcaption": BlockKind.PARAGRAPH,
    "pre": BlockKind.PARAGRAPH,
    "summary": BlockKind.PARAGRAPH,
    "caption": BlockKind.PARAGRAPH,
    "address": BlockKind.PARAGRAPH,
    "td": BlockKind.PARAGRAPH,
    "th": BlockKind.PARAGRAPH,
    "label": BlockKind.PARAGRAPH,
}
_CONTAINERS = frozenset(
    "div section article aside header footer nav main body ul ol dl figure fieldset details "
    "hgroup center table tbody thead tfoot tr html".split()
)
_BLOCK_TAGS = frozenset(_KIND_OF_TAG) | _CONTAINERS | frozenset(_HEADINGS) | {"hr"}
_SCOPES = frozenset("section article aside nav li header footer".split())
_CTA_CLASS = re.compile(r"(?:^|[\s_-])(?:btn|button|cta)(?:$|[\s_-])", re.IGNORECASE)
# a quote with its attribution inline is the shape of a rotating testimonial slot
_INLINE_TESTIMONIAL = re.compile(r'^\s*["“„«‘].{8,}["”“»’]\s*[—–―-]\s*\S')
# inline elements that sites style as separate lines: their text must not run together
_SPACED_INLINE = frozenset("small span time cite label output data".split())
_VOLATILE_SECTION = re.compile(
    r"^(?:popular|trending|most (?:read|popular|viewed)|top (?:posts|stories|articles)|recommended"
    r"|related (?:posts|articles|stories)|you might also like|beliebt|meistgelesen|populaire)\b",
    re.IGNORECASE,
)
_QUOTE_MARKS = frozenset('"“„«‘')
_QUOTE_KINDS = (BlockKind.QUOTE, BlockKind.PARAGRAPH)
# reading an enum member off its class goes through a descriptor (about 75 ns in Python 3.11): the
# per-block and per-row code reads these same members instead
_PARAGRAPH, _HEADING, _TABLE_ROW = BlockKind.PARAGRAPH, BlockKind.HEADING, BlockKind.TABLE_ROW
_RECORD_MAX_CHARS = 240
_RECORD_MAX_FIELD = 80

# Block is a frozen dataclass, whose __init__ sets each field through object.__setattr__: that is
# most of the cost of cutting a block. Filling the slots directly makes the same object; the
# check below stops this from going quietly wrong if Block's fields ever change.
_BLOCK_FIELDS = ("kind", "text", "path", "group")
if tuple(f.name for f in fields(Block)) != _BLOCK_FIELDS or hasattr(Block, "__post_init__"):
    raise TypeError("Block's fields changed: _new_block must set them as Block() would")
_new_object = object.__new__
_set_kind, _set_text, _set_path, _set_group = (getattr(Block, name).__set__ for name in _BLOCK_FIELDS)


def _new_block(kind: BlockKind, text: str, path: tuple[str, ...], group: str | None) -> Block:
    """``Block(kind, text, path, group)``, at a third of the cost."""
    block: Block = _new_object(Block)
    _set_kind(block, kind)
    _set_text(block, text)
    _set_path(block, path)
    _set_group(block, group)
    return block


def extract_page(html: str, watch: Watch) -> Page:
    """The blocks, facts and content hash of one fetched page; never raises on junk HTML."""
    with normalizing(watch.normalize):  # set here too: this may run in a worker process
        return _extract_page(html, watch)


def _extract_page(html: str, watch: Watch) -> Page:
    root = parse_html(html)
    if root is None:
        return Page(url=watch.url, title="", blocks=(), content_hash=content_hash((), ()))
    title = readable(root.findtext(".//title") or "")
    blocks = extract_blocks(root, include=watch.include, exclude=watch.exclude, ignore=watch.ignore)
    facts = extract_facts(blocks, kind=watch.kind)
    return Page(url=watch.url, title=title, blocks=blocks, facts=facts, content_hash=content_hash(blocks, facts))


def content_hash(blocks: tuple[Block, ...], facts: tuple[Fact, ...]) -> str:
    """sha256 of what the diff compares: the multiset of (heading path, normalised text), and facts.

    Order within a heading path is left out on purpose: reordered cards, menus and lists are
    not a change, and the diff treats them the same way, so equal hashes mean no change.
    """
    # blocks share their path tuples, so each path is keyed once; sorting the joined lines orders
    # them as sorting (path, key) pairs would, since keys hold no character below a space.
    # The hashed text is the sorted lines "<path prefix><key>\n". A prefix holds "\x1e" at its end
    # only, so no prefix starts another and the lines sort by prefix first; under one prefix they
    # sort as their keys do ("\n" is below every character of a key). So each prefix's keys are
    # sorted and joined once, instead of two concatenations per line.
    key = comparison_keyer()
    keys_of_prefix: dict[str, list[str]] = {}
    keys_of_path: dict[tuple[str, ...], list[str]] = {}
    last_path: tuple[str, ...] | None = None
    keys: list[str] = []
    for block in blocks:
        if block.path is not last_path:  # runs of blocks under one heading share one path tuple
            last_path = block.path
            known = keys_of_path.get(last_path)
            if known is None:
                prefix = "\x1f".join(map(key, last_path)) + "\x1e"
                known = keys_of_path[last_path] = keys_of_prefix.setdefault(prefix, [])
            keys = known
        keys.append(key(block.text))
    lines = []
    for prefix in sorted(keys_of_prefix):
        keys = keys_of_prefix[prefix]
        keys.sort()
        lines.append(prefix + ("\n" + prefix).join(keys) + "\n")
    lines.append("\x00facts\n")
    lines.extend(sorted("\x1f".join((f.kind, *map(key, (f.subject, f.attribute, f.value)))) + "\n" for f in facts))
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def block_key(block: Block) -> tuple[tuple[str, ...], str]:
    """What a block is compared by: its normalised heading path and text."""
    return tuple(comparison_key(h) for h in block.path), comparison_key(block.text)


def extract_blocks(
    root: Element,
    *,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
) -> tuple[Block, ...]:
    """The content blocks of a parsed document, in page order (the tree is modified)."""
    body = root.find("body")
    if body is None:
        body = root
    for selector in exclude:
        for el in select(body, selector):
            drop(el)
    drop_invisible(body)
    roots = [el for selector in include for el in select(body, selector)] if include else [body]
    walker = _Walker(ignore=ignore)
    for el in outermost(roots):
        walker.visit(el)
        walker.flush()
    return tuple(walker.blocks)


class _Walker:
    """Walks the cleaned tree once, cutting text into blocks at block-level elements."""

    def __init__(self, *, ignore: tuple[str, ...]) -> None:
        self.ignore = ignore
        self.key = comparison_keyer()  # the options cannot change during one page's walk
        self.blocks: list[Block] = []
        self.headings: tuple[tuple[int, str, bool], ...] = ()  # level, text, heads a volatile list
        self._path_of: tuple[tuple[int, str, bool], ...] | None = None  # headings _path was made from
        self._path: tuple[str, ...] = ()
        self._in_volatile = False  # not "_volatile": mypyc names the C field "__volatile", a C keyword
        self.buffer: list[str] = []
        self.kind = _PARAGRAPH
        self.inline_context = False  # inside p, li, h*, td...: links are part of the text
        self.group: str | None = None
        self.group_count = 0

    def flush(self, kind: BlockKind | None = None) -> Block | None:
        buffer = self.buffer
        if not buffer:
            return None
        text = "".join(buffer)
        buffer.clear()
        if not text or text.isspace():
            return None
        return self._cut(readable(text), kind or self.kind)

    def _cut(self, text: str, kind: BlockKind) -> Block | None:
        """The block of ``text`` (readable already) under the current headings, if it is one."""
        if self.ignore and text:
            text = remove_ignored(text, self.ignore)
        if not text or not self.key(text):
            return None
        # the text has no leading space, so only a quote mark first can start a testimonial
        if text[0] in _QUOTE_MARKS and kind in _QUOTE_KINDS and _INLINE_TESTIMONIAL.match(text):
            return None
        headings = self.headings
        if headings is not self._path_of:  # headings change far less often than blocks are cut
            self._path = tuple(h for _, h, _ in headings)
            self._in_volatile = any(v for _, _, v in headings)
            self._path_of = headings
        block = _new_block(kind, text, self._path, self.group)
        if self._in_volatile or (kind is _HEADING and _VOLATILE_SECTION.search(text)):
            return block  # "Popular this month" lists whatever is read most: heads the path, not the page
        self.blocks.append(block)
        return block

    def visit(self, el: Element) -> None:
        tag = el.tag
        if tag in _HEADINGS:
            self._heading(el, _HEADINGS[tag])
        elif tag == "table" or el.get("role") in ("table", "grid"):
            self._table(el)
        elif tag in _BLOCK_TAGS:
            self._block(el, tag)
        elif tag in ("a", "button") and not self.inline_context:
            self._block(el, tag)
        elif tag == "img":
            alt = el.get("alt")
            if alt and alt.strip():
                self.buffer.append(f" {alt.strip()} ")
        elif tag == "br":
            self.buffer.append(" ")
        elif tag in _SPACED_INLINE:
            self.buffer.append(" ")
            self._children(el)
            self.buffer.append(" ")
        else:
            self._children(el)

    def _children(self, el: Element) -> None:
        buffer = self.buffer  # lxml makes a new string on every .text and .tail: read each once
        text = el.text
        if text:
            buffer.append(text)
        for child in el:
            if isinstance(child.tag, str):
                self.visit(child)
            tail = child.tail
            if tail:
                buffer.append(tail)

    def _block(self, el: Element, tag: str) -> None:
        if self.buffer:  # flush() of an empty buffer does nothing: skip the call (most blocks)
            self.flush()
        if tag in _KIND_OF_TAG and not len(el):
            # a leaf paragraph, item or cell (most blocks): no child can change the headings,
            # the group or the inline context, so there is nothing to save and restore
            text = el.text
            if text and not text.isspace():  # what flush() would do with the text alone
                self._cut(readable(text), _KIND_OF_TAG[tag])
            return
        saved = (self.kind, self.inline_context, self.group)
        headings = self.headings
        if tag in ("a", "button"):
            cta = tag == "button" or el.get("role") == "button" or _CTA_CLASS.search(el.get("class", ""))
            self.kind = BlockKind.BUTTON if cta else BlockKind.LINK
            self.inline_context = True
        elif tag in _KIND_OF_TAG:
            self.kind = _KIND_OF_TAG[tag]
            self.inline_context = True
        else:
            self.kind = _PARAGRAPH
        group_items = self._group_items(el) if tag in _CONTAINERS else ()
        if group_items:
            self.group_count += 1
            self.group = f"{tag}.{(el.get('class') or '').split(' ')[0]}#{self.group_count}"
        buffer = self.buffer
        text = el.text
        if text:
            buffer.append(text)
        for child in el:
            if isinstance(child.tag, str):
                if group_items and child in group_items:
                    start = len(self.blocks)
                    item_headings = self.headings
                    self.visit(child)
                    self.flush()
                    if len(self.blocks) - start > 1:  # one block is neither a record nor a titled card
                        self._merge_record(start, child)
                        self._title_card(start)
                    self.headings = item_headings  # a card's heading ends with the card
                else:
                    self.visit(child)
            tail = child.tail
            if tail:
                buffer.append(tail)
        self.flush()
        self.kind, self.inline_context, self.group = saved
        if tag in _SCOPES:
            self.headings = headings  # a section's headings end with it

    def _group_items(self, el: Element) -> frozenset[Element]:
        """Children of a container whose order means nothing: repeated siblings of one shape."""
        if len(el) < 3:
            return frozenset()
        children = [c for c in el if isinstance(c.tag, str)]
        if len(children) < 3:
            return frozenset()
        shapes: dict[tuple[str, str], int] = {}
        n, best = len(children), 0
        for seen, c in enumerate(children, 1):
            shape = (c.tag, c.get("class", "").partition(" ")[0])  # first class, as split(" ")[0]
            count = shapes[shape] = shapes.get(shape, 0) + 1
            if count > best:
                best = count
            elif 5 * (best + n - seen) < 4 * n:
                # even if every child left had the leading shape, no shape reaches four fifths: the
                # answer below is already known (a long <main> of mixed blocks stops early here)
                return frozenset()
        shape, count = max(shapes.items(), key=lambda kv: kv[1])
        if count < 3 or count * 5 < len(children) * 4:
            return frozenset()
        return frozenset(c for c in children if (c.tag, c.get("class", "").partition(" ")[0]) == shape)

    def _merge_record(self, start: int, item: Element) -> None:
        """A small repeated item without headings (a job row, a logo, a card) is one block."""
        parts = self.blocks[start:]
        if not 2 <= len(parts) <= 6:
            return
        lengths = [len(b.text) for b in parts]
        # prose (an FAQ answer, a card's copy) keeps its own blocks; lengths first, they are cheap
        if max(lengths) > _RECORD_MAX_FIELD or sum(lengths) + 3 * (len(parts) - 1) > _RECORD_MAX_CHARS:
            return
        if any(b.kind is BlockKind.HEADING for b in parts):
            return
        text = " · ".join(b.text for b in parts)
        kind = BlockKind.LIST_ITEM if item.tag == "li" else parts[0].kind
        del self.blocks[start:]
        self.blocks.append(Block(kind=kind, text=text, path=parts[0].path, group=self.group))

    def _title_card(self, start: int) -> None:
        """A card's badge or eyebrow above its heading ("Most popular") belongs to that card."""
        card = self.blocks[start:]
        first = next((n for n, b in enumerate(card) if b.kind is BlockKind.HEADING), 0)
        if first:
            path = (*card[first].path, card[first].text)
            self.blocks[start : start + first] = [replace(b, path=path) for b in card[:first]]

    def _heading(self, el: Element, level: int) -> None:
        self.flush()
        saved = (self.kind, self.inline_context)
        self.kind, self.inline_context = _HEADING, True
        self._children(el)
        headings = self.headings
        while headings and headings[-1][0] >= level:
            headings = headings[:-1]
        self.headings = headings
        block = self.flush()
        self.kind, self.inline_context = saved
        if block is not None:
            self.headings = (*headings, (level, block.text, bool(_VOLATILE_SECTION.search(block.text))))

    def _table(self, table: Element) -> None:
        """A <table> or an ARIA grid of divs, row by row, each cell named by its column header."""
        self.flush()
        rows, cells_of_rows = _rows_and_cells(table)
        header: list[str] = []
        self.group_count += 1
        saved_group, self.group = self.group, f"table#{self.group_count}"
        # iterchildren/iterdescendants with a tag run in C; find() compiles a path in Python each call
        caption = next(table.iterchildren("caption"), None)
        if caption is not None:
            self.buffer.append("".join(caption.itertext()))
            self.flush(BlockKind.PARAGRAPH)
        cut = self._cut
        for index, (row, cells) in enumerate(zip(rows, cells_of_rows, strict=True)):
            # a cell without children (most) is its own text: _cell_text's first case, inline
            texts = [_cell_text(c) if len(c) else readable(c.text or "") for c in cells]
            if not header and len(cells) > 1 and _is_header(row, cells, index, rows):
                header = texts
                continue
            text = _row_text(texts, header)
            if text and not text.isspace():  # what flush() would do with the row alone
                cut(readable(text), _TABLE_ROW)
        self.group = saved_group


_CELL_ROLES = frozenset({"cell", "gridcell", "columnheader", "rowheader"})
_TICK_OR_PRICE = re.compile(r"[✓✔✗✕—$€£]|\d")


def _rows_and_cells(table: Element) -> tuple[list[Element], list[list[Element]]]:
    """The rows of a table or grid and the cells of each: what _rows and _cells find."""
    if table.tag == "table":
        # one walk in C over the rows and cells of a plain table, instead of one per row; a
        # nested table (rare) takes the general way, which tells its rows from the outer ones
        rows: list[Element] = []
        cells_of: dict[Element, list[Element]] = {}
        for el in table.iterdescendants("tr", "td", "th", "table"):
            tag = el.tag
            if tag == "tr":
                rows.append(el)
                cells_of[el] = []
            elif tag == "table":
                break
            else:
                cells = cells_of.get(el.getparent())  # a row's cells are its td and th children
                if cells is not None:
                    cells.append(el)
        else:
            return rows, [cells_of[row] for row in rows]
    rows = _rows(table)
    return rows, [_cells(row) for row in rows]


def _rows(table: Element) -> list[Element]:
    if table.tag == "table":
        return [r for r in table.iter("tr") if next(r.iterancestors("table"), None) is table]
    return [r for r in table.iter() if r.get("role") == "row"]


def _cells(row: Element) -> list[Element]:
    if row.tag == "tr":
        return list(row.iterchildren("td", "th"))  # the tag filter runs in C
    return [c for c in row.iter() if c.get("role") in _CELL_ROLES]


def _is_header(row: Element, cells: list[Element], index: int, rows: list[Element]) -> bool:
    if row.getparent() is not None and row.getparent().tag == "thead":
        return True
    if all(c.tag == "th" or c.get("role") == "columnheader" for c in cells):
        return True
    # a first row of plain names over rows of ticks and prices is a header written with <td>s
    if index != 0 or len(cells) < 3 or len(rows) < 2:
        return False
    texts = [_cell_text(c) for c in cells[1:]]
    return all(t and not _TICK_OR_PRICE.search(t) for t in texts)


def _cell_text(cell: Element) -> str:
    if not len(cell):
        return readable(cell.text or "")
    parts = [cell.text or ""]
    for el in cell.iterdescendants():
        if el.tag == "img" and el.get("alt"):
            parts.append(f" {el.get('alt')} ")
        elif isinstance(el.tag, str) and el.text:
            parts.append(el.text)
        if el.tail:
            parts.append(el.tail)
    return readable("".join(parts))


def _row_text(cells: list[str], header: list[str]) -> str:
    """A row with its column headers: "SSO | Team: ✓ | Enterprise: ✓"."""
    if len(cells) == 2:  # a name and a value (most rows): the steps below, without their lists
        first, second = cells
        if not (first and second):
            return first or second  # one cell or none has text: the join of that one or of none
        return f"{first} | {header[1]}: {second}" if len(header) == 2 else f"{first} | {second}"
    nonempty = [c for c in cells if c]
    if len(nonempty) <= 1 or len(header) != len(cells):
        return " | ".join(nonempty)
    named = [f"{h}: {c or '—'}" for h, c in zip(header[1:], cells[1:], strict=True)]
    return " | ".join([cells[0] or "—", *named])
