"""SQLModel tables. They stay inside the store: nothing outside ``monitor.store`` sees a row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class PageRow(SQLModel, table=True):
    """One watched page: its health and what a conditional GET needs."""

    __tablename__ = "page"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True, unique=True)
    competitor: str
    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error_kind: str | None = None
    last_error_message: str | None = None
    last_error_at: datetime | None = None
    error_streak: int = 0
    broken_alerted: bool = False
    etag: str | None = None
    last_modified: str | None = None
    raw_hash: str | None = None  # sha256 of the last good body: unchanged bytes skip parsing
    variant_reported: bool = False  # a flapping page was reported once as a variant


class SnapshotRow(SQLModel, table=True):
    __tablename__ = "snapshot"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True)
    taken_at: datetime
    content_hash: str = Field(index=True)
    title: str = ""
    blocks_json: str = Field(sa_column=Column(Text, nullable=False))
    facts_json: str = Field(sa_column=Column(Text, nullable=False))
    screenshot: bytes | None = None


class CheckRow(SQLModel, table=True):
    """Every crawl of a page, good or bad: the page's history as ops see it."""

    __tablename__ = "check"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True)
    checked_at: datetime
    status: str  # first | unchanged | noise | changed | error
    error_kind: str | None = None
    error_message: str | None = None
    snapshot_id: int | None = None
    change_id: int | None = None


class ChangeRow(SQLModel, table=True):
    __tablename__ = "change"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True)
    competitor: str = Field(index=True)
    page_kind: str
    before_id: int
    after_id: int
    detected_at: datetime = Field(index=True)
    change_json: str = Field(sa_column=Column(Text, nullable=False))
    # the grade; NULL severity = not graded yet (a crash between storing and grading)
    severity: int | None = None
    category: str | None = None
    summary: str | None = None
    grade_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source: str | None = None
    regrade: bool = False  # graded by a fallback; grade again when the LLM is back
    variant: bool = False  # a flapping page's return to a state seen before
    card_staged_at: datetime | None = None


class OutboxRow(SQLModel, table=True):
    """An alert waiting for delivery; delivered once, retried until it is."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("dedupe_key"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str
    channel: str
    change_id: int | None = None
    alert_json: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    delivered_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None


class VolatileRow(SQLModel, table=True):
    """A block signature treated as noise on one page, learned or pinned by ops."""

    __tablename__ = "volatile"
    __table_args__ = (UniqueConstraint("url", "signature"),)
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True)
    signature: str
    text: str = ""
    reason: str = ""
    first_seen: datetime
    hits: int = 1


class LeaseRow(SQLModel, table=True):
    """A short claim on a piece of work, so daemons sharing one database never do it twice."""

    __tablename__ = "lease"
    key: str = Field(primary_key=True)
    owner: str
    until: datetime
