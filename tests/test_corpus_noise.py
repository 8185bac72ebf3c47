"""Over the competitor corpus, when it is present: repeat crawls hash the same, labelled steps diff right.

The corpus lives beside the project (../shared/corpus); without it these tests skip. They render
each static page's noise placeholders with serve.py's own substitution, as the served site would.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.diff import diff_snapshots
from monitor.extract import extract_page
from monitor.records import PageKind, Snapshot, Watch

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(not (CORPUS / "serve.py").exists(), reason=f"no corpus at {CORPUS}")


@pytest.fixture(scope="module")
def corpus():
    spec = importlib.util.spec_from_file_location("corpus_serve", CORPUS / "serve.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    served = module.Corpus(CORPUS, 11, 1)
    pages = {p.id: p for p in served.pages.values() if p.meta.get("render") == "static"}

    def render(pid: str, version: int):
        page = pages[pid]
        watch = Watch(
            competitor=pid.split("/")[0], url=f"http://corpus{page.url_path}", kind=PageKind(page.meta["kind"])
        )
        html = page.versions[version - 1].read_text(encoding="utf-8")
        return watch, extract_page(served.noise(html, page), watch)

    return pages, render


def test_repeat_crawls_hash_the_same(corpus) -> None:
    pages, render = corpus
    unstable = []
    for pid, page in sorted(pages.items()):
        for version in range(1, len(page.versions) + 1):
            _, first = render(pid, version)
            _, again = render(pid, version)
            if first.content_hash != again.content_hash:
                unstable.append(f"{pid} v{version}")
    assert unstable == []


def test_every_labelled_change_is_found(corpus) -> None:
    pages, render = corpus
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    missed, noisy, none_steps = [], [], 0
    for line in (CORPUS / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        if label["page"] not in pages:
            continue
        watch, before = render(label["page"], label["from"])
        _, after = render(label["page"], label["to"])
        change = diff_snapshots(
            watch, Snapshot(1, watch.url, t0, before), Snapshot(2, watch.url, t0 + timedelta(hours=1), after)
        )
        step = f"{label['page']} v{label['from']}→v{label['to']}"
        if label["severity"] == "none":
            none_steps += 1
            if change is not None:
                noisy.append(step)
        elif change is None:
            missed.append(step)
    assert missed == []
    # typo fixes are real (tiny) diffs that the classifier grades none; markup-only steps must not diff
    assert len(noisy) <= max(3, none_steps // 10), noisy
