"""noise_check.py for the corpus pages that only a browser sees (render: js), in real Chromium.

    .venv/bin/python bench/noise_check_browser.py [CORPUS_DIR] [--chromium PATH] [--port N]

Serves the corpus with its own serve.py on 127.0.0.1, steps its clock through every version,
loads each js page twice per version in headless Chromium (Playwright) and extracts the
rendered DOM: a differing content_hash is a would-be false alert. Then every labelled step of
those pages is diffed: severity none should find nothing, every other severity a change.
Fault steps are skipped (the fetcher reports them; they never reach extraction).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.diff import diff_snapshots  # noqa: E402
from monitor.extract import extract_page  # noqa: E402
from monitor.records import Page, PageKind, Snapshot, Watch  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def wait_until_up(base: str) -> None:
    for _ in range(200):
        try:
            with urllib.request.urlopen(base + "/__corpus/state", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    raise SystemExit("the corpus server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    root: Path = args.corpus
    if not (root / "serve.py").exists():
        print(f"no corpus at {root}")
        return 2
    from playwright.sync_api import sync_playwright

    metas = {
        f"{folder.parent.parent.name}/{folder.name}": (folder, json.loads((folder / "meta.json").read_text()))
        for folder in sorted(root.glob("competitors/*/pages/*"))
    }
    js_pages = {pid: v for pid, v in metas.items() if v[1]["render"] == "js"}
    base = f"http://127.0.0.1:{args.port}"
    command = [sys.executable, str(root / "serve.py"), str(root), "--port", str(args.port), "--seed", str(args.seed)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rendered: dict[tuple[str, int], tuple[Watch, list[Page]]] = {}
    try:
        wait_until_up(base)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium)
            tab = browser.new_page()
            top = max(len(list(folder.glob("v[0-9][0-9].html"))) for folder, _ in js_pages.values())
            for version in range(1, top + 1):
                request = urllib.request.Request(f"{base}/__corpus/step?to={version}", method="POST")
                urllib.request.urlopen(request).close()
                for pid, (folder, meta) in sorted(js_pages.items()):
                    if version > len(list(folder.glob("v[0-9][0-9].html"))) or str(version) in meta.get("faults", {}):
                        continue
                    url = f"{base}/{pid.split('/')[0]}{meta['path'].rstrip('/')}"
                    watch = Watch(competitor=pid.split("/")[0], url=url, kind=PageKind(meta["kind"]))
                    fetches = []
                    for _ in range(2):
                        tab.goto(url, wait_until="networkidle")
                        fetches.append(extract_page(tab.content(), watch))
                    rendered[(pid, version)] = (watch, fetches)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)

    unstable = [
        f"{pid} v{v}" for (pid, v), (_, pages) in rendered.items() if pages[0].content_hash != pages[1].content_hash
    ]
    for name in unstable:
        print(f"UNSTABLE {name}")
    print(f"repeat crawls: {len(unstable)} of {len(rendered)} rendered versions hash differently")
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    real = found = none_steps = none_alerts = 0
    for line in (root / "labels.jsonl").read_text().splitlines():
        label = json.loads(line)
        before, after = rendered.get((label["page"], label["from"])), rendered.get((label["page"], label["to"]))
        if before is None or after is None:
            continue
        watch = before[0]
        old = Snapshot(1, watch.url, t0, before[1][0])
        new = Snapshot(2, watch.url, t0 + timedelta(hours=1), after[1][1])
        change = diff_snapshots(watch, old, new)
        step = f"{label['page']} v{label['from']}→v{label['to']} [{label['severity']}]"
        if label["severity"] == "none":
            none_steps += 1
            if change is not None:
                none_alerts += 1
                print(f"NOISE {step}: {label['note'][:70]}")
        else:
            real += 1
            found += change is not None
            if change is None:
                print(f"MISSED {step}: {label['facts']}")
    print(f"recall of labelled changes: {found}/{real} = {found / max(real, 1):.1%}")
    share = none_alerts / max(none_steps, 1)
    print(f"steps labelled none that diff as a change: {none_alerts}/{none_steps} = {share:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
