"""The daemon as ops run it: a real process, real schedule, a bad config edit, SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from loopback import Response

from monitor.store import Store

DATA = Path(__file__).parent / "data" / "e2e"
ROOT = Path(__file__).resolve().parent.parent


def poll(predicate, *, timeout: float = 120.0, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def snapshot_count(db: Path, url: str) -> int:
    store = Store.open(f"sqlite:///{db}")
    try:
        return len(store.snapshots(url))
    finally:
        store.close()


def test_daemon_crawls_on_schedule_survives_bad_edit_and_stops_cleanly(site, tmp_path):
    html = (DATA / "pricing_v1.html").read_text().replace("{{", "").replace("}}", "")
    site.set("/pricing", Response(html))
    db = tmp_path / "rw.db"
    config = tmp_path / "rivalwatch.yaml"
    good = f"""
storage: sqlite:///{db}
output: {tmp_path / "out"}
fetch: {{per_host_delay: 0, retries: 0}}
detect: {{confirm_delay: 0}}
responders: {{console: false}}
competitors:
  - name: Acme
    pages:
      - {{url: "{site.url("/pricing")}", kind: pricing, every: 1s, robots: false}}
"""
    config.write_text(good)
    log = (tmp_path / "daemon.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
        stderr=log,
        stdout=log,
        cwd=ROOT,
    )
    try:
        poll(lambda: db.exists() and snapshot_count(db, site.url("/pricing")) == 1, what="the baseline snapshot")
        site.set("/pricing", Response(html.replace("$49 per seat", "$59 per seat")))
        alerts = tmp_path / "out" / "alerts.jsonl"
        poll(lambda: alerts.exists() and alerts.read_text().strip(), what="the price alert")
        assert json.loads(alerts.read_text().splitlines()[0])["severity"] in ("high", "critical")

        config.write_text(good.replace("every: 1s", "every: 1s, colour: blue"))
        poll(
            lambda: "running on the last good one" in (tmp_path / "daemon.log").read_text(),
            what="reload error",
        )
        hits = site.hits("/pricing")
        poll(lambda: site.hits("/pricing") > hits, what="crawls to go on after the bad edit")
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        log.close()
    text = (tmp_path / "daemon.log").read_text()
    assert code == 0, text
    assert "colour" in text and "stopped" in text
    assert len(alerts.read_text().splitlines()) == 1  # alerted once, however many crawls followed
