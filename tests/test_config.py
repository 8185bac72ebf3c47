"""Every example config loads; every bad config is an error naming file, line, key and what is wrong."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel

from monitor.config import Config, load_config
from monitor.demo import DEMO_COMPETITOR, DEMO_PAGES, demo_config_text, write_demo_config
from monitor.errors import ConfigError
from monitor.records import Render

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
EXAMPLE = CONFIG_DIR / "rivalwatch.example.yaml"
CASES = yaml.safe_load((Path(__file__).parent / "data" / "config_cases.yaml").read_text(encoding="utf-8"))
CARD_SECTIONS = ("Overview", "Pricing", "Strengths", "Weaknesses", "How we win", "Landmines", "Recent changes")

# Keys the example may leave out, and why.
NOT_IN_EXAMPLE = {
    ("classifier", "model"): "the older spelling of classifier.models.triage; setting both is an error",
}


# --------------------------------------------------------------------------- bad configs


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_config_names_file_line_key_and_problem(case: dict[str, Any], tmp_path: Path) -> None:
    for name in case.get("files", []):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# card\n", encoding="utf-8")
    path = tmp_path / "rivalwatch.yaml"
    path.write_text(case["config"], encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    problems = caught.value.problems
    got = [(p.line, p.key) for p in problems]
    assert sorted(got, key=str) == sorted(((e["line"], e["key"]) for e in case["problems"]), key=str)
    for expected in case["problems"]:
        problem = next(p for p in problems if (p.line, p.key) == (expected["line"], expected["key"]))
        assert problem.file == path
        for fragment in expected["message"]:
            assert fragment in problem.message, f"{fragment!r} not in {problem.message!r}"
        # the one-line form ops see on the console
        assert f"{path}:{expected['line']}: " in str(caught.value)


def test_unreadable_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config"):
        load_config(tmp_path / "missing.yaml")


# --------------------------------------------------------------------------- the examples


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.example.yaml")), ids=lambda p: p.name)
def test_every_example_config_loads(path: Path) -> None:
    config = load_config(path)
    assert config.watches()


def test_example_config_watches_three_fictional_competitors() -> None:
    config = load_config(EXAMPLE)
    assert len(config.competitors) == 3
    for competitor in config.competitors:
        assert len(competitor.pages) >= 3, competitor.name
        assert competitor.battlecard and config.path(competitor.battlecard).is_file()
        for page in competitor.pages:
            assert re.fullmatch(r"https://[a-z0-9.-]+\.example/.*", page.url), page.url
    assert config.company and config.path(config.company).is_file()
    assert {w.render for w in config.watches()} == {Render.STATIC, Render.BROWSER}


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _model_keys(annotation: Any, path: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Every key the config schema has, list items as [] and free-form mapping keys as *."""
    annotation = _unwrap(annotation)
    out: set[tuple[str, ...]] = set()
    if _is_model(annotation):
        for name, field in annotation.model_fields.items():
            out.add((*path, name))
            out |= _model_keys(field.annotation, (*path, name))
    elif get_origin(annotation) is list:
        out |= _model_keys(get_args(annotation)[0], (*path, "[]"))
    elif get_origin(annotation) is dict:
        out |= _model_keys(get_args(annotation)[1], (*path, "*"))
    return out


def _used_keys(data: Any, annotation: Any, path: tuple[str, ...]) -> set[tuple[str, ...]]:
    annotation = _unwrap(annotation)
    out: set[tuple[str, ...]] = set()
    if _is_model(annotation) and isinstance(data, dict):
        for name, value in data.items():
            out.add((*path, name))
            field = annotation.model_fields.get(name)
            if field is not None:
                out |= _used_keys(value, field.annotation, (*path, name))
    elif get_origin(annotation) is list and isinstance(data, list):
        for item in data:
            out |= _used_keys(item, get_args(annotation)[0], (*path, "[]"))
    elif get_origin(annotation) is dict and isinstance(data, dict):
        for value in data.values():
            out |= _used_keys(value, get_args(annotation)[1], (*path, "*"))
    return out


def test_example_config_shows_every_key() -> None:
    # ops learn the config from the example: a key missing here is a key nobody finds
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    missing = _model_keys(Config, ()) - _used_keys(data, Config, ()) - set(NOT_IN_EXAMPLE)
    assert not missing, "keys not shown in config/rivalwatch.example.yaml: " + ", ".join(
        ".".join(p) for p in sorted(missing)
    )


@pytest.mark.parametrize("card", sorted((CONFIG_DIR / "battlecards").glob("*.md")), ids=lambda p: p.name)
def test_example_battle_cards_have_every_section(card: Path) -> None:
    headings = re.findall(r"^## (.+)$", card.read_text(encoding="utf-8"), flags=re.M)
    assert tuple(headings) == CARD_SECTIONS


def test_example_company_profile_covers_what_the_classifier_needs() -> None:
    text = (CONFIG_DIR / "company.example.md").read_text(encoding="utf-8")
    headings = [h.lower() for h in re.findall(r"^## (.+)$", text, flags=re.M)]
    for topic in ("product", "ideal customer profile", "pricing", "differentiators", "weaknesses", "guardrails"):
        assert any(topic in h for h in headings), topic


# --------------------------------------------------------------------------- the demo config


def test_demo_config_loads_and_watches_every_demo_page(tmp_path: Path) -> None:
    base = "http://127.0.0.1:8123"
    config_path = write_demo_config(base, out_dir=tmp_path / "demo")
    config = load_config(config_path)

    watches = config.watches()
    assert [(w.url, w.kind) for w in watches] == [(base + p.path, p.kind) for p in DEMO_PAGES]
    assert {w.competitor for w in watches} == {DEMO_COMPETITOR}
    assert {w.render for w in watches} == {Render.STATIC}
    out = (tmp_path / "demo").resolve()
    assert watches[0].battlecard is not None and watches[0].battlecard.is_file()
    assert watches[0].battlecard.is_relative_to(out)  # proposals are staged beside it, never in the package
    assert config.storage_url == f"sqlite:///{out / 'rivalwatch.db'}"
    assert config.output_dir == out
    headings = re.findall(r"^## (.+)$", watches[0].battlecard.read_text(encoding="utf-8"), flags=re.M)
    assert tuple(headings) == CARD_SECTIONS


def test_demo_config_text_names_the_files_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "rivalwatch.yaml"
    path.write_text(demo_config_text("http://127.0.0.1:8123/", tmp_path), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert {p.key for p in caught.value.problems} == {"company", "competitors[0].battlecard"}


def test_demo_config_survives_a_folder_with_quotes_and_spaces(tmp_path: Path) -> None:
    out = tmp_path / 'the "demo" #1: out'
    config = load_config(write_demo_config("http://127.0.0.1:9/", out_dir=out))
    assert config.output_dir == out.resolve()
