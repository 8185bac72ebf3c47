"""Benchmark: the responders' cost per change, against baselines measured in the same run.

    .venv/bin/python bench/responders.py [--changes 1000] [--posts 300]

Rendering (pure): for ``--changes`` synthetic graded changes with facts, evidence and
changed blocks, times render_alert (console and Slack), build_digest, render_digest_html and
stage_card_update, each as a ratio to the baseline ``json.dumps(dataclasses.asdict(cc))``
(what persisting the change to the outbox costs anyway).

Delivery: ``--posts`` alerts through SlackResponder (the real slack-sdk, Block Kit, retry
handler, a worker thread per call) to the loopback Slack-compatible server used by the tests,
against a bare ``urllib`` POST of the same JSON to the same server. Prints per-item times
and ratios; asserts nothing about speed, but checks every post was accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from slack_server import VALID_TOKEN, SlackServer  # noqa: E402

from monitor.config import SlackConfig  # noqa: E402
from monitor.records import (  # noqa: E402
    BlockChange,
    BlockKind,
    BlockOp,
    Category,
    Change,
    Classification,
    ClassifiedChange,
    FactChange,
    PageKind,
    Severity,
)
from responders.alerts import render_alert  # noqa: E402
from responders.battlecards import stage_card_update  # noqa: E402
from responders.digest import build_digest  # noqa: E402
from responders.digest_html import render_digest_html  # noqa: E402
from responders.slack import SlackResponder, build_slack_message  # noqa: E402

START = datetime(2026, 11, 22, 7, tzinfo=UTC)
CARD = (ROOT / "tests" / "data" / "battlecards" / "acme.md").read_text(encoding="utf-8")


def synthetic(n: int) -> list[ClassifiedChange]:
    out = []
    for i in range(n):
        severity = Severity(1 + i % 4)
        change = Change(
            url=f"https://c{i % 20}.example/pricing",
            competitor=f"Competitor {i % 20}",
            page_kind=PageKind.PRICING,
            before_id=i,
            after_id=i + 1,
            detected_at=START + timedelta(minutes=i),
            blocks=tuple(
                BlockChange(BlockOp.MODIFIED, BlockKind.PARAGRAPH, ("Pricing",), f"Plan {j} $49 <b>", f"Plan {j} $59")
                for j in range(4)
            ),
            facts=(FactChange("price", "Pro", "monthly", "$49", "$59"),),
        )
        grade = Classification(
            severity=severity,
            category=Category.PRICING,
            summary=f"Pro price rose at competitor {i % 20} [see](https://x.example) <!channel>",
            facts=("Pro monthly: $49 → $59",),
            evidence=("Pro $59 per seat / month",),
        )
        out.append(ClassifiedChange(i + 1, change, grade))
    return out


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_render(n: int) -> None:
    changes = synthetic(n)
    end = START + timedelta(days=1)
    base = timed(lambda: [json.dumps(dataclasses.asdict(cc), default=str) for cc in changes])
    # all changes on one card: the nightly staging of a busy competitor
    one_competitor = [replace(cc, change=replace(cc.change, competitor="Competitor 0")) for cc in changes]
    rows = [
        ("render_alert console", lambda: [render_alert(cc, channel="console") for cc in changes]),
        (
            "render_alert slack + blocks",
            lambda: [build_slack_message(render_alert(cc, channel="slack:#c")) for cc in changes],
        ),
        ("build_digest", lambda: build_digest(changes, start=START, end=end)),
        ("render_digest_html", lambda: render_digest_html(changes, start=START, end=end)),
        (
            "stage_card_update",
            lambda: stage_card_update(
                competitor="Competitor 0",
                card_path=Path("acme.md"),
                card_text=CARD,
                changes=one_competitor,
                min_severity=Severity.LOW,
            ),
        ),
    ]
    print(f"rendering, {n} changes; baseline json.dumps(asdict(cc)): {base / n * 1e6:.1f} µs/change")
    for name, fn in rows:
        t = timed(fn)
        print(f"  {name:<28} {t / n * 1e6:8.1f} µs/change  {t / base:6.2f}x baseline")


def bench_slack(posts: int) -> None:
    with SlackServer() as server:
        cc = synthetic(1)[0]
        alert = render_alert(cc, channel="slack:#competitors")
        payload = json.dumps({"channel": "#competitors", **build_slack_message(alert)}).encode()
        url = server.base_url + "chat.postMessage"
        headers = {"Authorization": f"Bearer {VALID_TOKEN}", "Content-Type": "application/json;charset=utf-8"}

        def bare() -> None:
            for _ in range(posts):
                with urllib.request.urlopen(urllib.request.Request(url, payload, headers)) as response:
                    response.read()

        cfg = SlackConfig(base_url=server.base_url)
        responder = SlackResponder.from_config(cfg, env={"SLACK_BOT_TOKEN": VALID_TOKEN})
        assert responder is not None

        async def via_responder() -> None:
            for _ in range(posts):
                await responder.deliver(alert)

        t_bare = timed(bare, repeat=1)
        t_resp = timed(lambda: asyncio.run(via_responder()), repeat=1)
        accepted = len(server.posted)
        assert accepted == 2 * posts, f"only {accepted} of {2 * posts} posts accepted"
    print(f"slack delivery, {posts} posts to the loopback server (all accepted)")
    print(f"  bare urllib POST            {t_bare / posts * 1e3:8.2f} ms/post")
    print(f"  SlackResponder.deliver      {t_resp / posts * 1e3:8.2f} ms/post  {t_resp / t_bare:6.2f}x bare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    bench_render(args.changes)
    bench_slack(args.posts)


if __name__ == "__main__":
    main()
