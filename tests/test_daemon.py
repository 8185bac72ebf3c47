"""The daemon as ops run it: a real process, real schedule, a bad config edit, SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def config_text(tmp_path: Path, urls: list[str], *, fetch: str = "") -> str:
    """A config crawling ``urls`` every second into ``tmp_path``/rw.db."""
    pages = "".join(f'      - {{url: "{url}", kind: pricing, every: 1s, robots: false}}\n' for url in urls)
    return f"""
storage: sqlite:///{tmp_path / "rw.db"}
output: {tmp_path / "out"}
fetch: {{per_host_delay: 0, retries: 0{fetch}}}
detect: {{confirm_delay: 0}}
responders: {{console: false}}
competitors:
  - name: Acme
    pages:
{pages}"""


@contextmanager
def daemon(config: Path, log: Path) -> Iterator[subprocess.Popen]:
    """``rivalwatch run`` as ops start it, stopped with SIGTERM when the block ends; its exit code
    is then ``returncode``."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run", "--config", str(config)], stderr=out, stdout=out, cwd=ROOT
        )
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def test_daemon_crawls_on_schedule_survives_bad_edit_and_stops_cleanly(site, tmp_path):
    html = (DATA / "pricing_v1.html").read_text().replace("{{", "").replace("}}", "")
    site.set("/pricing", Response(html))
    db = tmp_path / "rw.db"
    config = tmp_path / "rivalwatch.yaml"
    good = config_text(tmp_path, [site.url("/pricing")])
    config.write_text(good)
    with daemon(config, tmp_path / "daemon.log") as proc:
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
    text = (tmp_path / "daemon.log").read_text()
    assert proc.returncode == 0, text
    assert "colour" in text and "stopped" in text
    assert len(alerts.read_text().splitlines()) == 1  # alerted once, however many crawls followed


def worker_pids(pid: int) -> list[int]:
    """The daemon's live extraction workers (zombies have ended)."""
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:  # it ended meanwhile
                continue
            if b"monitor.workers" in cmdline and state != "Z":
                found.append(int(child))
    return found


def test_a_good_edit_swaps_the_config_and_its_workers_without_losing_the_crawl(site, tmp_path):
    html = (DATA / "pricing_v1.html").read_text().replace("{{", "").replace("}}", "")
    site.set("/pricing", Response(html))
    site.set("/plans", Response(html))
    db = tmp_path / "rw.db"
    config = tmp_path / "rivalwatch.yaml"
    config.write_text(config_text(tmp_path, [site.url("/pricing")], fetch=", extract_workers: 1"))
    with daemon(config, tmp_path / "daemon.log") as proc:
        poll(lambda: db.exists() and snapshot_count(db, site.url("/pricing")) == 1, what="the first page's baseline")
        hits_before = site.hits("/pricing")
        first_workers = worker_pids(proc.pid)
        assert len(first_workers) == 1

        site.set("/pricing", Response(html, delay=2.0))  # a check is always in flight when the reload comes
        poll(lambda: site.hits("/pricing") > hits_before, what="a slow check")
        urls = [site.url("/pricing"), site.url("/plans")]
        config.write_text(config_text(tmp_path, urls, fetch=", extract_workers: 1"))
        poll(lambda: snapshot_count(db, site.url("/plans")) == 1, what="the added page's baseline")
        # the old config's worker is stopped once its checks are done; the new config has its own
        poll(lambda: len(worker_pids(proc.pid)) == 1 and worker_pids(proc.pid) != first_workers, what="worker swap")
        hits = site.hits("/pricing")
        poll(lambda: site.hits("/pricing") > hits, what="crawls to go on after the reload")
        assert proc.poll() is None
    text = (tmp_path / "daemon.log").read_text()
    assert proc.returncode == 0, text
    assert "config reloaded: 2 pages" in text and "Traceback" not in text, text
    # the checks that were running on the old config finished on it: none failed for the swap
    assert error_checks(db, site.url("/pricing")) == [], text


def error_checks(db: Path, url: str) -> list[str]:
    store = Store.open(f"sqlite:///{db}")
    try:
        return [f"{c.error_kind}: {c.error_message}" for c in store.checks(url, limit=1000) if c.status == "error"]
    finally:
        store.close()
