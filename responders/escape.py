"""Escaping of untrusted competitor text for each medium it reaches.

Page text, facts, summaries and evidence all come from competitors' pages (directly or
through a model that read them), so none of it may create structure where it lands: no
Slack mention or link, no Markdown heading, link, image or HTML, no terminal escape
sequence. Each medium has one function here; renderers call it on every untrusted string.
"""

from __future__ import annotations

import re
import unicodedata

# Bidirectional overrides can make a line read differently from what it contains.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)
_ZERO_WIDTH_SPACE = "\u200b"


def plain_line(text: str) -> str:
    """One line of plain text: control characters and bidi overrides dropped, whitespace folded.

    Used for terminals and log files, where ESC sequences could rewrite the screen.
    """
    text = text.translate(_BIDI)
    spaces = "\t\r\n"
    kept = (" " if ch in spaces else ch for ch in text if ch in spaces or unicodedata.category(ch) != "Cc")
    return " ".join("".join(kept).split())


def plain_text(text: str) -> str:
    """Plain text keeping line breaks; every line cleaned as by ``plain_line``."""
    return "\n".join(plain_line(line) for line in text.splitlines())


# Slack: & < > are the only characters Slack asks to be escaped; together with
# ``verbatim`` text objects that stops <!channel>, <@U123>, <#C1> and <http://x|y>.
# The @-words are also broken with a zero-width space for clients that still parse them.
_SLACK_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def slack_text(text: str) -> str:
    """Untrusted text for Slack mrkdwn: & < > escaped, broadcasts defused, one line."""
    text = plain_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SLACK_BROADCAST.sub(lambda m: "@" + _ZERO_WIDTH_SPACE + m.group(1), text)


# Markdown: every ASCII punctuation that can start a link, image, HTML tag, emphasis,
# code span, table cell or autolink is backslash-escaped (valid in CommonMark for any
# ASCII punctuation). Bare URLs (GFM autolinks) are broken by escaping the ':' of '://'
# and the '.' of 'www.'; the text is folded to one line so it cannot open a block.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~{}&])")
_MD_AUTOLINK = re.compile(r"(?i)(\w)://|\bwww\.|(\w)@(\w)")
_MD_LINE_START = re.compile(r"^(\s*)(\d+)?([#>+\-=.)])")


def markdown_inline(text: str) -> str:
    """Untrusted text for one line of Markdown: no link, image, HTML, heading or emphasis."""
    text = plain_line(text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_AUTOLINK.sub(_defang_autolink, text)
    return _MD_LINE_START.sub(_escape_line_start, text, count=1)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, digits, mark = match.groups()
    if digits is None and mark in ".)":
        return match.group(0)  # a bare '.' or ')' starts nothing
    return indent + (digits or "") + "\\" + mark


def _defang_autolink(match: re.Match[str]) -> str:
    found = match.group(0)
    if found.endswith("://"):
        return match.group(1) + r"\://"
    if found.lower().startswith("www"):
        return found[:3] + r"\."
    return match.group(2) + r"\@" + match.group(3)


def code_fence(text: str, *, info: str = "") -> str:
    """A fenced code block that holds ``text`` verbatim: a fence longer than any inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = plain_text(text)
    return f"{fence}{info}\n{body}\n{fence}"


def code_span(text: str) -> str:
    """Inline code holding ``text`` verbatim (one line): file paths, commands."""
    text = plain_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def markdown_url(url: str) -> str:
    """A page URL as a Markdown autolink, or as escaped text if it could end the autolink early."""
    if any(ch in url for ch in " <>|\n\t`") or not url.startswith(("http://", "https://")):
        return markdown_inline(url)
    return f"<{url}>"
