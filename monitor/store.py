"""The store: snapshots, changes, grades, page health and the alert outbox, on SQLModel.

SQLite by default (WAL, one file), PostgreSQL when several daemons share work. Every method
is one transaction, so a crash between stages loses nothing and repeats nothing: a change is
stored before it is graded, a grade and its alerts are stored together, and an alert leaves
the outbox only when it was delivered.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, create_engine, select

from monitor import codec
from monitor.errors import StoreError
from monitor.records import Alert, Change, Classification, Snapshot
from monitor.store_checks import CheckRecords, PageState
from monitor.store_history import HistoryQueries, _snapshot, utcnow
from monitor.tables import ChangeRow, CheckRow, OutboxRow, SnapshotRow

__all__ = ["PageState", "Store"]


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _create_tables(engine: Engine, *, attempts: int = 3) -> None:
    """Create what is missing. Two processes opening a new database at once (the daemon starting
    while ops run ``rivalwatch status``) can both find a table missing; the one that loses the
    race looks again and finds it there."""
    for attempt in range(attempts):
        try:
            SQLModel.metadata.create_all(engine)
            return
        except DBAPIError:  # "already exists": created meanwhile by the other process
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class Store(CheckRecords, HistoryQueries):
    def __init__(self, engine: Engine, *, broken_after: int = 3):
        self.engine = engine
        self.broken_after = broken_after

    @classmethod
    def open(cls, url: str, *, broken_after: int = 3) -> Store:
        try:
            sqlite = url.startswith("sqlite")
            # a pre-ping finds a server that dropped the connection; a file has none to drop, and
            # the ping would be one more statement on every transaction of every check
            engine = create_engine(url, pool_pre_ping=not sqlite)
            if sqlite:
                event.listen(engine, "connect", _sqlite_pragmas)
            _create_tables(engine)
        except (DBAPIError, ValueError, ImportError) as exc:
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

    def snapshot(self, snapshot_id: int) -> Snapshot:
        with self.session() as s:
            row = s.get(SnapshotRow, snapshot_id)
            if row is None:
                raise StoreError(f"no snapshot {snapshot_id}")
            return _snapshot(row)

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
