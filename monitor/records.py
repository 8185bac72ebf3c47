"""The typed, immutable records that flow between the stages.

    Watch -> FetchResult -> Page (blocks + facts) -> Snapshot -> Change | None
          -> Classification -> ClassifiedChange -> Alert | CardProposal | Digest

Every record is a frozen dataclass; stages never mutate what they are handed. SQLModel
tables live in ``monitor.store`` and never leak out of it; Pydantic lives only at the edges
(YAML config, LLM output).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path


class Severity(enum.IntEnum):
    """How much a change matters; ordered NONE < LOW < MEDIUM < HIGH < CRITICAL."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int | Severity) -> Severity:
        if isinstance(value, Severity):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper()]
        except KeyError:
            valid = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {value!r} (valid: {valid})") from None


class Category(enum.StrEnum):
    """What a change is about."""

    PRICING = "pricing"
    PRODUCT = "product"
    POSITIONING = "positioning"
    CUSTOMERS = "customers"
    HIRING = "hiring"
    PARTNERSHIPS = "partnerships"
    CORPORATE = "corporate"
    LEGAL = "legal"
    CONTENT = "content"
    NONE = "none"


class PageKind(enum.StrEnum):
    """What kind of page a watch points at; it steers extraction and grading."""

    PRICING = "pricing"
    PRODUCT = "product"
    HOMEPAGE = "homepage"
    CHANGELOG = "changelog"
    CAREERS = "careers"
    BLOG = "blog"
    INTEGRATIONS = "integrations"
    CUSTOMERS = "customers"
    LEGAL = "legal"
    DOCS = "docs"
    OTHER = "other"


class Render(enum.StrEnum):
    """How a page is fetched: plain HTTP, or a real browser that runs its scripts."""

    STATIC = "static"
    BROWSER = "browser"


class FetchErrorKind(enum.StrEnum):
    """Why a fetch produced no usable page. Never becomes a change."""

    TIMEOUT = "timeout"
    CONNECT = "connect"  # DNS, refused, reset, TLS
    HTTP_STATUS = "http-status"  # 4xx/5xx other than the ones below
    RATE_LIMITED = "rate-limited"  # 429, or 503 with Retry-After
    BLOCKED = "blocked"  # bot challenge, captcha, access denied
    EMPTY = "empty"  # no body, or no text once extracted
    TRUNCATED = "truncated"  # body cut short
    TOO_LARGE = "too-large"  # over the size cap
    REDIRECTS = "redirects"  # redirect loop or over the redirect limit
    NOT_HTML = "not-html"  # a content type we do not read
    ROBOTS = "robots"  # disallowed by robots.txt
    BROWSER = "browser"  # the browser crashed or failed to render
    EXTRACT = "extract"  # the page parsed to nothing usable


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a job runs: a fixed interval (``every: 6h``) or a cron string, with jitter."""

    every: timedelta | None = None
    cron: str | None = None
    jitter: timedelta = timedelta(0)

    def __str__(self) -> str:
        if self.cron:
            return f"cron {self.cron}"
        assert self.every is not None
        return f"every {self.every}"


@dataclass(frozen=True, slots=True)
class BrowserAction:
    """One step done in the browser before the snapshot: click, fill, wait or scroll."""

    action: str  # click | fill | wait | scroll
    selector: str | None = None
    value: str | None = None
    ms: int | None = None


@dataclass(frozen=True, slots=True)
class NormalizeOptions:
    """What counts as the same text on a page (whitespace and Unicode forms always do)."""

    numbers: bool = True  # 1,000 = 1000, $49.00 = $49, 149 € = €149
    dates: bool = True  # Mar 12, 2026 = 12 March 2026 = 2026-03-12
    noise: bool = True  # the built-in noise kinds: timestamps, counters, tokens, copyright years
    case: bool = True  # "Start Free" = "Start free"


@dataclass(frozen=True, slots=True)
class Watch:
    """One watched page, with everything the pipeline needs to fetch and read it."""

    competitor: str
    url: str
    kind: PageKind = PageKind.OTHER
    render: Render = Render.STATIC
    schedule: Schedule = field(default_factory=lambda: Schedule(every=timedelta(hours=6)))
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()  # regexes for volatile text
    battlecard: Path | None = None
    # browser-only options
    wait_for: str | None = None
    scroll: bool = False
    actions: tuple[BrowserAction, ...] = ()
    storage_state: Path | None = None
    screenshot: bool = False
    # politeness
    respect_robots: bool = True
    # overrides of learned volatility: block-signature prefixes
    pin: tuple[str, ...] = ()
    unpin: tuple[str, ...] = ()
    normalize: NormalizeOptions = NormalizeOptions()

    @property
    def key(self) -> str:
        """The page's identity in the store."""
        return self.url


@dataclass(frozen=True, slots=True)
class FetchError:
    kind: FetchErrorKind
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch of a watch produced: a body, or an error with its kind."""

    url: str
    fetched_at: datetime
    status: int | None = None
    final_url: str | None = None
    content_type: str | None = None
    text: str | None = None  # decoded HTML; None on error or 304
    error: FetchError | None = None
    not_modified: bool = False  # a 304 to a conditional GET: unchanged
    etag: str | None = None
    last_modified: str | None = None
    elapsed: timedelta = timedelta(0)
    screenshot: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class PageHealth:
    """How one watched page is doing: the rows of `rivalwatch status` and the digest's health table."""

    url: str
    competitor: str
    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None  # "kind: message", as FetchError prints
    error_streak: int = 0  # consecutive failed fetches; 0 when healthy


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """A page crossed the broken threshold, or came back after being reported broken."""

    url: str
    competitor: str
    kind: str  # broken | recovered
    error: str | None  # the last error ("kind: message" or the kind alone)
    streak: int  # failed fetches in a row (before recovery, for "recovered")


class BlockKind(enum.StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list-item"
    TABLE_ROW = "table-row"
    LINK = "link"
    BUTTON = "button"
    QUOTE = "quote"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of page content, in page order, with the headings above it."""

    kind: BlockKind
    text: str
    path: tuple[str, ...] = ()  # nearest heading path, outermost first
    group: str | None = None  # id of an order-insensitive sibling group, if any

    @property
    def where(self) -> str:
        return " › ".join(self.path)


@dataclass(frozen=True, slots=True)
class Fact:
    """A structured statement read off a page: a price, a plan's feature, a job, an entry.

    (kind, subject, attribute) identifies a fact across versions; value is what changes.
    Examples: ("price", "Pro", "monthly", "$49 per seat / month"),
    ("feature", "SAML SSO", "plans", "Enterprise"), ("job", "Senior AE", "Sales · Berlin", "open").
    """

    kind: str
    subject: str
    attribute: str
    value: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.subject, self.attribute)


@dataclass(frozen=True, slots=True)
class Page:
    """The extracted content of one good fetch."""

    url: str
    title: str
    blocks: tuple[Block, ...]
    facts: tuple[Fact, ...] = ()
    content_hash: str = ""  # hash of the normalised blocks and facts


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stored version of a page; written only when the content differs from the last."""

    id: int
    url: str
    taken_at: datetime
    page: Page


class BlockOp(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"


@dataclass(frozen=True, slots=True)
class BlockChange:
    op: BlockOp
    kind: BlockKind
    path: tuple[str, ...]
    before: str | None  # None when added
    after: str | None  # None when removed
    context: str = ""  # a few words of the neighbouring content

    @property
    def text(self) -> str:
        return self.after if self.after is not None else (self.before or "")


@dataclass(frozen=True, slots=True)
class FactChange:
    kind: str
    subject: str
    attribute: str
    before: str | None
    after: str | None

    def describe(self) -> str:
        """Plain words: "Pro monthly: $49 → $59", "+ job: Senior AE (Sales · Berlin)"."""
        if self.kind == "summary":  # an aggregate line, already in plain words
            return self.after or self.before or ""
        if self.kind == "plan":
            return f"new plan: {self.subject}" if self.before is None else f"plan removed: {self.subject}"
        if self.kind == "job":
            where = f" ({self.attribute})" if self.attribute else ""
            return f"+ job: {self.subject}{where}" if self.before is None else f"− job: {self.subject}{where}"
        if self.kind == "entry":
            if self.before is None:
                return f"new entry: {self.subject} ({self.after})"
            if self.after is None:
                return f"entry removed: {self.subject} (was {self.before})"
            return f"{self.subject}: dated {self.before} → {self.after}"
        if self.kind == "feature":

            def plans(value: str | None) -> str:
                value = value or "none"
                return value if " and " in value or value == "none" else f"{value} only"

            if self.before is None:
                return f"new feature: {self.subject}: {plans(self.after)}"
            if self.after is None:
                return f"feature removed: {self.subject} (was {plans(self.before)})"
            return f"{self.subject}: {plans(self.before)} → {plans(self.after)}"
        label = f"{self.subject} {self.attribute}".strip() if self.attribute else self.subject
        if self.before is None:
            return f"new {self.kind}: {label}: {self.after}"
        if self.after is None:
            return f"removed {self.kind}: {label} (was {self.before})"
        return f"{label}: {self.before} → {self.after}"


@dataclass(frozen=True, slots=True)
class Change:
    """The meaningful difference between two snapshots of one page."""

    url: str
    competitor: str
    page_kind: PageKind
    before_id: int
    after_id: int
    detected_at: datetime
    blocks: tuple[BlockChange, ...]
    facts: tuple[FactChange, ...] = ()
    diff_html: str = ""

    @property
    def added_text(self) -> list[str]:
        return [b.after for b in self.blocks if b.after is not None and b.op is not BlockOp.REMOVED]

    @property
    def removed_text(self) -> list[str]:
        return [b.before for b in self.blocks if b.before is not None and b.op is not BlockOp.ADDED]


@dataclass(frozen=True, slots=True)
class Classification:
    """A grade for one change, with where the grade came from."""

    severity: Severity
    category: Category
    summary: str
    facts: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()  # quotes found verbatim in the change
    source: str = "rules"  # rules | llm:<model> | llm-failed→rules
    confidence: float = 0.5


@dataclass(frozen=True, slots=True)
class ClassifiedChange:
    id: int
    change: Change
    classification: Classification


@dataclass(frozen=True, slots=True)
class Alert:
    """A message about one classified change (or a page's health), for one channel."""

    change_id: int | None
    channel: str  # console | file | slack:#channel
    competitor: str
    url: str
    severity: Severity
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class CardProposal:
    """A staged, reviewable edit to a competitor's battle card."""

    competitor: str
    card_path: Path
    proposal_path: Path
    change_ids: tuple[int, ...]
    markdown: str


@dataclass(frozen=True, slots=True)
class Digest:
    period_start: datetime
    period_end: datetime
    markdown: str
    change_ids: tuple[int, ...]
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class ClassifyContext:
    """What a classifier knows besides the change: who we are and the competitor's card."""

    company: str = ""  # our company profile (Markdown)
    battlecard: str = ""  # the competitor's current battle card (Markdown)
    rubric: str = ""  # the severity rubric (Markdown)
