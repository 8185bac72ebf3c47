"""The config that watches the demo site, and the files it points at.

``demo_config_text`` is pure: it returns the YAML (same schema as
``config/rivalwatch.example.yaml``) with every path absolute under ``out_dir``.
``write_demo_config`` also puts the company profile and the battle card there, because
battle-card proposals are staged beside the card and must never land inside the package.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from monitor.demo.site import DEMO_COMPETITOR, DEMO_PAGES

DEMO_DIR = Path(__file__).parent
PACKAGED_BATTLECARD = DEMO_DIR / "battlecard.md"
PACKAGED_COMPANY = DEMO_DIR / "company.md"
CONFIG_NAME = "rivalwatch.yaml"
BATTLECARD_NAME = "battlecards/northwind-metrics.md"
COMPANY_NAME = "company.md"


def _q(value: str) -> str:
    # a JSON string is a valid YAML double-quoted scalar, whatever the path contains
    return json.dumps(value)


def demo_config_text(base_url: str, out_dir: Path) -> str:
    """YAML config watching every demo page at ``base_url``; outputs and state go under ``out_dir``.

    The company profile and battle card it names must exist under ``out_dir`` for the config
    to load: ``write_demo_config`` copies them there.
    """
    out = Path(out_dir).resolve()
    base = base_url.rstrip("/")
    lines = [
        "# rivalwatch demo: watches the fictional competitor Northwind Metrics on loopback.",
        "# Written by `rivalwatch demo`; see config/rivalwatch.example.yaml for every key explained.",
        f"company: {_q(str(out / COMPANY_NAME))}",
        f"storage: {_q('sqlite:///' + str(out / 'rivalwatch.db'))}",
        f"output: {_q(str(out))}",
        "timezone: UTC",
        "defaults:",
        "  every: 1m",
        "  render: static",
        "fetch:",
        "  contact: https://github.com/rivalwatch/rivalwatch (demo)",
        "  timeout: 10",
        "  retries: 0",
        "  per_host: 4",
        "  per_host_delay: 0  # our own loopback site: no need to be gentle",
        "detect:",
        "  confirm_delay: 0.3  # the site is local: confirm a change almost at once",
        "classifier:",
        "  provider: rules",
        "responders:",
        "  console: true",
        "  alert_min_severity: medium",
        "  digest:",
        '    at: "07:00"',
        "    outputs: [file]",
        "  battlecards:",
        f"    dir: {_q(str(out / 'battlecards'))}",
        '    stage_at: "02:00"',
        "competitors:",
        f"  - name: {_q(DEMO_COMPETITOR)}",
        f"    battlecard: {_q(str(out / BATTLECARD_NAME))}",
        "    pages:",
    ]
    for page in DEMO_PAGES:
        lines += [
            f"      - url: {_q(base + page.path)}",
            f"        kind: {page.kind.value}",
            "        render: static",
            '        include: ["main"]',
            '        exclude: [".cookie-banner"]',
        ]
    return "\n".join(lines) + "\n"


def write_demo_config(base_url: str, *, out_dir: Path) -> Path:
    """Write the demo config, company profile and battle card under ``out_dir``; return the config path.

    The card and profile are fresh copies of the packaged ones, so each demo run starts from
    the same card.
    """
    out = Path(out_dir).resolve()
    (out / BATTLECARD_NAME).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PACKAGED_BATTLECARD, out / BATTLECARD_NAME)
    shutil.copyfile(PACKAGED_COMPANY, out / COMPANY_NAME)
    config_path = out / CONFIG_NAME
    config_path.write_text(demo_config_text(base_url, out), encoding="utf-8")
    return config_path
