"""The store: snapshots, changes, grades, page health and the alert outbox, on SQLModel.

SQLite by default (WAL, one file), PostgreSQL when several daemons share work. Every method
is one transaction, so a crash between stages loses nothing and repeats nothing: a change is
stored before it is graded, a grade and its alerts are stored together, and an alert leaves
the outbox only when it was delivered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, create_engine, select

from monitor import codec
from monitor.errors import StoreError
from monitor.records import (
    Alert,
    Change,
    Classification,
    FetchResult,
    HealthEvent,
    Page,
    Snapshot,
    Watch,
)
from monitor.store_history import HistoryQueries, _snapshot, utcnow
from monitor.tables import ChangeRow, CheckRow, OutboxRow, PageRow, SnapshotRow


@dataclass(frozen=True, slots=True)
class PageState:
    """What the pipeline needs to know about a page before it fetches it."""

    etag: str | None
    last_modified: str | None
    raw_hash: str | None
    last_id: int | None  # the last good snapshot; load it with Store.snapshot only to diff
    last_hash: str | None
    variant_reported: bool


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store(HistoryQueries):
    def __init__(self, engine: Engine, *, broken_after: int = 3):
        self.engine = engine
        self.broken_after = broken_after

    @classmethod
    def open(cls, url: str, *, broken_after: int = 3) -> Store:
        try:
            engine = create_engine(url, pool_pre_ping=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            SQLModel.metadata.create_all(engine)
        except (OperationalError, ValueError, ImportError) as exc:
            raise StoreError(f"cannot open the store at {url}: {exc}") from exc
        return cls(engine, broken_after=broken_after)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # ---- pages and health -------------------------------------------------

    def _page(self, session: Session, watch: Watch) -> PageRow:
        row = session.exec(select(PageRow).where(PageRow.url == watch.url)).first()
        if row is None:
            row = PageRow(url=watch.url, competitor=watch.competitor)
            session.add(row)
            session.flush()
        return row

    def page_state(self, url: str) -> PageState:
        with self.session() as s:
            row = s.exec(select(PageRow).where(PageRow.url == url)).first()
            last = s.exec(
                select(SnapshotRow.id, SnapshotRow.content_hash)
                .where(SnapshotRow.url == url)
                .order_by(SnapshotRow.id.desc())  # type: ignore[union-attr]
                .limit(1)
            ).first()
            return PageState(
                etag=row.etag if row else None,
                last_modified=row.last_modified if row else None,
                raw_hash=row.raw_hash if row else None,
                last_id=last[0] if last else None,
                last_hash=last[1] if last else None,
                variant_reported=row.variant_reported if row else False,
            )

    def snapshot(self, snapshot_id: int) -> Snapshot:
        with self.session() as s:
            row = s.get(SnapshotRow, snapshot_id)
            if row is None:
                raise StoreError(f"no snapshot {snapshot_id}")
            return _snapshot(row)

    def _success(self, s: Session, watch: Watch, result: FetchResult, raw_hash: str | None) -> HealthEvent | None:
        """Mark a good fetch on the page row (Core statements: this is on every check's path)."""
        page = PageRow.__table__  # type: ignore[attr-defined]
        conn = s.connection()
        row = conn.execute(
            sa_select(page.c.id, page.c.broken_alerted, page.c.last_error_kind, page.c.error_streak).where(
                page.c.url == watch.url
            )
        ).first()
        if row is None:  # the page's first check: create its row, then mark it
            conn.execute(sa_insert(page).values(url=watch.url, competitor=watch.competitor, error_streak=0))
            return self._success(s, watch, result, raw_hash)
        values: dict = {
            "last_checked_at": result.fetched_at,
            "last_success_at": result.fetched_at,
            "error_streak": 0,
            "broken_alerted": False,
        }
        if not result.not_modified:
            values.update(etag=result.etag, last_modified=result.last_modified)
            if raw_hash:
                values["raw_hash"] = raw_hash
        conn.execute(sa_update(page).where(page.c.id == row.id).values(**values))
        if row.broken_alerted:
            return HealthEvent(watch.url, watch.competitor, "recovered", row.last_error_kind, row.error_streak)
        return None

    def record_error(self, watch: Watch, result: FetchResult) -> HealthEvent | None:
        assert result.error is not None
        with self.session() as s:
            row = self._page(s, watch)
            row.last_checked_at = row.last_error_at = result.fetched_at
            row.last_error_kind = result.error.kind.value
            row.last_error_message = result.error.message[:500]
            row.error_streak += 1
            event_ = None
            if row.error_streak >= self.broken_after and not row.broken_alerted:
                row.broken_alerted = True
                event_ = HealthEvent(watch.url, watch.competitor, "broken", str(result.error), row.error_streak)
            s.add(row)
            s.add(
                CheckRow(
                    url=watch.url,
                    checked_at=result.fetched_at,
                    status="error",
                    error_kind=result.error.kind.value,
                    error_message=result.error.message[:500],
                )
            )
            return event_

    def record_unchanged(
        self, watch: Watch, result: FetchResult, *, raw_hash: str | None, status: str = "unchanged"
    ) -> HealthEvent | None:
        with self.session() as s:
            event_ = self._success(s, watch, result, raw_hash)
            if status != "unchanged" or event_ is not None:  # an unchanged check lives in the page row only
                s.add(CheckRow(url=watch.url, checked_at=result.fetched_at, status=status))
            return event_

    def record_snapshot(
        self,
        watch: Watch,
        result: FetchResult,
        page: Page,
        *,
        raw_hash: str | None,
        change: Change | None = None,
        variant: bool = False,
    ) -> tuple[Snapshot, int | None, HealthEvent | None]:
        """Store a new snapshot, and the change that leads to it, in one transaction.

        ``change`` is given with ``after_id=0``; the stored change points at the new snapshot.
        Returns the snapshot, the change id (None for a baseline) and any health event.
        """
        with self.session() as s:
            event_ = self._success(s, watch, result, raw_hash)
            snapshots = SnapshotRow.__table__  # type: ignore[attr-defined]
            snap_id = (
                s.connection()
                .execute(
                    sa_insert(snapshots)
                    .values(
                        url=watch.url,
                        taken_at=result.fetched_at,
                        content_hash=page.content_hash,
                        title=page.title,
                        blocks_json=codec.blocks_to_json(page.blocks),
                        facts_json=codec.facts_to_json(page.facts),
                        screenshot=result.screenshot,
                    )
                    .returning(snapshots.c.id)
                )
                .scalar_one()
            )
            snap = Snapshot(id=snap_id, url=watch.url, taken_at=result.fetched_at, page=page)
            change_id = None
            if change is not None:
                stored = replace(change, after_id=snap_id)
                crow = ChangeRow(
                    url=watch.url,
                    competitor=watch.competitor,
                    page_kind=watch.kind.value,
                    before_id=stored.before_id,
                    after_id=snap_id,
                    detected_at=stored.detected_at,
                    change_json=codec.change_to_json(stored),
                    variant=variant,
                )
                s.add(crow)
                s.flush()
                change_id = crow.id
            if change is not None:
                # a flapping page is reported once; a change that is not a flip ends the episode
                self._page(s, watch).variant_reported = variant
            s.connection().execute(
                sa_insert(CheckRow.__table__).values(  # type: ignore[attr-defined]
                    url=watch.url,
                    checked_at=result.fetched_at,
                    status="first" if change is None else "pending",
                    snapshot_id=snap_id,
                    change_id=change_id,
                )
            )
            return snap, change_id, event_

    # ---- grading and the outbox ---------------------------------------------

    def save_grade(self, change_id: int, grade: Classification, alerts: list[Alert], *, regrade: bool = False) -> None:
        """Store a grade and queue its alerts together.

        A change is alerted at most once per channel: a re-grade queues only the channels its
        new grade adds (a rules grade of low that the model grades high reaches Slack then).
        """
        with self.session() as s:
            row = s.get(ChangeRow, change_id)
            if row is None:
                raise StoreError(f"no change {change_id}")
            row.severity, row.category, row.summary = int(grade.severity), grade.category.value, grade.summary
            row.grade_json, row.source, row.regrade = codec.grade_to_json(grade), grade.source, regrade
            s.add(row)
            check = s.exec(select(CheckRow).where(CheckRow.change_id == change_id)).first()
            if check is not None and check.status == "pending":
                check.status = "changed" if int(grade.severity) > 0 else "noise"
                s.add(check)
            for alert in alerts:
                self._enqueue(s, alert, f"change:{change_id}:{alert.channel}")

    def to_regrade(self, *, limit: int = 50) -> list[tuple[int, Change]]:
        """Changes graded by a fallback, to be graded again when the classifier is back."""
        with self.session() as s:
            rows = s.exec(
                select(ChangeRow).where(ChangeRow.regrade == True).order_by(ChangeRow.id).limit(limit)  # type: ignore[arg-type]  # noqa: E712
            ).all()
            return [(r.id, codec.change_from_json(r.change_json)) for r in rows if r.id is not None]

    def enqueue(self, alert: Alert, *, key: str) -> None:
        with self.session() as s:
            self._enqueue(s, alert, key)

    def _enqueue(self, s: Session, alert: Alert, key: str) -> None:
        exists = s.exec(select(OutboxRow.id).where(OutboxRow.dedupe_key == key)).first()
        if exists is None:
            s.add(
                OutboxRow(
                    dedupe_key=key,
                    channel=alert.channel,
                    change_id=alert.change_id,
                    alert_json=codec.alert_to_json(alert),
                    created_at=utcnow(),
                )
            )

    def ungraded(self) -> list[tuple[int, Change]]:
        with self.session() as s:
            rows = s.exec(select(ChangeRow).where(ChangeRow.severity == None)).all()  # noqa: E711
            return [(r.id, codec.change_from_json(r.change_json)) for r in rows if r.id is not None]

    def due_alerts(self, *, now: datetime | None = None) -> list[tuple[int, Alert]]:
        now = now or utcnow()
        with self.session() as s:
            rows = s.exec(
                select(OutboxRow).where(OutboxRow.delivered_at == None).order_by(OutboxRow.id)  # type: ignore[arg-type]  # noqa: E711
            ).all()
            return [
                (r.id, codec.alert_from_json(r.alert_json))
                for r in rows
                if r.id is not None and (r.next_attempt_at is None or r.next_attempt_at <= now)
            ]

    def is_delivered(self, outbox_id: int) -> bool:
        with self.session() as s:
            row = s.get(OutboxRow, outbox_id)
            return row is None or row.delivered_at is not None

    def mark_delivered(self, outbox_id: int) -> None:
        with self.session() as s:
            row = s.get(OutboxRow, outbox_id)
            if row is not None:
                row.delivered_at = utcnow()
                row.attempts += 1
                s.add(row)

    def mark_failed(self, outbox_id: int, error: str) -> None:
        with self.session() as s:
            row = s.get(OutboxRow, outbox_id)
            if row is not None:
                row.attempts += 1
                row.last_error = error[:500]
                row.next_attempt_at = utcnow() + min(timedelta(minutes=2**row.attempts), timedelta(hours=1))
                s.add(row)
