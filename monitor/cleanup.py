"""A parsed page without what no reader sees or cares about. Pure functions over an lxml tree.

Dropped by kind, not by site: scripts, styles, SVG, templates, noscript, forms, hidden content
(``hidden``, ``aria-hidden``, inline ``display:none``), consent banners, promo and announcement
bars (including a short strip above the site header), rotating widgets and "popular" lists.
Tab panels and accordion panels stay even when hidden: their text is in the HTML and is part
of the page.
"""

from __future__ import annotations

import re
from typing import TypeAlias

import lxml.etree
from cssselect import SelectorError
from cssselect.xpath import ExpressionError
from lxml.cssselect import CSSSelector

Element: TypeAlias = lxml.etree._Element

_DROP_TAGS = frozenset(
    "script style svg template noscript iframe canvas object embed head select option input textarea "
    "form dialog map audio video source track link meta math".split()
)
# page chrome that changes between fetches and says nothing about the competitor
_NOISE_CONTAINER = re.compile(
    r"(?:^|[\s_-])(?:cookie\w*|consent\w*|gdpr|cc-banner|cmp|promo(?:bar|-bar)?|top-?bar|announce\w*"
    r"|rotat\w*|chat-?widget|livechat|intercom|drift|dismissible"
    r"|popular\w*|trending|most-?read|related-?posts|recommended)(?:$|[\s_-])",
    re.IGNORECASE,
)
_PANEL = re.compile(r"(?:^|[\s_-])(?:tab\w*|accordion\w*|collapse\w*|panel\w*|faq\w*|answer\w*)", re.I)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_PARSER = lxml.etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, huge_tree=False)
# scripts, styles and inline SVG are most of a modern page's bytes and none of its text: cut them
# before parsing, so the tree (and every later walk over it) is a fraction of the size
_PRE_STRIP = re.compile(
    r"<(script|style|svg|noscript|template)(?=[\s>/])[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
# where a _PRE_STRIP match can start, in lowered ASCII text: a case-sensitive scan of the lowered
# page stops at far fewer places, and does less at each, than the case-insensitive pattern
_PRE_STRIP_START = re.compile(r"<(?:script|style|svg|noscript|template|!--)")


def _pre_strip(html: str) -> str:
    """``_PRE_STRIP.sub(" ", html)``, trying the pattern only where a match can start."""
    if not html.isascii():
        # lowering may change lengths, and IGNORECASE also matches a few non-ASCII letters
        return _PRE_STRIP.sub(" ", html)
    # ASCII letters match IGNORECASE exactly where the lowered page has the lowered letter; as
    # sub() does, a match is sought at each start in turn and the search goes on after it
    low = html.lower()
    parts = []
    done = 0  # html[:done] is in parts already
    start = _PRE_STRIP_START.search(low)
    while start is not None:
        at = start.start()
        match = _PRE_STRIP.match(html, at)
        if match is None:
            start = _PRE_STRIP_START.search(low, at + 1)
            continue
        parts.append(html[done:at])
        parts.append(" ")
        done = match.end()
        start = _PRE_STRIP_START.search(low, done)
    if not parts:
        return html
    parts.append(html[done:])
    return "".join(parts)


def parse_html(html: str) -> Element | None:
    """The document element, or None for input that is not HTML at all."""
    if not html or not html.strip():
        return None
    try:
        # plain etree elements: lxml.html's element classes cost a Python lookup per node
        root = lxml.etree.fromstring(_pre_strip(_XML_DECLARATION.sub("", html, count=1)), _PARSER)
    except (lxml.etree.LxmlError, ValueError, TypeError):
        return None
    return root if root is not None and isinstance(root.tag, str) else None


def select(root: Element, selector: str) -> list[Element]:
    try:
        return CSSSelector(selector)(root)
    except (SelectorError, ExpressionError, lxml.etree.XPathError):
        return []  # a bad selector is a config problem, reported by config checks, not here


def outermost(elements: list[Element]) -> list[Element]:
    chosen = set(elements)
    out = []
    for el in elements:
        if any(a in chosen for a in el.iterancestors()) or el in out:
            continue
        out.append(el)
    return out


def drop(el: Element) -> None:
    """Remove ``el`` and its subtree but keep its tail text, which belongs to the parent."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


_CLASS_ONLY = ["class"]
_NAMED = ["class", "id", "aria-label"]  # attributes whose value can name a noise container
_READ_ATTRIBUTES = frozenset({"hidden", "aria-hidden", "style", "class", "id", "aria-label"})


def drop_invisible(body: Element) -> None:
    """One pass over the tree; class names repeat, so each distinct one is judged once."""
    controlled: set[str] | None = None  # ids named by aria-controls: looked up at the first hidden element
    verdicts: dict[str, bool] = {}
    doomed = []
    for el in body.iter():
        tag = el.tag
        if tag in _DROP_TAGS or not isinstance(tag, str):
            doomed.append(el)
            continue
        names = el.keys()  # attribute names only: most elements have none of the ones read below
        if not names:
            continue
        if names == _CLASS_ONLY:  # the commonest attributes: of the checks below, only class's can hit
            named = _CLASS_ONLY
        elif _READ_ATTRIBUTES.isdisjoint(names):  # a link's href alone, say: no check below reads it
            continue
        else:
            named = _NAMED
            if (
                "hidden" in names
                or ("aria-hidden" in names and el.get("aria-hidden", "").lower() == "true")
                or ("style" in names and _HIDDEN_STYLE.search(el.get("style", "")))
            ):
                if controlled is None:
                    controlled = {i for v in body.xpath("//@aria-controls") for i in str(v).split()}
                if not _is_panel(el, controlled):
                    doomed.append(el)  # an inactive tab or a closed accordion panel is still on the page
                    continue
        for name in named:
            value = el.get(name) if name in names else None
            if value:
                noisy = verdicts.get(value)
                if noisy is None:
                    noisy = verdicts[value] = bool(_NOISE_CONTAINER.search(value))
                if noisy:
                    doomed.append(el)
                    break
    for el in doomed:
        drop(el)
    _drop_pre_header_strip(body)


def _is_panel(el: Element, controlled: set[str]) -> bool:
    return (
        el.get("role") in ("tabpanel", "region")
        or el.get("id", "") in controlled
        or bool(_PANEL.search(el.get("class", "")))
    )


def _drop_pre_header_strip(body: Element) -> None:
    """Short strips above the site header are promo and announcement bars."""
    children = [c for c in body if isinstance(c.tag, str)]
    header_at = next((i for i, c in enumerate(children) if c.tag == "header" or c.get("role") == "banner"), None)
    if header_at is None:
        return
    for el in children[:header_at]:
        if el.tag in ("main", "h1") or el.find(".//h1") is not None:
            continue
        if el.tag == "a" and el.get("href", "").startswith("#"):
            continue  # "skip to content" is stable and harmless
        if len("".join(el.itertext())) < 200:
            drop(el)
