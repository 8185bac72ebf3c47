"""Failure is not content: recognise responses that carry no page worth comparing.

Pure functions of (status, headers, text). A bot challenge, an error page, an empty or
truncated body must become a ``FetchError`` so the pipeline records it as watch health and
never diffs it against the last good snapshot.

Challenge detection is deliberately two-tier: a challenge *title* ("Just a moment...") or a
vendor token (``cf_chl_opt``) is decisive on any page, while challenge *phrases* ("verify you
are human", "captcha") count only on a short page, because a competitor's long blog post may
well mention captchas without being one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from monitor.records import FetchError, FetchErrorKind

# a challenge or block page is short; a long page that mentions these words is content
SHORT_PAGE_CHARS = 3_000
HEAD_CHARS = 16_384
PHRASE_SCAN_MAX_CHARS = 40_000

_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.I | re.S)
_CHALLENGE_TITLES = re.compile(
    r"^\s*(?:just a moment|attention required|access denied|please wait|one more step|"
    r"security check|are you a robot|are you human|verify(?:ing)? you are human|"
    r"ddos-guard|pardon our interruption|request rejected|captcha|bot verification|"
    r"checking your browser)\b",
    re.I,
)
# Markers are plain lower-case substrings: ``in`` on a lowered page costs microseconds where an
# IGNORECASE regex alternation costs tens of milliseconds on a 60 KB page.
# Tokens only ever found on vendors' challenge or block pages, never on a page they protect:
_VENDOR_TOKENS = (
    "cf_chl_opt",
    "cf-browser-verification",
    "incapsula incident id",
    "geo.captcha-delivery.com",
    "errors.edgesuite.net",
)
# Phrases and tokens that mark a challenge only on a short page: vendors also inject some of
# these scripts into the ordinary pages they protect, and articles mention captchas.
_CHALLENGE_PHRASES = (
    "checking if the site connection is secure",
    "checking your browser",
    "verify you are human",
    "verify that you are human",
    "verify you are a human",
    "are you a robot",
    "complete the security check",
    "enable javascript and cookies to continue",
    "pardon our interruption",
    "unusual traffic from your",
    "captcha",  # also g-recaptcha, h-captcha
    "cf-turnstile",
    "access denied",
    "request blocked",
    "you don't have permission to access",
    "/cdn-cgi/challenge-platform",
    "_incapsula_resource",
)
_SCRIPT_STYLE = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>|<!--.*?-->", re.S)
_OPENS_DOCUMENT = re.compile(r"<(?:html|body)[\s>]", re.I)
_CLOSES_DOCUMENT = re.compile(r"</(?:html|body)\s*>", re.I)
_HAS_SCRIPT = re.compile(r"<script\b", re.I)
_ENTITY_SPACE = re.compile(r"&nbsp;|&#160;|\s+", re.I)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, found in headers.items():
        if key.lower() == lowered:
            return found
    return None


def visible_text(html: str) -> str:
    """The text a reader would see, roughly: no tags, scripts or styles, spaces collapsed."""
    text = _TAG.sub(" ", _SCRIPT_STYLE.sub(" ", html))
    return _ENTITY_SPACE.sub(" ", text).strip()


def page_title(html: str) -> str:
    match = _TITLE.search(html, 0, 20_000)
    return visible_text(match.group(1)) if match else ""


def detect_challenge(html: str) -> str | None:
    """Why ``html`` looks like a bot challenge, captcha or access-denied page, or None."""
    title = page_title(html)
    if title and _CHALLENGE_TITLES.search(title):
        return f"bot challenge page (title {title[:80]!r})"
    # vendors put their tokens near the top; scanning a whole 60 KB page for each would cost
    # more than the rest of the pipeline, so only the head is read
    head = html[:HEAD_CHARS].lower()
    token = next((t for t in _VENDOR_TOKENS if t in head), None)
    if token:
        return f"bot challenge page ({token!r})"
    if len(html) > PHRASE_SCAN_MAX_CHARS:
        return None  # challenge pages are small; a large one is caught by its title or token
    lowered = head if len(html) <= HEAD_CHARS else html.lower()
    phrase = next((p for p in _CHALLENGE_PHRASES if p in lowered), None)
    # the costlier visible-text check runs only when a phrase is found
    if phrase and len(visible_text(html)) <= SHORT_PAGE_CHARS:
        return f"bot challenge or block page ({phrase!r})"
    return None


def is_truncated(html: str) -> bool:
    """An HTML document that opened <html>/<body> but never closed them was cut short."""
    if not _OPENS_DOCUMENT.search(html):
        return False
    # closing tags sit at the end: look there first, and scan the whole text only if not found
    tail_start = max(0, len(html) - 4096)
    return not (_CLOSES_DOCUMENT.search(html, tail_start) or _CLOSES_DOCUMENT.search(html))


def is_empty(html: str) -> bool:
    """No body, or markup with no visible text and no script that could add some."""
    if not html.strip():
        return True
    if len(html) > 20_000 or _HAS_SCRIPT.search(html):
        return False
    return not visible_text(html)


def classify_status(status: int, headers: Mapping[str, str]) -> FetchError | None:
    """The error an HTTP status alone means, or None for a 2xx/304."""
    if status < 400:
        return None
    if status == 429:
        after = _header(headers, "Retry-After")
        hint = f", Retry-After {after}" if after else ""
        return FetchError(FetchErrorKind.RATE_LIMITED, f"HTTP 429 Too Many Requests{hint}")
    if status == 503 and _header(headers, "Retry-After"):
        after = _header(headers, "Retry-After")
        return FetchError(FetchErrorKind.RATE_LIMITED, f"HTTP 503 with Retry-After {after}")
    return FetchError(FetchErrorKind.HTTP_STATUS, f"HTTP {status}")


def classify_response(status: int, headers: Mapping[str, str], text: str) -> FetchError | None:
    """The ``FetchError`` a response stands for, or None when its body is a real page.

    Challenges win over the status: Cloudflare serves its check with 403 or 503, and naming
    it BLOCKED tells ops to act instead of waiting for the site to recover.
    """
    if status >= 400 or status < 300:
        challenge = detect_challenge(text) if text else None
        if challenge and status in (200, 202, 403, 429, 503):
            return FetchError(FetchErrorKind.BLOCKED, challenge if status < 400 else f"HTTP {status}, {challenge}")
    status_error = classify_status(status, headers)
    if status_error:
        return status_error
    if 300 <= status < 400:
        return None  # 304 and redirects are the caller's business
    if is_empty(text):
        return FetchError(FetchErrorKind.EMPTY, f"HTTP {status} with no content ({len(text)} characters)")
    if is_truncated(text):
        return FetchError(
            FetchErrorKind.TRUNCATED,
            f"HTML cut short: no closing </body> or </html> in {len(text)} characters",
        )
    return None
