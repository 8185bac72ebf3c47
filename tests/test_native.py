"""The compiled parser (monitor/_native.py): the same results as its source, and never a stale build.

Under CI the parser must be compiled (the README's install compiles it where gcc is present);
on a user's machine without a compiler the comparison skips and says why, as there is nothing to
compare. CI also runs the whole suite with RIVALWATCH_PURE=1, so the source, which runs where
nothing compiled it, is tested too.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import astuple
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import pytest

from monitor import _native
from monitor.records import NormalizeOptions, PageKind

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# pages no site serves, for the paths the corpus may not take (and _soup's random ones)
ODD_PAGES = [
    "",
    "plain text, no markup at all",
    "<html><body><p>\x00\x01 control \u200b zero\u00adwidth \ud800 lone surrogate</p></body></html>",
    "<p>Über 10.000 Kunden · ab 49,00 € pro Monat · seit 12. März 2026</p><p>日本語のテキスト 2,980円</p>",
    "<table><tr><td>Seats</td><td>5</td><td>50</td></tr><tr><td>SSO</td><td>✓</td><td>—</td></tr></table>"
    "<div role='grid'><div role='row'><span role='columnheader'>Plan</span><span role='columnheader'>Price"
    "</span></div><div role='row'><span role='cell'>Pro</span><span role='cell'>$49/mo</span></div></div>",
    "<ul>" + "".join(f"<li class='job'><b>Engineer {i}</b> · Remote · Full-time</li>" for i in range(6)) + "</ul>",
    "<main><h2>Popular this month</h2><ul><li>A</li><li>B</li></ul><h2>Pricing</h2><h3>Team</h3>"
    "<p>$99 per month, billed annually</p><blockquote>“Great tool for us” — Ann, CTO</blockquote></main>",
    "<div hidden>hidden</div><p style='display:none'>gone</p><p aria-hidden='true'>x</p>"
    "<p>Updated 3 minutes ago · 1,234 teams joined today · token a1b2c3d4e5f6a7b8c9d0</p>",
    "<h1>" + "<div>" * 200 + "deep" + "</div>" * 200 + "</h1><p>after",
]
SOUP_TAGS = (
    "p div span a b h1 h2 h3 li ul ol table tr td th thead caption img br section article nav header footer main "
    "blockquote pre label button small time cite dl dt dd details summary figure figcaption svg select option "
    "script style noscript template iframe"
).split()
SOUP_WORDS = (
    "Pro|Team|$49|€12,50|/mo|per month|billed annually|SSO|✓|—|3 days ago|1,234 signed up|Full-time|·|Remote|"
    " | |“Great tool for us” — Ann, CTO|2026-03-12|a1b2c3d4e5f6a7b8c9|?v=123|© 2025|il y a 2 jours|vor 2 Tagen|"
    "\u200b|\u00ad|\xa0|日本|Ünïcode"
).split("|")
SOUP_BITS = [
    "<!-- c -->",
    "<?pi x?>",
    "<![CDATA[x]]>",
    "&amp;",
    "&nbsp;",
    "&#x1F600;",
    "<br>",
    "<hr>",
    "</p>",
    "<img alt='Logo'>",
    "<img alt>",
]
SOUP_ATTRS = [
    "",
    " class='btn cta'",
    " hidden",
    " style='display:none'",
    " aria-hidden='true'",
    " role='table'",
    " role='row'",
    " role='cell'",
    " role='columnheader'",
    " class='job'",
    " class='c1 c2'",
]


def _soup(rng: random.Random, depth: int = 0) -> str:
    """Random tag soup: unclosed and stray tags, comments, entities, hidden parts, ARIA grids."""
    out = []
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.35 or depth > 6:
            out.append(" ".join(rng.choice(SOUP_WORDS) for _ in range(rng.randint(0, 12))))
        elif roll < 0.4:
            out.append(rng.choice(SOUP_BITS))
        else:
            tag = rng.choice(SOUP_TAGS)
            end = "" if rng.random() < 0.1 else f"</{tag}>"
            out.append(f"<{tag}{rng.choice(SOUP_ATTRS)}>{_soup(rng, depth + 1)}{end}")
    return "".join(out)


OPTIONS = [NormalizeOptions(), NormalizeOptions(numbers=False, dates=False), NormalizeOptions(noise=False, case=False)]
KINDS = [PageKind.PRICING, PageKind.CAREERS, PageKind.CHANGELOG, PageKind.PRODUCT]

EXTRACT = """
import json, sys
from monitor import _native
from monitor.records import NormalizeOptions, PageKind, Watch
from monitor.workers import _extract_encoded
cases = json.load(sys.stdin)
assert _native.mode().startswith(sys.argv[1]), _native.mode()
def watch(kind, options):
    return Watch(competitor="C", url="http://127.0.0.1/p", kind=PageKind(kind), normalize=NormalizeOptions(*options))
out = [_extract_encoded(html, watch(kind, options), None) for html, kind, options in cases]
json.dump(out, sys.stdout)
"""


def _cases() -> list[tuple[str, str, tuple[bool, ...]]]:
    files = sorted((ROOT / "monitor" / "demo" / "site").rglob("*.html")) + sorted(CORPUS.rglob("*.html"))
    rng = random.Random(5)
    pages = [f.read_text(encoding="utf-8", errors="replace") for f in files] + ODD_PAGES
    pages += [page[: rng.randrange(len(page) + 1)] for page in pages[:60]]  # cut off anywhere
    pages += [_soup(rng) for _ in range(400)]
    return [
        (html, KINDS[(n + v) % len(KINDS)].value, astuple(OPTIONS[(n + v) % len(OPTIONS)]))
        for n, html in enumerate(pages)
        for v in range(1 if n % 5 else 2)  # every fifth page also under the next kind and options
    ]


def test_the_compiled_parser_gives_what_its_source_gives():
    """Each mode in its own process, so the comparison runs whichever mode this run is in."""
    not_compiled = _native.why_source(environ={})
    if not_compiled is not None:
        reason = f"the parser is not compiled here ({not_compiled})"
        if IN_CI:
            pytest.fail(f"the README's install must compile the parser under CI: {reason}")
        pytest.skip(reason)
    cases = _cases()
    compiled = _run(EXTRACT, "compiled", stdin=json.dumps(cases), pure=False)
    from_source = _run(EXTRACT, "from source", stdin=json.dumps(cases), pure=True)
    assert len(cases) > len(ODD_PAGES) + 5
    for case, got, want in zip(cases, compiled, from_source, strict=True):
        assert got == want, case[0][:200]


def _run(script: str, *args: str, stdin: str = "", pure: bool) -> Any:
    """What ``script`` prints as JSON, run with the parser from source (``pure``) or as installed."""
    env = {k: v for k, v in os.environ.items() if k != _native.PURE_ENV} | ({_native.PURE_ENV: "1"} if pure else {})
    done = subprocess.run(
        [sys.executable, "-c", script, *args], input=stdin, capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _package(tmp_path: Path, *, built: bool = True) -> Path:
    """A package folder shaped like monitor/ after a compile: sources, extension files, manifest."""
    suffix = EXTENSION_SUFFIXES[0]
    hashes = {}
    for module in _native.COMPILED:
        source = _native.source_path(module, tmp_path)
        source.write_text(f"NAME = {module!r}\n")
        hashes[module] = _native.source_hash(source)
        if built:
            source.with_name(source.stem + suffix).write_bytes(b"")
    if built:
        (tmp_path / _native.MANIFEST).write_text(json.dumps(hashes))
    return tmp_path


def test_a_current_build_is_used_and_an_edited_source_is_not(tmp_path):
    package = _package(tmp_path)
    assert _native.why_source(package, environ={}) is None
    assert _native.why_source(package, environ={_native.PURE_ENV: "1"}) == f"{_native.PURE_ENV}=1"
    edited = _native.source_path("monitor.facts", package)
    edited.write_text(edited.read_text() + "# edited after the build\n")
    assert _native.why_source(package, environ={}) == "facts.py changed since it was compiled"


def test_without_a_build_or_its_manifest_the_sources_are_used(tmp_path):
    bare, package = tmp_path / "bare", tmp_path / "built"
    bare.mkdir()
    package.mkdir()
    assert _native.why_source(_package(bare, built=False), environ={}) == "not compiled"
    _package(package)
    (package / _native.MANIFEST).unlink()
    assert _native.why_source(package, environ={}) == f"no readable {_native.MANIFEST} beside the compiled modules"
    (package / f"extract{EXTENSION_SUFFIXES[0]}").unlink()
    assert _native.why_source(package, environ={}) == "no compiled build of monitor.extract"


def test_pure_mode_imports_every_compiled_module_from_its_source():
    files = _run(
        "import json, sys; from monitor import _native; _native.mode(); "
        "print(json.dumps({m: sys.modules[m].__file__ for m in _native.COMPILED}))",
        pure=True,
    )
    assert files == {m: str(_native.source_path(m)) for m in _native.COMPILED}
