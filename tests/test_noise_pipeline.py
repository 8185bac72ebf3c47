"""Noise the pipeline learns for itself, through the real CLI over a loopback site: a block that
differs between two fetches moments apart is volatile from then on, and a page that flips
between versions it has shown before is reported once as a variant, then stays quiet."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from loopback import Response

from monitor.cli import main

WORDS = ["amber", "birch", "cedar", "dune", "ember", "fjord", "grove", "heath", "inlet", "juniper"]
BASE = """<!doctype html><html><head><title>Acme</title></head><body><main>
<h1>Analytics for product teams</h1>
<p>Funnels, retention and replay in one place.</p>
<section><h2>Plans</h2><p>Pro: $49 per seat / month</p></section>
{extra}
</main></body></html>"""


def write_config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "rivalwatch.yaml"
    config.write_text(
        f"""
storage: sqlite:///{tmp_path / "rw.db"}
output: {tmp_path / "out"}
fetch: {{per_host_delay: 0, retries: 0}}
detect: {{confirm_delay: 0}}
responders: {{console: false}}
competitors:
  - name: Acme
    pages:
      - {{url: "{url}", kind: homepage, robots: false}}
"""
    )
    return config


def once(config: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["once", "--json", "--config", str(config)]) == 0
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    return line


def test_a_block_that_differs_between_two_fetches_is_learned_as_noise(site, tmp_path, capsys):
    counter = itertools.count()

    def page(_handler: object) -> Response:
        # a widget of a kind no rule knows: different words on every request
        n = next(counter)
        return Response(
            BASE.format(extra=f"<aside><p>Word of the moment: {WORDS[n % 10]} {WORDS[n // 10 % 10]}</p></aside>")
        )

    site.set("/", page)
    config = write_config(tmp_path, site.url("/"))
    assert once(config, capsys)["status"] == "first"
    assert once(config, capsys)["status"] == "unchanged"  # the confirming fetch disagreed: volatile
    hits = site.hits("/")
    assert once(config, capsys)["status"] == "unchanged"
    assert site.hits("/") == hits + 1, "a learned volatile block needs no confirming fetch again"

    assert main(["noise", site.url("/"), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "learned as volatile" in out and "Word of the moment" in out


def test_a_flapping_page_is_reported_once_as_a_variant_then_stays_quiet(site, tmp_path, capsys):
    a = BASE.format(extra="<section><h2>Hero</h2><p>Ship faster with product analytics</p></section>")
    b = BASE.format(extra="<section><h2>Hero</h2><p>Know your users with product analytics</p></section>")
    config = write_config(tmp_path, site.url("/"))
    statuses, summaries = [], []
    for html in [a, b, a, b, a, b, a]:
        site.set("/", Response(html))
        result = once(config, capsys)
        statuses.append(result["status"])
        summaries.append((result["change"] or {}).get("summary", ""))
    # going back once is a real change (a price that returns is news); the third return is a flip
    assert statuses == ["first", "changed", "changed", "changed", "changed", "noise", "noise"]
    assert [s.startswith("Variant") for s in summaries] == [False, False, False, False, True, False, False]
    alerts = (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()
    assert len(alerts) == 4
