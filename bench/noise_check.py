"""Noise and recall check over the corpus: would-be false alerts and missed changes.

    .venv/bin/python bench/noise_check.py [CORPUS_DIR] [--seed N] [--rounds N] [-v]

For every static page and version, the noise placeholders are rendered twice with different
random values (serve.py's own substitution) and both renderings extracted: a differing
content_hash is a would-be false alert on a repeat crawl. For every labelled step, the two
versions (each with fresh noise) are diffed: severity none should find nothing, every other
severity should find a change. Pages rendered by scripts need a browser and are skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.diff import diff_snapshots  # noqa: E402
from monitor.extract import block_key, extract_page  # noqa: E402
from monitor.records import PageKind, Snapshot, Watch  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def load_corpus(root: Path, seed: int):
    spec = importlib.util.spec_from_file_location("corpus_serve", root / "serve.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Corpus(root, seed, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="noise renderings compared per version")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if not (args.corpus / "serve.py").exists():
        print(f"no corpus at {args.corpus}")
        return 2
    corpus = load_corpus(args.corpus, args.seed)
    pages = {p.id: p for p in corpus.pages.values() if p.meta.get("render") == "static"}
    watches = {
        pid: Watch(competitor=pid.split("/")[0], url=f"http://corpus{p.url_path}", kind=PageKind(p.meta["kind"]))
        for pid, p in pages.items()
    }

    def render(pid: str, version: int):
        page = pages[pid]
        html = page.versions[version - 1].read_text(encoding="utf-8")
        return extract_page(corpus.noise(html, page), watches[pid])

    versions = unstable = 0
    for pid, page in sorted(pages.items()):
        for v in range(1, len(page.versions) + 1):
            versions += 1
            first = render(pid, v)
            for _ in range(args.rounds):
                again = render(pid, v)
                if again.content_hash != first.content_hash:
                    unstable += 1
                    a = {block_key(b) for b in first.blocks}
                    b = {block_key(b) for b in again.blocks}
                    print(f"UNSTABLE {pid} v{v:02d}: -{sorted(a - b)[:3]} +{sorted(b - a)[:3]}")
                    break
    print(f"repeat crawls: {unstable} of {versions} static versions hash differently (would-be false alerts)")

    labels = [json.loads(line) for line in (args.corpus / "labels.jsonl").read_text().splitlines() if line.strip()]
    now = datetime(2026, 3, 1, tzinfo=UTC)
    found = {"real": 0, "real_total": 0, "none_alerts": 0, "none_total": 0}
    for label in labels:
        pid = label["page"]
        if pid not in pages:
            continue
        before = Snapshot(1, watches[pid].url, now, render(pid, label["from"]))
        after = Snapshot(2, watches[pid].url, now + timedelta(hours=1), render(pid, label["to"]))
        change = diff_snapshots(watches[pid], before, after)
        step = f"{pid} v{label['from']}→v{label['to']} [{label['severity']}]"
        if label["severity"] == "none":
            found["none_total"] += 1
            if change is not None:
                found["none_alerts"] += 1
                print(f"NOISE {step}: {len(change.blocks)} blocks, {len(change.facts)} facts; {label['note'][:70]}")
                if args.verbose:
                    for c in change.blocks[:6]:
                        print(f"    {c.op.value}: {c.before!r} -> {c.after!r}")
        else:
            found["real_total"] += 1
            if change is not None:
                found["real"] += 1
                if args.verbose:
                    print(f"found {step}: {[f.describe() for f in change.facts][:4]}")
            else:
                print(f"MISSED {step}: {label['facts']}")
    real, none = found["real_total"], found["none_total"]
    print(f"recall of labelled changes: {found['real']}/{real} = {found['real'] / max(real, 1):.1%}")
    print(
        f"steps labelled none that diff as a change: {found['none_alerts']}/{none} = "
        f"{found['none_alerts'] / max(none, 1):.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
