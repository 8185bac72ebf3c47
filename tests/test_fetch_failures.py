"""Failure recognition and the pure helpers of fetching, table-driven from tests/data."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import yaml

from monitor.fetch.backoff import backoff_delay, is_transient, retry_after_seconds, retry_delay
from monitor.fetch.decode import decode_html, detect_charset
from monitor.fetch.failures import classify_response
from monitor.records import FetchError, FetchErrorKind

CASES = yaml.safe_load((Path(__file__).parent / "data" / "fetch_failures_cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_classify_response(case: dict) -> None:
    text = case["text"]
    if "filler" in case:
        text = text.replace("{filler}", "Bots are a real problem for signup forms. " * case["filler"])
    error = classify_response(case["status"], case.get("headers", {}), text)
    if case["kind"] is None:
        assert error is None, error
    else:
        assert error is not None, "expected an error"
        assert error.kind == FetchErrorKind(case["kind"])
        assert error.message


def test_corpus_challenge_page_is_blocked() -> None:
    # the exact page the corpus serves for its "challenge" fault
    page = (
        "<!doctype html><html><head><title>Just a moment...</title></head><body>"
        "<h1>Checking your browser before accessing the site.</h1>"
        "<p>This process is automatic. Your browser will redirect shortly.</p>"
        "<p>Ray ID: 00ff00ff00ff00ff</p></body></html>"
    )
    error = classify_response(200, {}, page)
    assert error is not None and error.kind is FetchErrorKind.BLOCKED


@pytest.mark.parametrize(
    ("kind", "status", "transient"),
    [
        (FetchErrorKind.TIMEOUT, None, True),
        (FetchErrorKind.CONNECT, None, True),
        (FetchErrorKind.RATE_LIMITED, 429, True),
        (FetchErrorKind.HTTP_STATUS, 503, True),
        (FetchErrorKind.HTTP_STATUS, 502, True),
        (FetchErrorKind.HTTP_STATUS, 404, False),
        (FetchErrorKind.HTTP_STATUS, 403, False),
        (FetchErrorKind.BLOCKED, 200, False),
        (FetchErrorKind.NOT_HTML, 200, False),
        (FetchErrorKind.TOO_LARGE, 200, False),
    ],
)
def test_is_transient(kind: FetchErrorKind, status: int | None, transient: bool) -> None:
    assert is_transient(FetchError(kind, "x"), status) is transient


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert (
        retry_after_seconds({"retry-after": format_datetime(now + timedelta(seconds=30), usegmt=True)}, now=now) == 30.0
    )
    assert retry_after_seconds({"Retry-After": format_datetime(now - timedelta(hours=1), usegmt=True)}, now=now) == 0.0
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_retry_delay_caps_retry_after_and_backs_off_exponentially() -> None:
    assert retry_delay(0, {"Retry-After": "3600"}, base=1, cap=30, retry_after_cap=60) == 60
    assert retry_delay(0, {"Retry-After": "1"}, base=1, cap=30, retry_after_cap=60) == 1
    rng = random.Random(7)
    ceilings = [1, 2, 4, 8, 16, 30, 30]
    for attempt, ceiling in enumerate(ceilings):
        draws = [backoff_delay(attempt, base=1, cap=30, rng=rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling / 2  # jitter spreads over the whole range, not a fixed step


@pytest.mark.parametrize(
    ("body", "content_type", "charset"),
    [
        ("<p>Préférences</p>".encode("iso-8859-1"), "text/html; charset=ISO-8859-1", "iso8859-1"),
        ('<meta charset="windows-1252"><p>Préférences</p>'.encode("cp1252"), "text/html", "cp1252"),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>Цены</p>'.encode("koi8-r"),
            "text/html",
            "koi8-r",
        ),
        ("<p>Grüße</p>".encode(), "text/html", "utf-8"),
        ("\ufeff<p>bom</p>".encode(), "text/html; charset=iso-8859-1", "utf-8-sig"),
        (b"<p>x</p>", "text/html; charset=no-such-codec", "utf-8"),
    ],
)
def test_detect_charset(body: bytes, content_type: str, charset: str) -> None:
    assert detect_charset(body, content_type) == charset


def test_undeclared_legacy_encoding_is_guessed() -> None:
    french = (
        "<html><body><p>Nos tarifs évoluent : l'édition Entreprise coûte désormais 59 € par siège. "
        "Les équipes françaises bénéficient d'un hébergement sécurisé et d'une assistance dédiée.</p>"
        "</body></html>"
    ) * 3
    text = decode_html(french.encode("cp1252"), "text/html")
    assert "désormais" in text and "sécurisé" in text
