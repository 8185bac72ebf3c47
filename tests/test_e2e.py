"""End to end: real HTTP server on loopback, the real CLI, SQLite, the rules classifier.

`rivalwatch once --json` runs twice on the same version (baseline, then nothing to report
despite fresh noise), then across a version step with a price rise; the change is graded,
alerted once, and lands in the digest and a staged battle-card proposal.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from loopback import Response

from monitor.cli import main

DATA = Path(__file__).parent / "data" / "e2e"
TESTIMONIALS = ["“Great tool.” — Ana", "“We love it.” — Bo", "“Setup took a day.” — Cy"]


class NoisyPage:
    """Serves a template with fresh noise (counters, nonces, quotes, ages) on every request."""

    def __init__(self, template: str):
        self.template = template
        self.rng = random.Random(3)
        self.count = itertools.count()

    def __call__(self, _handler: object) -> Response:
        next(self.count)
        html = (
            self.template.replace("{{NONCE}}", f"{self.rng.getrandbits(128):032x}")
            .replace("{{VIEWERS}}", str(self.rng.randint(12, 480)))
            .replace("{{TESTIMONIAL}}", self.rng.choice(TESTIMONIALS))
            .replace("{{YEAR}}", "2026")
            .replace("{{MINUTES}}", str(self.rng.randint(2, 59)))
        )
        return Response(html)


def write_config(tmp_path: Path, url: str) -> Path:
    cards = tmp_path / "battlecards"
    cards.mkdir()
    (cards / "acme.md").write_text("# Acme Analytics\n\n## Pricing\n\nPro is $49 per seat per month.\n")
    (tmp_path / "company.md").write_text("# Us\n\nWe sell product analytics.\n")
    config = tmp_path / "rivalwatch.yaml"
    config.write_text(
        f"""
company: company.md
storage: sqlite:///state/rivalwatch.db
output: out
fetch: {{per_host_delay: 0, retries: 0}}
detect: {{confirm_delay: 0}}
responders: {{console: false}}
competitors:
  - name: Acme Analytics
    battlecard: battlecards/acme.md
    pages:
      - {{url: "{url}", kind: pricing, robots: false}}
"""
    )
    (tmp_path / "state").mkdir()
    return config


def once(config: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["once", "--json", "--config", str(config)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1
    return lines[0]


def test_price_rise_is_detected_graded_alerted_and_digested(site, tmp_path, capsys):
    site.set("/pricing", NoisyPage((DATA / "pricing_v1.html").read_text()))
    config = write_config(tmp_path, site.url("/pricing"))

    first = once(config, capsys)
    assert first["status"] == "first" and first["change"] is None and first["error"] is None
    assert once(config, capsys)["status"] == "unchanged"  # fresh noise, same version

    site.set("/pricing", NoisyPage((DATA / "pricing_v2.html").read_text()))
    changed = once(config, capsys)
    assert changed["status"] == "changed", changed
    assert changed["change"]["category"] == "pricing"
    assert changed["change"]["severity"] in ("high", "critical")
    assert any("59" in fact for fact in changed["change"]["facts"]), changed["change"]["facts"]
    assert once(config, capsys)["status"] == "unchanged"

    alerts = [json.loads(line) for line in (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()]
    assert [a["change_id"] for a in alerts] == [changed["change"]["id"]]  # alerted exactly once

    assert main(["digest", "--config", str(config)]) == 0
    digest = next((tmp_path / "out").glob("digest-*.md")).read_text()
    assert "Acme Analytics" in digest and "$59" in digest

    assert main(["stage-cards", "--config", str(config)]) == 0
    proposal_path = tmp_path / "battlecards" / "acme.proposed.md"
    proposal = proposal_path.read_text()
    assert "$59" in proposal and "$59" not in (tmp_path / "battlecards" / "acme.md").read_text()
    proposal_path.write_text(proposal.replace("- [ ] approve", "- [x] approve", 1))  # sales approve edit 1
    assert main(["review", "--config", str(config)]) == 0
    assert "$59" in (tmp_path / "battlecards" / "acme.md").read_text()
    capsys.readouterr()
    assert main(["diff", site.url("/pricing"), "--config", str(config)]) == 0
    assert "$59" in capsys.readouterr().out


def test_failed_fetch_is_an_error_never_a_change(site, tmp_path, capsys):
    site.set("/pricing", NoisyPage((DATA / "pricing_v1.html").read_text()))
    config = write_config(tmp_path, site.url("/pricing"))
    assert once(config, capsys)["status"] == "first"

    site.set("/pricing", Response("<h1>Service Unavailable</h1>", status=503))
    failed = once(config, capsys)
    assert failed["status"] == "error" and failed["change"] is None
    assert failed["error"]["kind"] in ("http-status", "rate-limited")

    # the next good fetch is compared with the last good snapshot
    site.set("/pricing", NoisyPage((DATA / "pricing_v2.html").read_text()))
    assert once(config, capsys)["status"] == "changed"


def test_validate_names_file_line_and_key(tmp_path, capsys):
    bad = tmp_path / "rivalwatch.yaml"
    bad.write_text(
        "competitors:\n  - name: Acme\n    pages:\n      - url: https://acme.example/pricing\n        evry: 1h\n"
    )
    assert main(["validate", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:5" in err and "evry" in err and "every" in err


JS_PAGE = """<!doctype html><html><head><title>Pricing</title></head><body><main id="app"></main>
<script>
fetch("/data.json").then(r => r.json()).then(d => {
  const app = document.getElementById("app");
  app.innerHTML = "<h1>Pricing</h1>" + d.plans.map(p =>
    `<section><h2>${p.name}</h2><p class="price">${p.price} per seat / month</p></section>`).join("");
});
</script></body></html>"""


def test_script_rendered_page_through_real_chromium(site, tmp_path, capsys, chromium_path):
    site.set("/pricing", JS_PAGE)
    plans = {"plans": [{"name": "Starter", "price": "$19"}, {"name": "Pro", "price": "$49"}]}
    site.set("/data.json", Response(json.dumps(plans), headers={"Content-Type": "application/json"}))
    config = write_config(tmp_path, site.url("/pricing"))
    config.write_text(config.read_text().replace("kind: pricing,", "kind: pricing, render: browser,"))

    assert once(config, capsys)["status"] == "first"
    plans["plans"][1]["price"] = "$59"
    site.set("/data.json", Response(json.dumps(plans), headers={"Content-Type": "application/json"}))
    changed = once(config, capsys)
    assert changed["status"] == "changed", changed
    assert changed["change"]["category"] == "pricing"
    assert any("$59" in fact for fact in changed["change"]["facts"]), changed["change"]["facts"]


def test_extraction_in_worker_processes_gives_the_same_result(site, tmp_path, capsys):
    site.set("/pricing", NoisyPage((DATA / "pricing_v1.html").read_text()))
    config = write_config(tmp_path, site.url("/pricing"))
    config.write_text(config.read_text().replace("retries: 0}", "retries: 0, extract_workers: 1}"))
    assert once(config, capsys)["status"] == "first"
    assert once(config, capsys)["status"] == "unchanged"
    site.set("/pricing", NoisyPage((DATA / "pricing_v2.html").read_text()))
    changed = once(config, capsys)
    assert changed["status"] == "changed" and changed["change"]["category"] == "pricing"
