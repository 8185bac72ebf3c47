"""The watched-competitor config: YAML that ops own, checked by Pydantic at the edge.

``load_config(path)`` returns a ``Config`` (Pydantic, with resolved paths) or raises
``ConfigError`` listing every problem with its file, line and key. ``Config.watches()``
turns it into the immutable ``Watch`` records the pipeline runs on. Unknown keys are errors
that name the valid ones; nothing is silently ignored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlsplit

import yaml
from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from monitor.config_sections import (  # noqa: F401 - the config's models are part of this module's API
    ActionConfig,
    BattlecardsConfig,
    BudgetConfig,
    ClassifierConfig,
    CompetitorConfig,
    DefaultsConfig,
    DetectConfig,
    DigestConfig,
    FetchConfig,
    FileAlertsConfig,
    ModelsConfig,
    NoiseConfig,
    NormalizeConfig,
    PageConfig,
    PriceConfig,
    RespondersConfig,
    SlackConfig,
    SlackRoute,
    _Strict,
)
from monitor.errors import ConfigError, ConfigProblem
from monitor.records import BrowserAction, NormalizeOptions, Watch
from monitor.schedule import parse_duration, parse_schedule  # noqa: F401

DEFAULT_CONFIG_NAME = "rivalwatch.yaml"


class _Repeat(TypedDict):
    """A page listed twice: its URL and both (competitor, page) indexes (read by config_errors)."""

    url: str
    first: tuple[int, int]
    again: tuple[int, int]


class Config(_Strict):
    """The whole file. Paths are resolved against the file's folder by ``load_config``."""

    company: str | None = None
    storage: str = "sqlite:///rivalwatch.db"
    output: str = "rivalwatch-out"
    timezone: str = "UTC"
    defaults: DefaultsConfig = DefaultsConfig()
    fetch: FetchConfig = FetchConfig()
    detect: DetectConfig = DetectConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    responders: RespondersConfig = RespondersConfig()
    competitors: list[CompetitorConfig] = Field(min_length=1)

    _base_dir: Path = PrivateAttr(default=Path("."))

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from None
        return value

    @model_validator(mode="after")
    def _unique_urls(self) -> Config:
        # each repeat is reported at its own line by config_errors, which reads ctx["repeats"]
        first: dict[str, tuple[int, int]] = {}
        repeats: list[_Repeat] = []
        for c, competitor in enumerate(self.competitors):
            for p, page in enumerate(competitor.pages):
                key = same_page_key(page.url)
                if key in first:
                    repeats.append({"url": page.url, "first": first[key], "again": (c, p)})
                else:
                    first[key] = (c, p)
        if repeats:
            urls = ", ".join(r["url"] for r in repeats)
            raise PydanticCustomError("duplicate_url", "pages listed twice: {urls}", {"urls": urls, "repeats": repeats})
        return self

    def path(self, value: str) -> Path:
        """A path from the file, relative to the file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self._base_dir / p

    @property
    def storage_url(self) -> str:
        """The database URL, with a relative SQLite path made relative to the config file."""
        prefix = "sqlite:///"
        if self.storage.startswith(prefix) and not self.storage.startswith(prefix + "/"):
            rest = self.storage[len(prefix) :]
            if rest and rest != ":memory:":
                return prefix + str(self.path(rest).resolve())
        return self.storage

    @property
    def output_dir(self) -> Path:
        return self.path(self.output)

    def watches(self) -> list[Watch]:
        out = []
        for competitor in self.competitors:
            card = self.path(competitor.battlecard) if competitor.battlecard else None
            for page in competitor.pages:
                jitter = page.jitter or self.defaults.jitter
                schedule = parse_schedule(
                    page.every or self.defaults.every, jitter=parse_duration(jitter) if jitter else None
                )
                out.append(
                    Watch(
                        competitor=competitor.name,
                        url=page.url,
                        kind=page.kind,
                        render=page.render or self.defaults.render,
                        schedule=schedule,
                        include=tuple(page.include),
                        exclude=tuple(page.exclude),
                        ignore=tuple(page.ignore),
                        battlecard=card,
                        wait_for=page.wait_for,
                        scroll=page.scroll,
                        actions=tuple(BrowserAction(**a.model_dump()) for a in page.actions),
                        storage_state=self.path(page.storage_state) if page.storage_state else None,
                        screenshot=page.screenshot,
                        respect_robots=page.robots,
                        pin=tuple(page.noise.pin),
                        unpin=tuple(page.noise.unpin),
                        normalize=NormalizeOptions(**page.normalize.model_dump()),
                    )
                )
        return out


def same_page_key(url: str) -> str:
    """A URL as far as "the same page" goes: scheme and host case, default port and fragment don't count."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port not in (None, {"http": 80, "https": 443}.get(scheme)) else None
    netloc = f"{host}:{port}" if port else host
    return f"{scheme}://{netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


def default_config_path() -> Path:
    return Path(os.environ.get("RIVALWATCH_CONFIG") or DEFAULT_CONFIG_NAME)


def load_config(path: Path | str) -> Config:
    """Read, parse and check a config file; raise ``ConfigError`` naming every problem."""
    from monitor.config_errors import file_problems, validation_problems

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = ConfigProblem(path, None, "", f"cannot read the config: {exc.strerror}")
        raise ConfigError([problem]) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ConfigError([ConfigProblem(path, line, "", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(path, 1, "", "the config must be a mapping of keys to values")])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(path, node, exc, Config)) from None
    config._base_dir = path.resolve().parent
    problems = file_problems(path, node, config)
    if problems:
        raise ConfigError(problems)
    return config
