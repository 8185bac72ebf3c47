"""Normalisation that keeps meaning, and the kinds of noise that carry none. Pure functions.

Two texts that say the same thing should compare equal: whitespace, Unicode forms, quotes and
dashes, number formats (``1,000`` = ``1000``, ``$49.00`` = ``$49``, ``149 €`` = ``€149``) and
the spelling of a date (``Mar 12, 2026`` = ``12 March 2026``). The readable original stays on
the block for display; only comparison and hashing use ``comparison_key``.

Noise is solved by kind, not by page: relative timestamps, date-times of "now", counters
beside a time window ("312 teams started a trial this week"), social counters, tokens and
nonces, copyright years. Counters keep their words and lose their number, so the sentence
still shows up if it is added or removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from monitor.records import NormalizeOptions

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u200b": "",
        "\u200c": "",
        "\u200d": "",
        "\ufeff": "",
        "\u00ad": "",
        "\u2714": "\u2713",  # heavy check mark = check mark
        "\u2705": "\u2713",
        "\u2716": "\u2717",
        "\u2718": "\u2717",
    }
)
_SPACE = re.compile(r"\s+")

# --- noise -----------------------------------------------------------------------------------

_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?)"
_RELATIVE_TIME = re.compile(
    r"(?:\b(?:last\s+)?(?:updated|edited|refreshed|synced|posted|checked|aktualisiert|mis à jour)\s*:?\s*)?"
    r"(?:\b(?:\d+|an?|one|a few)\s+" + _UNIT + r"\s+ago\b|\b\d+\s?(?:s|m|h|d|w|mo|y)\s+ago\b"
    r"|\bvor\s+(?:\d+|einer?|wenigen)\s+(?:Sekunden?|Minuten?|Stunden?|Tagen?|Wochen?)\b"
    r"|\bil y a\s+(?:\d+|une?|quelques)\s+(?:secondes?|minutes?|heures?|jours?|semaines?)\b"
    r"|\bjust now\b|\byesterday\b|\bgerade eben\b|\bà l'instant\b)",
    re.IGNORECASE,
)
# every _RELATIVE_TIME alternative holds one of these words; a substring test of the lowered text
# is a tenth of the cost of a case-insensitive regex scan. Letters that match an ASCII letter only
# case-insensitively (dotted and dotless i, long s) are folded first, so the test never misses.
_HINT_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})
_DIGIT = re.compile(r"\d")
# every _DATETIME_NOW alternative but the request id holds one of these; the request id holds four "-"
_DIGIT_COLON_DIGIT = re.compile(r"\d:\d")
_DATETIME_NOW = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?\s*)?(?:UTC|GMT|CET|CEST|[ECMP][SD]T)\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\s*[AaPp]\.?[Mm]\b\.?"
    r"|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"  # request ids
)
# a number near a time window is a live counter: keep the words, drop the number
_WINDOW = (
    r"(?:this\s+(?:week|month|hour)|today|right\s+now|now|online|in\s+the\s+last\s+\d+\s+\w+"
    r"|diese\s+Woche|heute|gerade|cette\s+semaine|aujourd'hui|en\s+ce\s+moment)"
)
_COUNTER = re.compile(
    r"(?<![\w.,])\d[\d.,']*(?:\s?[kKmM](?![A-Za-z]))?\+?(?=(?:\s+[^\s\d]+){0,6}?\s+" + _WINDOW + r"\b)",
    re.IGNORECASE,
)
_SOCIAL = re.compile(
    r"(?<![\w.,])\d[\d.,']*(?:\s?[kKmM](?![A-Za-z]))?\+?(?=\s*(?:shares?|likes?|views?|comments?|reads?|reposts?|retweets?"
    r"|reactions?|claps?|upvotes?|followers?|viewers?|watching|viewing|online|people\s+(?:are\s+)?(?:viewing|watching)"
    r"|reviews?|ratings?|votes?|downloads?|installs?|stars?|subscribers?|members?\s+online"
    r"|visitors?\s+(?:are\s+)?(?:viewing|online)|are\s+viewing|viewing\s+now)\b)",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(
    r"(©|\(c\)|\bcopyright\b)\s*(?:\d{4}\s*[-–]\s*)?\d{4}\b",
    re.IGNORECASE,
)
# a word each alternative of _WINDOW and of _SOCIAL holds, for the substring pre-checks
_WINDOW_WORDS = ("this", "today", "now", "online", "last", "diese", "heute", "gerade", "cette", "aujourd", "moment")
_SOCIAL_WORDS = (
    "share like view comment read repost retweet reaction clap upvote follower watching online people "
    "review rating vote download install star subscriber member visitor"
).split()


def _holds_any(low: str, words: Iterable[str]) -> bool:
    """Whether one of ``words`` is in ``low``: a substring test each is several times cheaper than
    one regex alternation of the words, which tries every word at every position."""
    for word in words:
        if word in low:
            return True
    return False


# a run of twelve or more non-space characters, found from its first one only: cheaper than the
# longest of text.split() (\s and str.split() both split at str.isspace() characters)
_LONG_TOKEN = re.compile(r"(?<!\S)\S{12}")
_HEX_TOKEN = re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{12,}\b")
_OPAQUE_TOKEN = re.compile(r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{20,}\b")
_QUERY_BUST = re.compile(r"([?&](?:v|ver|cb|t|ts|_|cachebust|nocache|rev|hash)=)[^&#\s\"']+", re.IGNORECASE)


@lru_cache(maxsize=65536)
def strip_noise(text: str) -> str:
    """``text`` without the parts that change on every fetch and mean nothing."""
    return _strip_noise(text)


def _lowered(text: str) -> str:
    """``text`` lowered for substring pre-checks that must find whatever an IGNORECASE regex finds."""
    return (text if text.isascii() else text.translate(_HINT_FOLD)).lower()


def _may_be_relative(low: str) -> bool:
    """Whether _RELATIVE_TIME can match: ``low`` is the text lowered, or translated by
    _ASCII_WORD_KEY (which makes "'" a space, hence both forms of "l'instant"). It only decides
    whether the pattern runs, so a hint too many costs a scan and never changes a result."""
    return (
        "ago" in low
        or "vor" in low
        or "il y a" in low
        or "just now" in low
        or "yesterday" in low
        or "gerade eben" in low
        or "l'instant" in low
        or "l instant" in low
    )


def _strip_noise(text: str, *, digits: bool = False) -> str:
    """strip_noise without its cache; ``digits``: the caller has seen a decimal digit in ``text``."""
    if not text:
        return text
    # cheap scans decide which of the costly patterns can match at all: most text has no digits
    low = _lowered(text)
    if _may_be_relative(low):
        text = _RELATIVE_TIME.sub(" ", text)
        digits = False  # "3 days ago" may have been its only number
    if "=" in text:
        text = _QUERY_BUST.sub(lambda m: m[1] + "#", text)  # a function: a template is parsed per call
        digits = False
    if not digits and not _DIGIT.search(text):
        return text
    # each pre-check is a word every match of the pattern holds (see the patterns above); a
    # substitution that matched nothing changed nothing, so ``low`` stays usable for the checks
    if (":" in text and _DIGIT_COLON_DIGIT.search(text)) or text.count("-") >= 4:
        text = _DATETIME_NOW.sub(" ", text)
    if "©" in text or "(" in text or "copyright" in low:
        text = _COPYRIGHT.sub("© YEAR", text)
    if _holds_any(low, _WINDOW_WORDS):
        text = _COUNTER.sub("#", text)
    if _holds_any(low, _SOCIAL_WORDS):
        text = _SOCIAL.sub("#", text)
    if not _LONG_TOKEN.search(text):  # a token lies within one run of non-space
        return text
    longest = max(map(len, text.split()))
    text = _HEX_TOKEN.sub("#", text)
    return _OPAQUE_TOKEN.sub("#", text) if longest >= 20 else text


@lru_cache(maxsize=256)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p})" for p in patterns))


def remove_ignored(text: str, patterns: Iterable[str]) -> str:
    """``text`` without the watch's ``ignore`` regexes; whitespace tidied where they were."""
    compiled = _compiled(tuple(patterns))
    if compiled is None:
        return text
    return collapse_space(compiled.sub(" ", text))


# --- meaning-keeping forms ----------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan", "januar", "janvier", "janv", "jänner"),
            ("february", "feb", "februar", "février", "fevrier", "févr", "fevr"),
            ("march", "mar", "märz", "maerz", "mars", "mrz"),
            ("april", "apr", "avril", "avr"),
            ("may", "mai"),
            ("june", "jun", "juni", "juin"),
            ("july", "jul", "juli", "juillet", "juil"),
            ("august", "aug", "août", "aout"),
            ("september", "sep", "sept", "septembre"),
            ("october", "oct", "oktober", "okt", "octobre"),
            ("november", "nov", "novembre"),
            ("december", "dec", "dezember", "dez", "décembre", "decembre", "déc"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<mon>[A-Za-zÀ-ÿ]{3,9})\.?"
_DATE_MDY = re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})\b")
_DATE_DMY = re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th|\.|er)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})\b")
_DATE_NUM = re.compile(r"\b(?P<day>\d{1,2})\.(?P<mon>\d{1,2})\.(?P<year>\d{4})\b")
_YEAR = re.compile(r"\d{4}")
_DATE_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<mon>\d{1,2})-(?P<day>\d{1,2})\b")


def _iso(year: str, month: int | None, day: str) -> str | None:
    if month is None or not 1 <= int(day) <= 31:
        return None
    return f"{int(year):04d}-{month:02d}-{int(day):02d}"


def _named_date(match: re.Match[str]) -> str:
    iso = _iso(match["year"], _MONTHS.get(match["mon"].lower()), match["day"])
    return iso or match.group(0)


def _numeric_date(match: re.Match[str]) -> str:
    month = int(match["mon"])
    iso = _iso(match["year"], month if 1 <= month <= 12 else None, match["day"])
    return iso or match.group(0)


def normalize_dates(text: str) -> str:
    """Dates written in any of the common forms become ISO ``YYYY-MM-DD``."""
    if not _YEAR.search(text):
        return text  # every form below has a four-digit year
    text = _DATE_MDY.sub(_named_date, text)
    text = _DATE_DMY.sub(_named_date, text)
    if "." in text:
        text = _DATE_NUM.sub(_numeric_date, text)
    return _DATE_ISO.sub(_numeric_date, text) if "-" in text else text


@lru_cache(maxsize=65536)
def find_dates(text: str) -> tuple[str, ...]:
    """The ISO dates written anywhere in ``text``, in order."""
    if not _DIGIT.search(text):
        return ()  # every date form needs a decimal digit
    return tuple(m.group(0) for m in _DATE_ISO.finditer(normalize_dates(text)))


_US_STATES = dict(
    pair.replace("_", " ").split("=")
    for pair in (
        "AL=Alabama AK=Alaska AZ=Arizona AR=Arkansas CA=California CO=Colorado CT=Connecticut DE=Delaware "
        "FL=Florida GA=Georgia HI=Hawaii ID=Idaho IL=Illinois IN=Indiana IA=Iowa KS=Kansas KY=Kentucky "
        "LA=Louisiana ME=Maine MD=Maryland MA=Massachusetts MI=Michigan MN=Minnesota MS=Mississippi "
        "MO=Missouri MT=Montana NE=Nebraska NV=Nevada NH=New_Hampshire NJ=New_Jersey NM=New_Mexico "
        "NY=New_York NC=North_Carolina ND=North_Dakota OH=Ohio OK=Oklahoma OR=Oregon PA=Pennsylvania "
        "RI=Rhode_Island SC=South_Carolina SD=South_Dakota TN=Tennessee TX=Texas UT=Utah VT=Vermont "
        "VA=Virginia WA=Washington WV=West_Virginia WI=Wisconsin WY=Wyoming DC=District_of_Columbia"
    ).split()
)
_STATE_ABBR = re.compile(r"(?<=[a-z]), (" + "|".join(_US_STATES) + r")\b(?![-'])")
_COUNTRY_ABBR = re.compile(r"(?<=[a-z]), (UK|U\.K\.|GB|USA|U\.S\.A?\.?|US)\b(?![-'])")
_COUNTRY_NAMES = {"UK": "United Kingdom", "U.K.": "United Kingdom", "GB": "United Kingdom"}
_COMMA_CAPITALS = re.compile(r", [A-Z]{2}")
_STATE_THEN_COUNTRY = re.compile(r"(" + "|".join(_US_STATES.values()) + r"), United States\b")


def normalize_places(text: str) -> str:
    """ "Boston, MA" = "Boston, Massachusetts, United States"; "London, UK" = "London, United Kingdom"."""
    if "," not in text or ", " not in text:  # a one-character scan first: it is many times cheaper
        return text
    # the patterns are long alternations that cost tens of microseconds on a line of prose; a
    # literal or a one-step pattern that every match must hold decides whether they run at all
    if _COMMA_CAPITALS.search(text):
        text = _STATE_ABBR.sub(lambda m: ", " + _US_STATES[m[1]], text)
    if ", U" in text or ", G" in text:
        text = _COUNTRY_ABBR.sub(lambda m: ", " + _COUNTRY_NAMES.get(m[1], "United States"), text)
    if ", United States" in text:
        text = _STATE_THEN_COUNTRY.sub(lambda m: m[1], text)
    return text


_THOUSANDS = re.compile(r"(?<=\d)[,\u202f'](?=\d{3}(?!\d))")
_DOT_THOUSANDS = re.compile(r"(?<=\d)\.(?=\d{3}(?:[^\d.,]|$))")  # 10.000 € (German)
_ZERO_CENTS = re.compile(r"(?<=\d)[.,]00?(?!\d)")
_SUFFIX_CURRENCY = re.compile(r"(\d[\d.]*)\s?(€|\$|£|¥|EUR\b|USD\b|GBP\b)")
_PREFIX_CURRENCY = re.compile(r"(€|\$|£|¥)\s+(?=\d)")
_CURRENCY_WORD = {"EUR": "€", "USD": "$", "GBP": "£"}


def normalize_numbers(text: str) -> str:
    """``1,000`` = ``1000``; ``$49.00`` = ``$49``; ``149 €`` = ``€149``."""
    # substring pre-checks: each pattern needs its separator or currency sign to match at all
    dot = "." in text
    if "," in text or "'" in text or "\u202f" in text:
        text = _THOUSANDS.sub("", text)
    if dot:
        text = _DOT_THOUSANDS.sub("", text)
    if dot or "," in text:
        text = _ZERO_CENTS.sub("", text)
    sign = "$" in text or "€" in text or "£" in text or "¥" in text
    if sign or "EUR" in text or "USD" in text or "GBP" in text:
        text = _SUFFIX_CURRENCY.sub(lambda m: _CURRENCY_WORD.get(m[2], m[2]) + m[1], text)
    return _PREFIX_CURRENCY.sub(lambda m: m[1], text) if sign else text


def collapse_space(text: str) -> str:
    return " ".join(text.split())


_SPACE_BEFORE_HINT = re.compile(r" [,.;:!?)\]]")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+(?=[,.;:!?)\]](?:\s|$))")
# a space before a space or before _SPACE_BEFORE_HINT's punctuation: both of readable()'s scans in one
_SPACE_BEFORE_SPACE_OR_HINT = re.compile(r" [ ,.;:!?)\]]")


def readable(text: str) -> str:
    """The display form: the original words with whitespace and invisible characters tidied."""
    # text that is tidy already (most of it on minified pages) skips the split into words: every
    # whitespace character but the space, U+200B and U+00AD are all unprintable, so printable
    # text with no double space and no space at either end is what the two steps would make
    if text.isprintable() and text[:1] != " " and text[-1:] != " ":
        # one scan instead of the "  " test and the hint search below: finding neither, both steps
        # leave the text as it is; finding one where "  " is not in the text, it found the hint
        if " " not in text or not _SPACE_BEFORE_SPACE_OR_HINT.search(text):
            return text
        if "  " not in text:
            return _SPACE_BEFORE_PUNCT.sub("", text)
    # not tidy: unprintable, a space at an end, or a double space
    if "\u200b" in text or "\u00ad" in text:
        text = text.replace("\u200b", "").replace("\u00ad", "")
    text = " ".join(text.split())  # str.split() also splits on no-break spaces
    # a short cell or title often has no space at all: nothing to tidy, and no pattern call
    return _SPACE_BEFORE_PUNCT.sub("", text) if " " in text and _SPACE_BEFORE_HINT.search(text) else text


# a job board's field that says the default ("· Full-time") is shown or hidden by widget settings
_DEFAULT_FIELD = re.compile(r"\s*[·|•]\s*(?:full[- ]time|vollzeit|temps plein)(?=\s*(?:[·|•]|$))", re.IGNORECASE)
_SEPARATORS = re.compile(r"[^\w\s$€£¥%+#✓✗.@&/]+")


def _may_have_default_field(text: str) -> bool:
    """Whether _DEFAULT_FIELD can match: it needs a separator and a word of its alternatives;
    the one-character separators come first, as those scans are the cheapest."""
    return ("|" in text or "·" in text or "•" in text) and ("ime" in text or "oll" in text or "lein" in text)


_WORD_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")


# _SEPARATORS as a byte table over ASCII: bytes.translate is many times faster than the regex, and
# one space per separator instead of one per run is the same once whitespace is collapsed
_ASCII_SEPARATORS = bytes(32 if c < 128 and _SEPARATORS.fullmatch(chr(c)) else c for c in range(256))
# the last steps of an ASCII key without digits in one table: lower case, separators and dots to
# spaces, and every character str.split() splits at to a space, so that collapsing runs of spaces
# is all that is left of the split and join
_ASCII_WORD_KEY = bytes(
    32 if _SEPARATORS.fullmatch(chr(c)) or chr(c).isspace() or chr(c) == "." else ord(chr(c).lower())
    for c in range(128)
) + bytes(range(128, 256))
# _ASCII_WORD_KEY with every digit (in ASCII text the only characters \d matches) made "0", which no
# other byte becomes: one pass keys text without digits and tells whether the text has a digit
_ASCII_WORD_KEY_DIGIT_0 = bytes(48 if 48 <= c <= 57 else _ASCII_WORD_KEY[c] for c in range(256))


_DEFAULTS = NormalizeOptions()
_OPTIONS: ContextVar[NormalizeOptions] = ContextVar("rivalwatch_normalize", default=_DEFAULTS)


@contextmanager
def normalizing(options: NormalizeOptions) -> Iterator[None]:
    """Compare text by a page's own options (``normalize:`` in its config) inside this block.

    A context variable, because the comparison key is needed deep inside extraction, facts,
    diff and signatures; every asyncio task (one page's check) has its own context.
    """
    token = _OPTIONS.set(_DEFAULTS if options == _DEFAULTS else options)  # `is` in the hot path
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def comparison_key(text: str) -> str:
    """The normalised form two blocks are compared and hashed by; empty when it is all noise."""
    options = _OPTIONS.get()
    return _default_key(text) if options is _DEFAULTS else _key_with(text, options)


def comparison_keyer() -> Callable[[str], str]:
    """``comparison_key`` under the options in force now, for a loop that keys many texts.

    With the default options it is the cached key function itself, so a key already known
    costs one C-level cache lookup instead of a Python call and a context-variable read.
    """
    options = _OPTIONS.get()
    if options is _DEFAULTS:
        return _default_key
    return lambda text: _key_with(text, options)


@lru_cache(maxsize=16384)
def _key_with(text: str, options: NormalizeOptions) -> str:
    """comparison_key with some normalisations turned off for a page: the plain, unhurried path."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    if options.noise:
        text = _strip_noise(text)
    text = normalize_places(text)
    if options.dates:
        text = normalize_dates(text)
    if options.numbers:
        text = normalize_numbers(text)
    text = _SEPARATORS.sub(" ", text.casefold() if options.case else text)
    return " ".join(_WORD_DOT.sub(" ", text).split())


@lru_cache(maxsize=65536)
def _default_key(text: str) -> str:
    """comparison_key with every normalisation on (the default), with its fast paths."""
    ascii_digits = False  # ASCII text seen to hold a digit, whose \d search can then be skipped
    if text.isascii():  # NFKC and _QUOTES (all non-ASCII keys) leave ASCII text as it is
        words = text.encode("ascii").translate(_ASCII_WORD_KEY_DIGIT_0).decode("ascii")
        ascii_digits = "0" in words
        if not ascii_digits and "=" not in text:
            return _ascii_words_key(text, words)  # no digits: only relative times can be noise
    elif not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    else:
        text = text.translate(_QUOTES)
    original = text
    text = _strip_noise(text, digits=ascii_digits)
    if _may_have_default_field(text):
        text = _DEFAULT_FIELD.sub("", text)
    text = normalize_places(text)
    digits = (ascii_digits and text == original) or _DIGIT.search(text) is not None
    if digits:
        text = normalize_numbers(normalize_dates(text))
    # punctuation that only separates words carries no meaning for comparison: "London, UK" =
    # "London · UK"; dots stay where they are decimals
    if text.isascii():
        text = text.encode("ascii").lower().translate(_ASCII_SEPARATORS).decode("ascii")
    else:
        text = _SEPARATORS.sub(" ", text.casefold())
    # without digits every dot is a word's dot (nothing after the digit test adds digits)
    if "." in text:
        text = _WORD_DOT.sub(" ", text) if digits else text.replace(".", " ")
    return " ".join(text.split())


def _ascii_words_key(text: str, words: str) -> str:
    """comparison_key of ASCII text without digits or "=", step for step with fewer scans.

    ``words`` is ``text`` translated by _ASCII_WORD_KEY (str methods: bytes' substring tests are
    slower), which is the key's last pass when no earlier step changes the text.
    """
    # the hints tested on words instead of on text.lower(): the table lowers letters and keeps
    # spaces, so a hint in the lowered text is in words too (with "'" as a space)
    keyed: str | None = words  # None once a step below has changed the text
    if _may_be_relative(words):
        text = _RELATIVE_TIME.sub(" ", text)
        keyed = None
    if "|" in text and _may_have_default_field(text):  # of its separators only "|" is ASCII
        text = _DEFAULT_FIELD.sub("", text)
        keyed = None
    if "," in text:  # normalize_places needs ", "
        text = normalize_places(text)
        keyed = None
    # without digits every dot is a word's dot
    words = keyed if keyed is not None else text.encode("ascii").translate(_ASCII_WORD_KEY).decode("ascii")
    while "  " in words:  # a run of n spaces takes about log2(n) passes; words are one apart
        words = words.replace("  ", " ")
    return words.strip(" ")
