"""What we sell, read from our company profile, to tell a launch aimed at our buyers.

The rubric grades "a launch aimed squarely at our buyers" critical. The rules read that as a
competitor's launch that speaks our product's own words: those of the profile's product
statement, a ``Product: ...`` line or the first paragraph under a ``## Product`` heading.
"""

from __future__ import annotations

import re

from classifiers.text import normalise

# How many of our product's words a launch must share to be aimed at our buyers.
OVERLAP_FOR_CRITICAL = 4
_STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it its of on or our that the their them this to with we "
    "you your which who runs run mode platform platforms companies company customer customers data one gives "
    "give model business tool tools software solution solutions team teams connects connect helps help "
    "every all any more most new use uses using built".split()
)
# "Product: ..." up to a blank line or the next "Key:" line
_PRODUCT_LINE = re.compile(
    r"^\s*[*-]?\s*\**(?:product|products|what we sell)\**\s*:\s*(.+?)"
    r"(?=\n\s*\n|\n\s*[*-]?\s*\**[A-Z][\w ]{0,30}\**\s*:|\Z)",
    re.I | re.M | re.S,
)
# "## Product" and the paragraph under it
_PRODUCT_SECTION = re.compile(
    r"^#{1,6}\s*(?:our\s+)?(?:product|products|what we sell)\s*\n+(.+?)(?=\n\s*\n|\n#|\Z)",
    re.I | re.M | re.S,
)


def focus_terms(company: str) -> frozenset[str]:
    """The distinctive words of our product statement in the company profile (Markdown)."""
    statements = [m.group(1) for m in _PRODUCT_LINE.finditer(company)]
    statements += [m.group(1) for m in _PRODUCT_SECTION.finditer(company)]
    words = {w for text in statements for w in normalise(text.replace("-", " ")).split()}
    return frozenset(_stem(w) for w in words if len(w) > 2 and w not in _STOPWORDS and not w.isdigit())


def aimed_at_us(text: str, focus: frozenset[str]) -> bool:
    """Does ``text`` (a competitor's launch) speak enough of our product's words?"""
    if not focus:
        return False
    words = {_stem(w) for w in normalise(text.replace("-", " ")).split()}
    return len(words & focus) >= OVERLAP_FOR_CRITICAL


def _stem(word: str) -> str:
    word = word.casefold().strip("'’")
    for suffix in ("'s", "ies", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word
