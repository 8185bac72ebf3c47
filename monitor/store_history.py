"""Reading the store: history, changes, health, battle-card bookkeeping and learned noise.

Mixed into ``monitor.store.Store``; each method is one short read (or bookkeeping) transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from monitor import codec
from monitor.records import ClassifiedChange, Page, PageHealth, Snapshot
from monitor.tables import ChangeRow, CheckRow, PageRow, SnapshotRow, VolatileRow
from monitor.volatility import SlotPattern


def utcnow() -> datetime:
    return datetime.now(UTC)


def _snapshot(row: SnapshotRow) -> Snapshot:
    page = Page(
        url=row.url,
        title=row.title,
        blocks=codec.blocks_from_json(row.blocks_json),
        facts=codec.facts_from_json(row.facts_json),
        content_hash=row.content_hash,
    )
    assert row.id is not None
    return Snapshot(id=row.id, url=row.url, taken_at=row.taken_at, page=page)


def _classified(row: ChangeRow) -> ClassifiedChange:
    assert row.id is not None and row.grade_json is not None
    return ClassifiedChange(row.id, codec.change_from_json(row.change_json), codec.grade_from_json(row.grade_json))


class HistoryQueries:
    """The read side of ``Store``, which provides ``session()``."""

    session: Callable[[], AbstractContextManager[Session]]

    def changes_between(self, start: datetime, end: datetime) -> list[ClassifiedChange]:
        with self.session() as s:
            rows = s.exec(
                select(ChangeRow)
                .where(ChangeRow.detected_at >= start, ChangeRow.detected_at < end)
                .where(ChangeRow.grade_json != None)  # noqa: E711
                .order_by(ChangeRow.id)  # type: ignore[arg-type]
            ).all()
            return [_classified(r) for r in rows]

    def change(self, change_id: int) -> ClassifiedChange | None:
        with self.session() as s:
            row = s.get(ChangeRow, change_id)
            return _classified(row) if row is not None and row.grade_json else None

    def last_change(self, url: str) -> ClassifiedChange | None:
        with self.session() as s:
            row = s.exec(
                select(ChangeRow)
                .where(ChangeRow.url == url, ChangeRow.grade_json != None)  # noqa: E711
                .order_by(ChangeRow.id.desc())  # type: ignore[union-attr]
            ).first()
            return _classified(row) if row else None

    def snapshots(self, url: str) -> list[Snapshot]:
        with self.session() as s:
            rows = s.exec(select(SnapshotRow).where(SnapshotRow.url == url).order_by(SnapshotRow.id)).all()  # type: ignore[arg-type]
            return [_snapshot(r) for r in rows]

    def content_hashes(self, url: str, *, last: int = 50) -> list[str]:
        """The page's last ``last`` content hashes, oldest first."""
        with self.session() as s:
            rows = s.exec(
                select(SnapshotRow.content_hash)
                .where(SnapshotRow.url == url)
                .order_by(SnapshotRow.id.desc())  # type: ignore[union-attr]
                .limit(last)
            ).all()
            return list(reversed(rows))

    def checks(self, url: str, *, limit: int = 50) -> list[CheckRow]:
        with self.session() as s:
            return list(
                s.exec(
                    select(CheckRow).where(CheckRow.url == url).order_by(CheckRow.id.desc()).limit(limit)  # type: ignore[union-attr]
                ).all()
            )

    def health(self) -> list[PageHealth]:
        with self.session() as s:
            rows = s.exec(select(PageRow).order_by(PageRow.competitor, PageRow.url)).all()
            return [
                PageHealth(
                    r.url,
                    r.competitor,
                    r.last_checked_at,
                    r.last_success_at,
                    f"{r.last_error_kind}: {r.last_error_message}" if r.last_error_kind else None,
                    r.error_streak,
                )
                for r in rows
            ]

    def mark_carded(self, change_ids: list[int]) -> None:
        with self.session() as s:
            for cid in change_ids:
                row = s.get(ChangeRow, cid)
                if row is not None:
                    row.card_staged_at = utcnow()
                    s.add(row)

    def uncarded(self, competitor: str) -> list[ClassifiedChange]:
        with self.session() as s:
            rows = s.exec(
                select(ChangeRow)
                .where(ChangeRow.competitor == competitor, ChangeRow.card_staged_at == None)  # noqa: E711
                .where(ChangeRow.grade_json != None, ChangeRow.severity > 0)  # type: ignore[operator]  # noqa: E711
                .order_by(ChangeRow.id)  # type: ignore[arg-type]
            ).all()
            return [_classified(r) for r in rows]

    # ---- volatility ----------------------------------------------------------

    def volatile_slots(self, url: str) -> list[SlotPattern]:
        """The page's learned volatile slots (see ``monitor.volatility``)."""
        with self.session() as s:
            texts = s.exec(select(VolatileRow.text).where(VolatileRow.url == url).order_by(VolatileRow.id)).all()  # type: ignore[arg-type]
            return [SlotPattern.from_json(text) for text in texts]

    def volatile_rows(self, url: str) -> list[VolatileRow]:
        with self.session() as s:
            return list(s.exec(select(VolatileRow).where(VolatileRow.url == url).order_by(VolatileRow.id)).all())  # type: ignore[arg-type]

    def add_volatile(self, url: str, found: dict[str, str], *, reason: str) -> None:
        """Remember learned volatile slots (signature -> pattern JSON) as noise on this page."""
        for signature, text in found.items():
            try:
                with self.session() as s:
                    row = s.exec(
                        select(VolatileRow).where(VolatileRow.url == url, VolatileRow.signature == signature)
                    ).first()
                    if row is None:
                        row = VolatileRow(url=url, signature=signature, text=text, reason=reason, first_seen=utcnow())
                    else:
                        row.hits += 1
                    s.add(row)
            except IntegrityError:  # another daemon recorded it first
                continue
