"""Drive the real daemon over a served corpus: the shared engine of the corpus evaluations.

Starts the corpus's own ``serve.py`` on a free loopback port, writes a config that watches
every corpus page (``render: js`` pages through the browser), and for every step runs
``rivalwatch once --json`` twice: the first crawl sees the new version, the second sees the
same version with fresh noise. Returns one ``Observation`` per page and crawl.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CorpusPage:
    id: str  # competitor/page
    competitor: str
    url_path: str
    kind: str
    render: str
    versions: int
    faults: dict[int, str]


@dataclass(frozen=True)
class Label:
    page: str
    frm: int
    to: int
    severity: str
    category: str
    facts: tuple[str, ...]


@dataclass
class Observation:
    page: str
    step: int
    repeat: bool  # the second crawl of the same step
    version: int
    status: str
    error: dict | None
    change: dict | None
    covers: list[Label] = field(default_factory=list)  # labels since the last good crawl
    fault: str | None = None


def load_corpus(root: Path) -> tuple[list[CorpusPage], dict[tuple[str, int], Label]]:
    pages = []
    for competitor in sorted((root / "competitors").iterdir()):
        profile = json.loads((competitor / "profile.json").read_text())
        for folder in sorted((competitor / "pages").iterdir()):
            meta = json.loads((folder / "meta.json").read_text())
            pages.append(
                CorpusPage(
                    id=f"{competitor.name}/{folder.name}",
                    competitor=profile["name"],
                    url_path=f"/{competitor.name}{meta['path']}".rstrip("/") or "/",
                    kind=meta["kind"],
                    render=meta["render"],
                    versions=len(list(folder.glob("v[0-9][0-9].html"))),
                    faults={int(k): v for k, v in meta.get("faults", {}).items()},
                )
            )
    labels = {}
    for line in (root / "labels.jsonl").read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            labels[(d["page"], d["to"])] = Label(
                d["page"], d["from"], d["to"], d["severity"], d["category"], tuple(d["facts"])
            )
    return pages, labels


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, base: str, pages: list[CorpusPage], *, provider: str, extra: str = "") -> Path:
    company = folder / "company.md"
    lines = [
        f"company: {company}",
        f"storage: sqlite:///{folder / 'rivalwatch.db'}",
        f"output: {folder / 'out'}",
        "fetch: {timeout: 8, connect_timeout: 3, read_timeout: 6, retries: 1, per_host: 8, per_host_delay: 0}",
        "detect: {confirm_delay: 0.5, broken_after: 3}",
        f"classifier: {{provider: {provider}}}",
        "responders: {console: false}",
        "competitors:",
    ]
    by_competitor: dict[str, list[CorpusPage]] = {}
    for page in pages:
        by_competitor.setdefault(page.competitor, []).append(page)
    for name, group in by_competitor.items():
        lines.append(f"  - name: {json.dumps(name)}")
        lines.append("    pages:")
        for page in group:
            render = "browser" if page.render == "js" else "static"
            lines.append(f"      - {{url: {json.dumps(base + page.url_path)}, kind: {page.kind}, render: {render}}}")
    path = folder / "rivalwatch.yaml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def _post(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10).read()


def run_corpus(root: Path, *, provider: str = "rules", log=print) -> tuple[list[Observation], list[CorpusPage]]:  # type: ignore[no-untyped-def]
    pages, labels = load_corpus(root)
    steps = max(p.versions for p in pages) + 1  # one more step, so a fault on the last step is followed
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(root / "serve.py"), str(root), "--port", str(port), "--seed", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    observations: list[Observation] = []
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/__corpus/state", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        with tempfile.TemporaryDirectory(prefix="rivalwatch-corpus-") as tmp:
            profile = root / "company.md"
            (Path(tmp) / "company.md").write_text(profile.read_text() if profile.is_file() else "")
            config = write_config(Path(tmp), base, pages, provider=provider)
            last_good: dict[str, int] = {}
            env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
            exe = [sys.executable, "-m", "monitor.cli", "once", "--json", "--config", str(config)]
            for step in range(1, steps + 1):
                _post(f"{base}/__corpus/step?to={step}")
                for repeat in (False, True):
                    started = time.monotonic()
                    proc = subprocess.run(exe, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
                    if proc.returncode != 0:
                        raise RuntimeError(f"rivalwatch once failed at step {step}:\n{proc.stderr[-3000:]}")
                    results = {json.loads(line)["url"]: json.loads(line) for line in proc.stdout.splitlines() if line}
                    for page in pages:
                        r = results[base + page.url_path]
                        version = min(step, page.versions)
                        fault = page.faults.get(step)
                        covers = []
                        if r["status"] != "error" and page.id in last_good:
                            covers = [
                                labels[(page.id, v)]
                                for v in range(last_good[page.id] + 1, version + 1)
                                if (page.id, v) in labels
                            ]
                        if r["status"] != "error":
                            last_good[page.id] = version
                        observations.append(
                            Observation(
                                page.id,
                                step,
                                repeat,
                                version,
                                r["status"],
                                r["error"],
                                r["change"],
                                covers if not repeat else [],
                                fault,
                            )
                        )
                    log(
                        f"step {step}{' (repeat)' if repeat else ''}: {len(results)} pages in "
                        f"{time.monotonic() - started:.1f} s"
                    )
    finally:
        server.terminate()
        server.wait(timeout=10)
    return observations, pages
