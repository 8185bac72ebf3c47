"""`rivalwatch demo`: the whole loop on the packaged demo site, in well under a minute.

It serves the demo competitor on a loopback port, records a baseline, steps the site
through its versions with a crawl after each step (changes detected, graded, alerted),
stages the battle-card update, writes the digest, and says where every output is.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from monitor.app import App
from monitor.config import load_config
from monitor.demo.config import write_demo_config
from monitor.demo.site import DemoSite
from monitor.overnight import stage_cards, write_digest_file
from monitor.report import outcome_table


def _say(text: str = "") -> None:
    print(text, flush=True)


async def _demo(out_dir: Path, steps: int | None) -> int:
    started = time.monotonic()
    with DemoSite() as site:
        config_path = write_demo_config(site.base_url, out_dir=out_dir)
        config = load_config(config_path)
        app = App(config, confirm_delay=timedelta(seconds=0.3))
        try:
            last = site.versions if steps is None else min(site.versions, steps + 1)
            _say(f"Demo competitor site on {site.base_url} ({site.versions} versions); outputs in {out_dir}/")
            _say()
            _say("Step 1: first crawl, recording the baseline (nobody is alerted).")
            _say(outcome_table(await app.check_all()))
            for version in range(2, last + 1):
                site.step(version)
                _say()
                _say(f"Step {version}: the competitor published version {version}; crawling again.")
                _say(outcome_table(await app.check_all()))
            _say()
            _say("Crawling once more without any change: noise alone must not be reported.")
            again = await app.check_all()
            changed = [o for o in again if o.status == "changed"]
            _say(f"{len(again)} pages checked, {len(changed)} reported as changed.")
            proposals = stage_cards(config, app.store)
            digest = write_digest_file(config, app.store)
        finally:
            await app.aclose()
    _say()
    _say(f"Done in {time.monotonic() - started:.0f} s. Where everything is:")
    _say(f"  digest (for product marketing):   {digest}")
    for path in proposals:
        _say(f"  battle-card update for review:    {path}")
    _say(f"  alerts, one JSON line each:       {config.output_dir / 'alerts.jsonl'}")
    _say(f"  history database:                 {config.storage_url}")
    _say(f"  the demo's config:                {config_path}")
    _say()
    _say(f"Try: rivalwatch diff {site.url('/pricing')} --config {config_path}")
    return 0


def run_demo(*, out_dir: Path, steps: int | None = None) -> int:
    out_dir = out_dir.resolve()
    db = out_dir / "rivalwatch.db"
    if db.exists():  # a fresh demo each time: the baseline is the demo site's first version
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    return asyncio.run(_demo(out_dir, steps))
