"""Extraction + diff cost on ~150 KB pages, beside lxml alone parsing the same pages.

    .venv/bin/python bench/extract.py [CORPUS_DIR] [--rounds N] [--size KB] [--crawl-pages]

Pages are the corpus's static pages with noise rendered (padded by repeating their main
content up to --size when smaller); without a corpus, pages are generated. Each sample is
one pipeline step: extract_page of the new version plus diff_snapshots against the stored
previous version. Times are CPU time of this process (time.process_time), so figures stay
comparable on a shared, loaded machine; the lxml baseline is measured in the same run and
the ratio is what to compare across machines.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor import _native  # noqa: E402
from monitor.diff import diff_snapshots  # noqa: E402
from monitor.extract import extract_page  # noqa: E402
from monitor.normalize import _default_key, _key_with, find_dates, strip_noise  # noqa: E402


def clear_caches() -> None:
    for cached in (_default_key, _key_with, find_dates, strip_noise):
        cached.cache_clear()


from monitor.records import PageKind, Snapshot, Watch  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
MAIN = re.compile(r"(<main\b[^>]*>)(.*?)(</main>)", re.S | re.I)


def pad(html: str, size: int) -> str:
    """Repeat the page's main content until the page is about ``size`` bytes."""
    match = MAIN.search(html)
    if not match or len(html) >= size:
        return html
    inner = match.group(2)
    copies = max(1, (size - len(html)) // max(len(inner), 1) + 1)
    return html[: match.end(1)] + inner * (copies + 1) + html[match.start(3) :]


def corpus_pairs(root: Path, size: int, seed: int) -> list[tuple[str, str, str, str]]:
    """(page id, kind, before html, after html) for every labelled step of a static page."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("corpus_serve", root / "serve.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    corpus = module.Corpus(root, seed, 1)
    pages = {p.id: p for p in corpus.pages.values() if p.meta.get("render") == "static"}
    pairs = []
    for line in (root / "labels.jsonl").read_text().splitlines():
        label = json.loads(line)
        page = pages.get(label["page"])
        if page is None:
            continue
        before, after = (
            pad(corpus.noise(page.versions[v - 1].read_text(encoding="utf-8"), page), size)
            for v in (label["from"], label["to"])
        )
        pairs.append((page.id, page.meta["kind"], before, after))
    return pairs


def generated_pairs(size: int, seed: int, count: int = 24) -> list[tuple[str, str, str, str]]:
    rng = random.Random()
    words = "analytics team plan price seat event funnel retention report dashboard export secure fast".split()

    def page(version: int) -> str:
        rng.seed(seed)  # both versions get the same text except the one changed line
        parts = ["<html><head><title>Generated</title><style>p{margin:0}</style></head><body><main>"]
        n = 0
        while sum(map(len, parts)) < size:
            parts.append(f"<section><h2>Section {n}</h2>")
            for k in range(8):
                text = " ".join(rng.choice(words) for _ in range(18))
                parts.append(f"<div class='card c{k}'><p>{text}</p><ul><li>{k} item</li><li>$49</li></ul></div>")
            parts.append(f"<p>Version {version if n == 3 else 1}</p></section>")
            n += 1
        return "".join(parts) + "</main></body></html>"

    pairs = []
    for i in range(count):
        seed += 1
        pairs.append((f"generated/{i}", "other", page(1), page(2)))
    return pairs


def crawl_pairs(size: int, count: int = 24) -> list[tuple[str, str, str, str]]:
    """bench/crawl.py's served pages (its page() function), before and after a counter tick."""
    from crawl import SERVER  # bench/ is on sys.path when this script runs

    namespace: dict = {}
    exec(SERVER.split("size = int")[0], namespace)  # the page generator, not the server
    pages = [namespace["page"](i, size) for i in range(count)]
    return [
        (f"crawl/{i}", "product", p.replace("{COUNTER}", "100"), p.replace("{COUNTER}", "101"))
        for i, p in enumerate(pages)
    ]


def cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=150, help="target page size in KB")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--crawl-pages", action="store_true", help="bench/crawl.py's generated pages (--size 60 for its default)"
    )
    parser.add_argument(
        "--warm", action="store_true", help="keep normalisation caches between pages (a daemon's steady state)"
    )
    args = parser.parse_args()
    size = args.size * 1000
    if args.crawl_pages:
        pairs, source = crawl_pairs(size), "bench/crawl.py pages"
    elif (args.corpus / "serve.py").exists():
        pairs, source = corpus_pairs(args.corpus, size, args.seed), f"corpus {args.corpus}"
    else:
        pairs, source = generated_pairs(size, args.seed), "generated pages"
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    pipeline: list[float] = []
    extract_only: list[float] = []
    diff_only: list[float] = []
    parse_only: list[float] = []
    total_bytes = 0
    for _ in range(args.rounds):
        for pid, kind, before_html, after_html in pairs:
            watch = Watch(competitor=pid.split("/")[0], url=f"http://corpus/{pid}", kind=PageKind(kind))
            before = Snapshot(1, watch.url, t0, extract_page(before_html, watch))
            parse_only.append(cpu(lambda html=after_html: lxml.html.document_fromstring(html)))
            if not args.warm:  # a daemon watching thousands of pages rarely finds a text in its caches
                clear_caches()
            start = time.process_time()
            page = extract_page(after_html, watch)
            extract_only.append(time.process_time() - start)
            after = Snapshot(2, watch.url, t0 + timedelta(hours=1), page)
            diff_only.append(cpu(lambda w=watch, b=before, a=after: diff_snapshots(w, b, a)))
            pipeline.append(extract_only[-1] + diff_only[-1])
            total_bytes += len(after_html.encode())

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, int(len(values) * 0.95) - 1)]

    mean_kb = total_bytes / len(pipeline) / 1000
    caches = "warm" if args.warm else "cold"
    print(f"{len(pairs)} page steps × {args.rounds} rounds from {source}; mean page {mean_kb:.0f} KB;")
    print(f"CPU time (process_time), {caches} normalisation caches; parser {_native.mode()}")
    for name, values in (
        ("extract_page + diff_snapshots", pipeline),
        ("  extract_page", extract_only),
        ("  diff_snapshots", diff_only),
        ("lxml.html parse alone", parse_only),
    ):
        mbps = total_bytes / sum(values) / 1e6 if sum(values) else float("inf")
        print(
            f"{name:32s} median {statistics.median(values) * 1000:7.2f} ms   p95 {p95(values) * 1000:7.2f} ms"
            f"   {mbps:6.1f} MB/s"
        )
    ratio = statistics.median(pipeline) / statistics.median(parse_only)
    print(f"ratio (extract+diff) / (lxml parse), medians: {ratio:.1f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
