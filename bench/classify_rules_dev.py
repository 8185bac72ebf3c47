"""Development harness for the rules classifier over the corpus's static (and, with --js, JS) pages.

For every labelled version step of a page served as static HTML, it renders both versions
with the corpus's own noise (serve.py's placeholders and shuffles, seeded), extracts them with
``monitor.extract.extract_page``, diffs them with ``monitor.diff.diff_snapshots``, grades the
change with ``classify_by_rules`` and compares with the label. It prints the severity
confusion matrix, exact and within-one accuracy, critical recall and category accuracy.

    .venv/bin/python bench/classify_rules_dev.py [--corpus ../shared/corpus] [--misses] [--seed 7] [--js]

With --js, the corpus is served on 127.0.0.1 (its own serve.py, faults off) and the JS pages
are rendered by the project's BrowserFetcher (real Chromium) before extraction.

Fast iteration only: the official evaluation drives the real daemon over the served corpus,
JS pages included (bench/classify_eval.py).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifiers.rules import classify_by_rules  # noqa: E402
from monitor.diff import diff_snapshots  # noqa: E402
from monitor.extract import extract_page  # noqa: E402
from monitor.records import Category, PageKind, Render, Severity, Snapshot, Watch  # noqa: E402

LEVELS = [s.label for s in sorted(Severity, reverse=True)]


def load_server(corpus: Path):
    """The corpus's own serve.py, for the exact noise the daemon would see."""
    spec = importlib.util.spec_from_file_location("corpus_serve", corpus / "serve.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def steps(corpus: Path):
    for line in (corpus / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def page_of(label: dict, corpus: Path) -> tuple[Path, dict]:
    competitor, page_name = label["page"].split("/", 1)
    folder = corpus / "competitors" / competitor / "pages" / page_name
    return folder, json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def watch_for(label: dict, *, corpus: Path, server, origin: str) -> Watch:
    competitor = label["page"].split("/", 1)[0]
    folder, meta = page_of(label, corpus)
    profile = json.loads((corpus / "competitors" / competitor / "profile.json").read_text(encoding="utf-8"))
    return Watch(
        competitor=profile.get("name", competitor),
        url=origin + server.Page(competitor, folder).url_path,
        kind=PageKind(meta["kind"]),
        render=Render.STATIC if meta["render"] == "static" else Render.BROWSER,
        respect_robots=False,
    )


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # the browser drops idle keep-alives
        pass


async def render_js_pages(labels: list[dict], *, corpus: Path, server, seed: int) -> dict[tuple[str, int], str]:
    """Each JS page version as real Chromium renders it, from the corpus served on loopback."""
    from monitor.config import FetchConfig
    from monitor.fetch.browser import BrowserFetcher

    served = server.Corpus(corpus, seed=seed, step=1)
    for page in served.pages.values():
        page.meta["faults"] = {}  # faults are the fetchers' business, not the classifier's
    httpd = _QuietServer(("127.0.0.1", 0), server.make_handler(served))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    rendered: dict[tuple[str, int], str] = {}
    try:
        async with BrowserFetcher.from_config(FetchConfig(per_host_delay=0, retries=0)) as fetcher:
            for label in labels:
                watch = watch_for(label, corpus=corpus, server=server, origin=origin)
                for version in (label["from"], label["to"]):
                    if (label["page"], version) in rendered:
                        continue
                    served.step = version
                    result = await fetcher.fetch(watch)
                    if not result.ok or result.text is None:
                        sys.exit(f"rendering {label['page']} v{version} failed: {result.error}")
                    rendered[(label["page"], version)] = result.text
    finally:
        httpd.shutdown()
        httpd.server_close()
    return rendered


def grade_step(label: dict, *, corpus: Path, server, noise, company: str, base: datetime, rendered: dict):
    folder, meta = page_of(label, corpus)
    if meta["render"] != "static" and (label["page"], label["from"]) not in rendered:
        return None
    watch = watch_for(label, corpus=corpus, server=server, origin="http://127.0.0.1")
    page = server.Page(label["page"].split("/", 1)[0], folder)
    snaps = []
    extract_seconds = 0.0
    for n, version in enumerate((label["from"], label["to"])):
        html = rendered.get((label["page"], version))
        if html is None:
            html = noise(folder.joinpath(f"v{version:02d}.html").read_text(encoding="utf-8"), page)
        started = time.perf_counter()
        extracted = extract_page(html, watch)
        extract_seconds += time.perf_counter() - started
        snaps.append(Snapshot(id=version, url=watch.url, taken_at=base + timedelta(hours=n), page=extracted))
    change = diff_snapshots(watch, snaps[0], snaps[1])
    started = time.perf_counter()
    if change is None:
        grade_severity, grade_category, summary = Severity.NONE, Category.NONE, "(diff: unchanged)"
    else:
        grade = classify_by_rules(change, company=company)
        grade_severity, grade_category, summary = grade.severity, grade.category, grade.summary
    elapsed = (time.perf_counter() - started, extract_seconds / 2)
    return grade_severity, grade_category, summary, elapsed, change


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--misses", action="store_true", help="print every step graded wrong")
    parser.add_argument("--blocks", action="store_true", help="with --misses, print the change's blocks")
    parser.add_argument("--no-company", action="store_true", help="grade without our company profile")
    parser.add_argument("--js", action="store_true", help="also grade JS pages, rendered by real Chromium")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if not (corpus / "labels.jsonl").is_file():
        sys.exit(f"no corpus at {corpus} (pass --corpus)")
    server = load_server(corpus)
    noisy = server.Corpus(corpus, seed=args.seed, step=1)
    company_file = corpus / "company.md"
    company = company_file.read_text(encoding="utf-8") if company_file.is_file() and not args.no_company else ""
    base = datetime(2026, 3, 1, tzinfo=UTC)

    confusion: Counter[tuple[str, str]] = Counter()
    exact = within = cat_ok = total = crit = crit_hit = 0
    timings: list[tuple[float, float]] = []
    labels = list(steps(corpus))
    rendered: dict[tuple[str, int], str] = {}
    if args.js:
        js_labels = [lb for lb in labels if page_of(lb, corpus)[1]["render"] != "static"]
        rendered = asyncio.run(render_js_pages(js_labels, corpus=corpus, server=server, seed=args.seed))
    for label in labels:
        result = grade_step(
            label, corpus=corpus, server=server, noise=noisy.noise, company=company, base=base, rendered=rendered
        )
        if result is None:
            continue
        severity, category, summary, elapsed, change = result
        want = Severity.parse(label["severity"])
        total += 1
        timings.append(elapsed)
        confusion[(want.label, severity.label)] += 1
        exact += severity == want
        within += abs(int(severity) - int(want)) <= 1
        cat_ok += category.value == label["category"]
        if want is Severity.CRITICAL:
            crit += 1
            crit_hit += severity is Severity.CRITICAL
        wrong = severity != want or category.value != label["category"]
        if args.misses and wrong:
            print(
                f"- {label['page']} {label['from']}->{label['to']}: want {want.label}/{label['category']}, "
                f"got {severity.label}/{category.value}\n    {summary[:220]}\n    label: {label['facts'][:1]}"
            )
            if args.blocks and change is not None:
                for b in change.blocks[:14]:
                    print(
                        f"      {b.op.value:8} {b.kind.value:9} {' > '.join(b.path)[:40]!r:42} "
                        f"{(b.before or '')[:60]!r} -> {(b.after or '')[:60]!r}"
                    )
                for f in change.facts[:8]:
                    print(f"      fact {f.describe()[:120]}")

    if not total:
        sys.exit("no static steps found")
    profile = "none" if not company else "company.md"
    kinds = "static and JS" if args.js else "static"
    print(f"\n{kinds} steps graded: {total}   (corpus {corpus}, noise seed {args.seed}, profile {profile})\n")
    print("severity confusion (rows: label, columns: rules)")
    print(" " * 10 + "".join(f"{lvl:>10}" for lvl in LEVELS))
    for want in LEVELS:
        print(f"{want:>10}" + "".join(f"{confusion[(want, got)]:>10}" for got in LEVELS))
    print()
    print(f"exact severity     {exact / total:7.1%}   ({exact}/{total})   target >= 75%")
    print(f"within one level   {within / total:7.1%}   ({within}/{total})   target >= 95%")
    print(f"critical recall    {crit_hit / max(crit, 1):7.1%}   ({crit_hit}/{crit})   target 100%")
    print(f"category right     {cat_ok / total:7.1%}   ({cat_ok}/{total})   target >= 80%")
    # baseline measured in the same run: extracting one version of the same page
    classify_ms = sorted(t[0] * 1e3 for t in timings)
    extract_ms = sorted(t[1] * 1e3 for t in timings)
    mid = len(timings) // 2
    print(
        f"classify per changed step: median {classify_ms[mid]:.2f} ms, max {classify_ms[-1]:.2f} ms; "
        f"extract one version: median {extract_ms[mid]:.2f} ms; "
        f"ratio classify/extract (medians) {classify_ms[mid] / extract_ms[mid]:.2f}"
    )


if __name__ == "__main__":
    main()
