"""The sections of the config file, one Pydantic model each; ``monitor.config`` assembles them."""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from monitor.records import PageKind, Render, Severity
from monitor.schedule import parse_duration, parse_schedule


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


class ActionConfig(_Strict):
    """A browser step before the snapshot."""

    action: Literal["click", "fill", "wait", "scroll"]
    selector: str | None = None
    value: str | None = None
    ms: int | None = Field(default=None, ge=0, le=60_000)


class NoiseConfig(_Strict):
    """Overrides of learned volatility, by block signature (as `rivalwatch noise URL` shows them)."""

    pin: list[str] = []  # always treat these blocks as noise
    unpin: list[str] = []  # never treat these blocks as noise, though they were learned as volatile

    @field_validator("pin", "unpin")
    @classmethod
    def _signatures(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"[0-9a-f]{8,32}", value):
                raise ValueError(f"{value!r} is not a block signature (8 to 32 hex digits from `rivalwatch noise`)")
        return values


class NormalizeConfig(_Strict):
    """What counts as the same text on this page; every option is on by default."""

    numbers: bool = True  # 1,000 = 1000, $49.00 = $49
    dates: bool = True  # the same date written differently
    noise: bool = True  # built-in noise kinds: timestamps, counters, tokens, copyright years
    case: bool = True  # letter case ignored


class PageConfig(_Strict):
    url: str
    kind: PageKind = PageKind.OTHER
    render: Render | None = None
    every: str | None = None
    jitter: str | None = None
    include: list[str] = []
    exclude: list[str] = []
    ignore: list[str] = []
    wait_for: str | None = None
    scroll: bool = False
    actions: list[ActionConfig] = []
    storage_state: str | None = None
    screenshot: bool = False
    robots: bool = True
    noise: NoiseConfig = NoiseConfig()
    normalize: NormalizeConfig = NormalizeConfig()

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL with a host")
        return value

    @field_validator("ignore")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        for pattern in values:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from None
        return values

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schedule(value)
        return value

    _jitter = field_validator("jitter")(_check_duration)


class CompetitorConfig(_Strict):
    name: str = Field(min_length=1)
    battlecard: str | None = None
    pages: list[PageConfig] = Field(min_length=1)


class DefaultsConfig(_Strict):
    every: str = "6h"
    render: Render = Render.STATIC
    jitter: str | None = None

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        parse_schedule(value)
        return value

    _jitter = field_validator("jitter")(_check_duration)


AUTO_WORKERS_FROM = 100  # pages in a config from which extract_workers "auto" starts worker processes


class FetchConfig(_Strict):
    """Politeness and limits for fetching."""

    contact: str = "https://github.com/rivalwatch/rivalwatch"
    timeout: float = Field(default=20.0, gt=0)
    max_bytes: int = Field(default=5_000_000, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    retries: int = Field(default=2, ge=0, le=10)
    concurrency: int = Field(default=16, ge=1)
    per_host: int = Field(default=2, ge=1)
    per_host_delay: float = Field(default=1.0, ge=0)
    browser_pages: int = Field(default=4, ge=1)
    # processes that parse pages, or "auto" (see extraction_processes); 0 parses in the daemon itself
    extract_workers: Annotated[int, Field(ge=0, le=64)] | Literal["auto"] = "auto"
    # timeouts: connect and read per request; ``timeout`` above bounds one whole attempt
    connect_timeout: float = Field(default=10.0, gt=0)
    read_timeout: float = Field(default=15.0, gt=0)
    # retries: exponential backoff from retry_backoff seconds, capped; Retry-After honoured up to its cap
    retry_backoff: float = Field(default=1.0, ge=0)
    retry_backoff_max: float = Field(default=30.0, ge=0)
    retry_after_cap: float = Field(default=60.0, ge=0)
    # browser: a context serves this many fetches before it is replaced (a new one costs ~3x a fetch);
    # the whole browser is relaunched after this many pages to bound its memory
    browser_context_uses: int = Field(default=50, ge=1)
    browser_relaunch_after: int = Field(default=500, ge=1)
    browser_block: list[Literal["image", "media", "font", "stylesheet"]] = ["image", "media", "font"]
    browser_quiet_cap: float = Field(default=5.0, ge=0)  # longest wait for the network to go quiet
    browser_path: str | None = None  # a Chromium binary; default: the system's, else Playwright's

    @field_validator("extract_workers", mode="before")
    @classmethod
    def _extract_workers(cls, value: Any) -> Any:
        """One clear message instead of one per branch of the union."""
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 64):
            return value
        raise ValueError(f"{value!r} is not allowed; input should be a number of processes from 0 to 64, or 'auto'")

    def extraction_processes(self, pages: int) -> int:
        """``extract_workers`` for a config of ``pages`` pages: "auto" is one process per core, at
        most four, from AUTO_WORKERS_FROM pages (a crawl of hundreds of pages then uses every core),
        and none below that or on one core (a worker costs a start-up and its memory for little)."""
        if self.extract_workers != "auto":
            return self.extract_workers
        cores = min(4, os.cpu_count() or 1)
        return cores if cores > 1 and pages >= AUTO_WORKERS_FROM else 0


class ModelsConfig(_Strict):
    """Models per job: ``triage`` grades changes, ``draft`` writes battle-card edits."""

    triage: str | None = None
    draft: str | None = None  # defaults to the triage model


class PriceConfig(_Strict):
    """US dollars per million tokens, as the provider bills them."""

    input_per_1m: float = Field(ge=0)
    output_per_1m: float = Field(ge=0)


class BudgetConfig(_Strict):
    """Hard caps on LLM spend (UTC days and months); over a cap the rules classifier takes over."""

    daily_usd: float | None = Field(default=1.0, ge=0)
    monthly_usd: float | None = Field(default=20.0, ge=0)


class ClassifierConfig(_Strict):
    """``provider: rules`` (offline default) or ``openai`` (any OpenAI-compatible endpoint).

    ``model`` is the older spelling of ``models.triage`` and still works.
    """

    provider: Literal["rules", "openai"] = "rules"
    model: str | None = None
    models: ModelsConfig = ModelsConfig()
    base_url: str | None = None  # OpenAI's own when unset; vLLM, Ollama, Azure's /openai/v1/ otherwise
    api_key_env: str = "OPENAI_API_KEY"
    prices: dict[str, PriceConfig] = {}
    budget: BudgetConfig = BudgetConfig()
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    max_output_tokens: int = Field(default=700, ge=50, le=32_000)
    output: Literal["auto", "json_schema", "json_object"] = "auto"  # auto: schema, else JSON mode
    on_unavailable: Literal["deliver", "hold"] = "deliver"  # deliver = fail open on the rules grade
    rubric: str | None = None  # a Markdown severity rubric, relative to the config file

    @model_validator(mode="after")
    def _models_priced(self) -> ClassifierConfig:
        if self.model and self.models.triage and self.model != self.models.triage:
            raise ValueError("set either model or models.triage, not both")
        if self.provider != "openai":
            return self
        if not self.triage_model:
            raise ValueError("provider openai needs models.triage (the model that grades changes)")
        for name in {self.triage_model, self.draft_model}:
            if name not in self.prices:
                raise ValueError(
                    f"no price for model {name!r}: add prices: {{{name}: {{input_per_1m: ..., "
                    "output_per_1m: ...}}} (0 for a self-hosted model) so the budget can be kept"
                )
        return self

    @property
    def triage_model(self) -> str:
        return self.models.triage or self.model or ""

    @property
    def draft_model(self) -> str:
        return self.models.draft or self.triage_model


class SlackRoute(_Strict):
    min_severity: Severity = Severity.HIGH
    channel: str
    competitors: list[str] = []

    @field_validator("min_severity", mode="before")
    @classmethod
    def _sev(cls, value: Any) -> Severity:
        return Severity.parse(value)


class SlackConfig(_Strict):
    routes: list[SlackRoute] = []
    token_env: str = "SLACK_BOT_TOKEN"
    base_url: str | None = None  # a Slack-Web-API-compatible endpoint; default is Slack's
    timeout: float = Field(default=15.0, gt=0)
    # a 429 asking to wait longer than this fails the delivery; the outbox retries later
    max_retry_wait: float = Field(default=30.0, ge=0)


class FileAlertsConfig(_Strict):
    """Alerts appended to a file; a relative path is inside the ``output`` folder."""

    path: str = "alerts.jsonl"
    format: Literal["jsonl", "markdown"] = "jsonl"


class DigestConfig(_Strict):
    at: str = "07:00"
    outputs: list[Literal["file", "slack"]] = ["file"]
    channel: str | None = None  # the Slack channel for the digest's summary

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a local time HH:MM")
        return value

    @model_validator(mode="after")
    def _slack_needs_channel(self) -> DigestConfig:
        if "slack" in self.outputs and not self.channel:
            raise ValueError('outputs includes slack: set channel (e.g. channel: "#pmm-digest")')
        return self


class BattlecardsConfig(_Strict):
    dir: str = "battlecards"
    stage_at: str = "02:00"

    @field_validator("stage_at")
    @classmethod
    def _at(cls, value: str) -> str:
        return DigestConfig._at(value)


class RespondersConfig(_Strict):
    console: bool = True
    alert_min_severity: Severity = Severity.MEDIUM
    file: FileAlertsConfig | None = FileAlertsConfig()
    slack: SlackConfig | None = None
    digest: DigestConfig = DigestConfig()
    battlecards: BattlecardsConfig = BattlecardsConfig()

    @field_validator("alert_min_severity", mode="before")
    @classmethod
    def _sev(cls, value: Any) -> Severity:
        return Severity.parse(value)


class DetectConfig(_Strict):
    """How changes are confirmed and when a failing page is reported broken."""

    confirm_delay: float = Field(default=2.0, ge=0, le=300)  # seconds before the confirming re-fetch
    broken_after: int = Field(default=3, ge=1)  # consecutive failed fetches before "page broken"
