"""The packaged demo site: a real HTTP server that serves each version, steps, and adds fresh noise."""

from __future__ import annotations

import random
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import lxml.html
import pytest
import yaml

from monitor.demo.site import (
    DEMO_PAGES,
    NOISE_KEYS,
    PLACEHOLDER,
    SITE_DIR,
    DemoSite,
    load_page_versions,
    render_noise,
    template_at,
)
from monitor.records import Snapshot

CASES = yaml.safe_load((Path(__file__).parent / "data" / "demo_site_cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def demo():
    with DemoSite(seed=1234) as site:
        yield site


@pytest.fixture
def client():
    with httpx.Client(timeout=5, trust_env=False) as http:
        yield http


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_serves_each_version(case: dict[str, Any], demo: DemoSite, client: httpx.Client) -> None:
    demo.step(case["version"])
    response = client.get(demo.url(case["path"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    for text in case["contains"]:
        assert text in response.text
    for text in case["lacks"]:
        assert text not in response.text


def test_steps_one_version_at_a_time_and_to_a_version(demo: DemoSite) -> None:
    assert demo.versions == 4
    assert demo.version == 1
    assert [demo.step() for _ in range(3)] == [2, 3, 4]
    with pytest.raises(ValueError, match="versions 1..4"):
        demo.step()
    assert demo.version == 4
    assert demo.step(1) == 1
    for bad in (0, 5):
        with pytest.raises(ValueError):
            demo.step(bad)
    assert demo.version == 1


def test_every_step_changes_some_page() -> None:
    templates = {p.name: load_page_versions(SITE_DIR, p) for p in DEMO_PAGES}
    for step in range(2, 5):
        changed = [n for n, v in templates.items() if template_at(v, step) != template_at(v, step - 1)]
        assert changed, f"nothing changes at step {step}"


def test_noise_varies_per_request(demo: DemoSite, client: httpx.Client) -> None:
    bodies = [client.get(demo.url("/pricing")).text for _ in range(8)]
    viewers = {re.search(r"(\d+) people are viewing", b).group(1) for b in bodies}
    quotes = {re.search(r"<blockquote>(.*?)</blockquote>", b).group(1) for b in bodies}
    nonces = {re.search(r'nonce="([0-9a-f]+)"', b).group(1) for b in bodies}
    assert len(viewers) > 1 and len(quotes) > 1 and len(nonces) == len(bodies)
    assert demo.hits("/pricing") == len(bodies)


def _as_pattern(template: str) -> re.Pattern[str]:
    """The template as a regex in which each placeholder matches any noise value."""
    parts = PLACEHOLDER.split(template)
    # split() alternates literal text and placeholder names
    return re.compile("".join(re.escape(p) if i % 2 == 0 else ".+?" for i, p in enumerate(parts)), re.S)


@pytest.mark.parametrize("page", DEMO_PAGES, ids=lambda p: p.name)
def test_a_response_is_its_template_plus_noise_only(page, demo: DemoSite, client: httpx.Client) -> None:
    # the noise must never touch the page's real content, or the demo would report it
    template = template_at(load_page_versions(SITE_DIR, page), demo.version)
    body = client.get(demo.url(page.path)).text
    assert "{{" not in body
    assert _as_pattern(template).fullmatch(body)


def test_templates_use_only_known_noise_and_are_realistic_sizes() -> None:
    for page in DEMO_PAGES:
        for version, template in load_page_versions(SITE_DIR, page).items():
            assert set(PLACEHOLDER.findall(template)) <= NOISE_KEYS, (page.name, version)
            assert 2_000 <= len(template.encode()) <= 8_000, (page.name, version)


def _main_text(html: str) -> str:
    return " ".join(lxml.html.fromstring(html).find(".//main").text_content().split())


def test_v2_home_is_markup_churn_only() -> None:
    home = next(p for p in DEMO_PAGES if p.name == "home")
    versions = load_page_versions(SITE_DIR, home)
    assert versions[1] != versions[2]
    assert _main_text(versions[1]) == _main_text(versions[2])


def test_render_noise_escapes_testimonials_and_keeps_unknown_placeholders() -> None:
    out = render_noise(
        "<q>{{TESTIMONIAL}}</q> {{YEAR}} {{SOMETHING}}",
        rng=random.Random(1),
        now=datetime(2026, 11, 23, tzinfo=UTC),
        testimonials=["<b>Ops & Co</b>"],
    )
    assert out == "<q>&lt;b&gt;Ops &amp; Co&lt;/b&gt;</q> 2026 {{SOMETHING}}"


def test_unknown_paths_head_and_robots(demo: DemoSite, client: httpx.Client) -> None:
    assert client.get(demo.url("/nope")).status_code == 404
    head = client.head(demo.url("/pricing?utm_source=demo"))
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 2_000
    robots = client.get(demo.url("/robots.txt"))
    assert robots.status_code == 200 and "Allow: /" in robots.text


def test_listens_on_loopback_on_an_ephemeral_port_and_stops(client: httpx.Client) -> None:
    with DemoSite() as first, DemoSite() as second:
        assert first.base_url.startswith("http://127.0.0.1:")
        assert first.base_url != second.base_url
        url = first.url("pricing")
        assert client.get(url).status_code == 200
    # the pooled keep-alive connection is ended too: the old client cannot be served any more
    with pytest.raises((httpx.ConnectError, httpx.RemoteProtocolError)):
        client.get(url)


def test_every_demo_data_file_is_in_the_package_data() -> None:
    # a file missing from package-data exists in the repo but not in an installed rivalwatch
    pyproject = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text("utf-8"))
    package = SITE_DIR.parent.parent  # monitor/
    packaged = {
        path
        for pattern in pyproject["tool"]["setuptools"]["package-data"]["monitor"]
        for path in package.glob(pattern)
        if path.is_file()
    }
    data_files = {path for path in SITE_DIR.parent.rglob("*") if path.is_file() and path.suffix not in (".py", ".pyc")}
    assert data_files - packaged == set()


STORY = yaml.safe_load((Path(__file__).parent / "data" / "demo_story.yaml").read_text(encoding="utf-8"))


def test_the_demo_story_is_detected_and_graded_as_told(tmp_path: Path, client: httpx.Client) -> None:
    # the demo promises: noise never reported, every step's changes found and graded as the story says
    from classifiers.rules import classify_by_rules
    from monitor.config import load_config
    from monitor.demo.config import write_demo_config
    from monitor.diff import diff_snapshots
    from monitor.extract import extract_page

    with DemoSite(seed=99) as site:
        config = load_config(write_demo_config(site.base_url, out_dir=tmp_path))
        watches = {w.url: w for w in config.watches()}
        ids = iter(range(1, 1000))

        def snapshot(path: str) -> Snapshot:
            url = site.url(path)
            page = extract_page(client.get(url).text, watches[url])
            return Snapshot(next(ids), url, datetime.now(UTC), page)

        last = {p.path: snapshot(p.path) for p in DEMO_PAGES}
        for step in STORY:
            site.step(step["version"])
            for page in DEMO_PAGES:
                url = site.url(page.path)
                first, again = snapshot(page.path), snapshot(page.path)
                assert first.page.content_hash == again.page.content_hash, f"noise changed {url}"
                change = diff_snapshots(watches[url], last[page.path], first)
                expected = step["pages"].get(page.path)
                where = f"v{step['version']} {page.path}"
                if expected is None:
                    assert change is None, f"{where}: noise reported as {change}"
                else:
                    assert change is not None, f"{where}: change missed"
                    grade = classify_by_rules(change)
                    assert grade.severity.label in expected["severity"], f"{where}: {grade}"
                    assert grade.category.value == expected["category"], f"{where}: {grade}"
                    if "fact" in expected:
                        assert any(expected["fact"] in f.describe() for f in change.facts), f"{where}: {change.facts}"
                last[page.path] = first
