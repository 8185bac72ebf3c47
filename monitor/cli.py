"""The `rivalwatch` command line.

rivalwatch demo                         the whole loop on a packaged demo site, in a minute
rivalwatch validate [--config FILE]     check a config; exit 2 naming file, line and key
rivalwatch once [--config FILE] [--json]   crawl every page once through the pipeline
rivalwatch run [--config FILE]          the daemon
rivalwatch status | history URL | diff URL | noise URL
rivalwatch digest [--hours 24]          write the digest of the last hours now
rivalwatch stage-cards                  stage battle-card updates now
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.config import Config, default_config_path, load_config
from monitor.errors import ConfigError, RivalwatchError

if TYPE_CHECKING:
    from monitor.store import Store

EXIT_OK, EXIT_ERROR, EXIT_CONFIG = 0, 1, 2


def _config(args: argparse.Namespace) -> Config:
    return load_config(Path(args.config) if args.config else default_config_path())


def cmd_validate(args: argparse.Namespace) -> int:
    config = _config(args)
    watches = config.watches()
    print(f"ok: {len(config.competitors)} competitors, {len(watches)} pages")
    return EXIT_OK


def cmd_once(args: argparse.Namespace) -> int:
    from monitor.app import App
    from monitor.report import outcome_table

    config = _config(args)

    async def run() -> list:
        app = App(config, quiet=args.json)
        try:
            return await app.check_all()
        finally:
            await app.aclose()

    outcomes = asyncio.run(run())
    if args.json:
        for outcome in outcomes:
            print(json.dumps(outcome.to_json(), ensure_ascii=False), flush=True)
    else:
        print(outcome_table(outcomes))
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.daemon import run_daemon

    path = Path(args.config) if args.config else default_config_path()
    load_config(path)  # refuse to start on a bad config; later bad edits are reported and skipped
    return run_daemon(path)


@contextmanager
def _store(args: argparse.Namespace) -> Iterator[tuple[Config, Store]]:
    """The config and its store, closed when the command is done."""
    from monitor.store import Store

    config = _config(args)
    store = Store.open(config.storage_url)
    try:
        yield config, store
    finally:
        store.close()


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.report import health_table

    with _store(args) as (_, store):
        print(health_table(store.health()))
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from monitor.report import history_text

    with _store(args) as (_, store):
        health = next((h for h in store.health() if h.url == args.url), None)
        print(history_text(args.url, store.snapshots(args.url), store.checks(args.url, limit=args.limit), health))
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from monitor.report import change_text

    with _store(args) as (_, store):
        cc = store.last_change(args.url)
    if cc is None:
        print(f"no change recorded yet for {args.url}")
        return EXIT_OK
    print(change_text(cc))
    return EXIT_OK


def cmd_noise(args: argparse.Namespace) -> int:
    from monitor.report import noise_text

    with _store(args) as (config, store):
        watch = next((w for w in config.watches() if w.url == args.url), None)
        print(noise_text(args.url, watch, store.volatile_rows(args.url)))
    return EXIT_OK


def cmd_digest(args: argparse.Namespace) -> int:
    from monitor.overnight import write_digest_now

    path = asyncio.run(write_digest_now(_config(args), hours=args.hours))
    print(f"digest written: {path}")
    return EXIT_OK


def cmd_stage_cards(args: argparse.Namespace) -> int:
    from monitor.overnight import stage_cards_now

    paths = asyncio.run(stage_cards_now(_config(args)))
    for path in paths:
        print(f"battle-card update staged for review: {path}")
    if not paths:
        print("no battle-card updates to stage")
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    from monitor.overnight import review_cards

    reports = review_cards(_config(args))
    print("\n\n".join(reports) if reports else "no battle-card proposals waiting for review")
    return EXIT_OK


def cmd_costs(args: argparse.Namespace) -> int:
    from monitor.config import parse_duration
    from monitor.llm_ledger import costs_report, format_costs
    from monitor.store import utcnow

    with _store(args) as (_, store):
        print(format_costs(costs_report(store.engine, since=utcnow() - parse_duration(args.since))), end="")
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from monitor.config import parse_duration
    from monitor.replay import replay, replay_text, with_provider

    config = with_provider(_config(args), args.provider)
    print(replay_text(asyncio.run(replay(config, since=parse_duration(args.since)))))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo.run import run_demo

    return run_demo(out_dir=Path(args.out), steps=args.steps)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rivalwatch", description="Watch competitors' pages; grade and report changes."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func, help_: str) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--config", help="config file (default: rivalwatch.yaml or $RIVALWATCH_CONFIG)")
        p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log more")
        p.set_defaults(func=func)
        return p

    add("validate", cmd_validate, "check a config file")
    add("once", cmd_once, "crawl every page once through the whole pipeline").add_argument(
        "--json", action="store_true", help="one JSON object per page on stdout"
    )
    add("run", cmd_run, "run the daemon: scheduled crawls, overnight battle cards, morning digest")
    add("status", cmd_status, "page health: last success, last error, error streak")
    p = add("history", cmd_history, "a page's snapshots and checks")
    p.add_argument("url")
    p.add_argument("--limit", type=int, default=20)
    add("diff", cmd_diff, "a page's last change as a readable diff").add_argument("url")
    add("noise", cmd_noise, "what is treated as noise on a page, and why").add_argument("url")
    add("digest", cmd_digest, "write the digest now").add_argument("--hours", type=int, default=24)
    add("stage-cards", cmd_stage_cards, "stage battle-card updates now")
    add("costs", cmd_costs, "LLM spend by day, competitor and model").add_argument(
        "--since", default="30d", help="how far back (e.g. 7d, 30d)"
    )
    p = add("replay", cmd_replay, "grade stored changes again with the current classifier; alerts nobody")
    p.add_argument("--since", default="30d", help="how far back (e.g. 7d, 30d)")
    p.add_argument("--provider", choices=["rules", "openai"], help="override classifier.provider")
    add("review", cmd_review, "merge the approved and edited edits of reviewed battle-card proposals into the cards")
    p = sub.add_parser("demo", help="the whole loop on a packaged demo site")
    p.add_argument("--out", default="rivalwatch-demo", help="folder for the demo's outputs")
    p.add_argument("--steps", type=int, default=None, help="how many version steps to show")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"config error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    except RivalwatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `rivalwatch history URL | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
