"""Bytes to text for HTML: the charset from the header, then <meta>, then a guess. Pure."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
# <meta charset="x"> or <meta http-equiv="Content-Type" content="text/html; charset=x">
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# the HTML standard says a <meta charset> must sit in the first 1024 bytes; allow some slack
META_SCAN_BYTES = 4096


def _known(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return _known(match.group(1)) if match else None


def charset_from_meta(body: bytes) -> str | None:
    match = _META_CHARSET.search(body, 0, META_SCAN_BYTES)
    return _known(match.group(1).decode("ascii", "replace")) if match else None


def detect_charset(body: bytes, content_type: str | None) -> str:
    """Which codec to read ``body`` with: BOM, header, <meta charset>, detection, UTF-8."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    declared = charset_from_content_type(content_type) or charset_from_meta(body)
    if declared:
        return declared
    try:
        body.decode("utf-8")
        return "utf-8"  # the common case; skip the slower statistical guess
    except UnicodeDecodeError:
        pass
    guess = charset_normalizer.from_bytes(body[:65536]).best()
    return _known(guess.encoding if guess else None) or "utf-8"


def decode_html(body: bytes, content_type: str | None) -> str:
    """Decode an HTML body; undecodable bytes become U+FFFD instead of failing the fetch."""
    return body.decode(detect_charset(body, content_type), errors="replace")
