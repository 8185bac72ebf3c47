"""Writing checks: what every crawl of a page records (its state, a good or failed fetch, a snapshot).

Mixed into ``monitor.store.Store``. This is the one path every check of every page takes, so
it speaks SQLAlchemy Core with statements built once, reads a page's whole state in one
statement, and writes each outcome in one transaction. The state read before the fetch is
still true when the outcome is written: the page is leased for its check (``monitor.leases``),
so no other daemon writes its row meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from monitor import codec
from monitor.codec import EncodedPage
from monitor.leases import Claim, Leases
from monitor.records import Change, FetchResult, HealthEvent, Page, Watch
from monitor.tables import ChangeRow, CheckRow, PageRow, SnapshotRow

_PAGE = PageRow.__table__  # type: ignore[attr-defined]
_SNAPSHOT = SnapshotRow.__table__  # type: ignore[attr-defined]
_CHECK = CheckRow.__table__  # type: ignore[attr-defined]
_CHANGE = ChangeRow.__table__  # type: ignore[attr-defined]

_LAST_SNAPSHOT = select(func.max(_SNAPSHOT.c.id)).where(_SNAPSHOT.c.url == bindparam("url")).scalar_subquery()
_STATE = (
    select(
        _PAGE.c.id,
        _PAGE.c.etag,
        _PAGE.c.last_modified,
        _PAGE.c.raw_hash,
        _PAGE.c.variant_reported,
        _PAGE.c.error_streak,
        _PAGE.c.broken_alerted,
        _PAGE.c.last_error_kind,
        _SNAPSHOT.c.id,
        _SNAPSHOT.c.content_hash,
    )
    .select_from(_PAGE.outerjoin(_SNAPSHOT, _SNAPSHOT.c.id == _LAST_SNAPSHOT))
    .where(_PAGE.c.url == bindparam("url"))
)
_NEW_PAGE = insert(_PAGE)
# the SET clause is the parameters given beside ``page_id``
_UPDATE_PAGE = update(_PAGE).where(_PAGE.c.id == bindparam("page_id"))
_NEW_SNAPSHOT = insert(_SNAPSHOT).returning(_SNAPSHOT.c.id)
_NEW_CHANGE = insert(_CHANGE).returning(_CHANGE.c.id)
_NEW_CHECK = insert(_CHECK)


@dataclass(frozen=True, slots=True)
class PageState:
    """What the pipeline needs to know about a page before it fetches it, and the store after."""

    etag: str | None = None
    last_modified: str | None = None
    raw_hash: str | None = None
    last_id: int | None = None  # the last good snapshot; load it with Store.snapshot only to diff
    last_hash: str | None = None
    variant_reported: bool = False
    page_id: int | None = None  # None: the page was never checked
    error_streak: int = 0
    broken_alerted: bool = False
    last_error_kind: str | None = None


def read_state(conn: Connection, url: str) -> PageState:
    row = conn.execute(_STATE, {"url": url}).first()
    if row is None:
        return PageState()
    page_id, etag, last_modified, raw_hash, variant_reported, streak, broken, error_kind, last_id, last_hash = row
    return PageState(
        etag,
        last_modified,
        raw_hash,
        last_id,
        last_hash,
        bool(variant_reported),
        page_id,
        streak,
        bool(broken),
        error_kind,
    )


class CheckRecords:
    """The write side of a check; ``Store`` provides ``engine`` and ``broken_after``."""

    engine: Engine
    broken_after: int

    def page_state(self, url: str) -> PageState:
        with self.engine.connect() as conn:
            return read_state(conn, url)

    def claim_page(self, url: str, leases: Leases, *, key: str, ttl: timedelta) -> tuple[Claim, PageState] | None:
        """Lease a page for its check and read its state, in one transaction; None when another
        daemon is checking it. Pass the claim to the check's ``record_*`` to give it back there."""
        with self.engine.begin() as conn:
            if not leases.take(key, ttl=ttl, conn=conn):
                return None
            return Claim(leases, key), read_state(conn, url)

    @contextmanager
    def _writing(self, claim: Claim | None) -> Iterator[Connection]:
        """One transaction for a check's outcome, which also gives the page's lease back."""
        with self.engine.begin() as conn:
            yield conn
            if claim is not None and not claim.released:
                claim.leases.release(claim.key, conn=conn)
        if claim is not None:
            claim.released = True  # only now: it is released when the outcome is committed

    def record_unchanged(
        self,
        watch: Watch,
        result: FetchResult,
        *,
        raw_hash: str | None,
        status: str = "unchanged",
        state: PageState | None = None,
        claim: Claim | None = None,
    ) -> HealthEvent | None:
        with self._writing(claim) as conn:
            event = _mark_success(conn, watch, result, raw_hash, state)
            if status != "unchanged" or event is not None:  # an unchanged check lives in the page row only
                conn.execute(_NEW_CHECK, {"url": watch.url, "checked_at": result.fetched_at, "status": status})
            return event

    def record_snapshot(
        self,
        watch: Watch,
        result: FetchResult,
        page: Page | EncodedPage,
        *,
        raw_hash: str | None,
        change: Change | None = None,
        variant: bool = False,
        state: PageState | None = None,
        claim: Claim | None = None,
    ) -> tuple[int, int | None, HealthEvent | None]:
        """Store a new snapshot, and the change that leads to it, in one transaction.

        ``change`` is given with ``after_id=0``; the stored change points at the new snapshot.
        Returns the snapshot id, the change id (None for a baseline) and any health event.
        """
        encoded = page if isinstance(page, EncodedPage) else EncodedPage.of(page)
        with self._writing(claim) as conn:
            # a flapping page is reported once; a change that is not a flip ends the episode
            extra = {"variant_reported": variant} if change is not None else {}
            event = _mark_success(conn, watch, result, raw_hash, state, **extra)
            snapshot_id = conn.execute(
                _NEW_SNAPSHOT,
                {
                    "url": watch.url,
                    "taken_at": result.fetched_at,
                    "content_hash": encoded.content_hash,
                    "title": encoded.title,
                    "blocks_json": encoded.blocks_json,
                    "facts_json": encoded.facts_json,
                    "screenshot": result.screenshot,
                },
            ).scalar_one()
            change_id = None
            if change is not None:
                stored = replace(change, after_id=snapshot_id)
                change_id = conn.execute(
                    _NEW_CHANGE,
                    {
                        "url": watch.url,
                        "competitor": watch.competitor,
                        "page_kind": watch.kind.value,
                        "before_id": stored.before_id,
                        "after_id": snapshot_id,
                        "detected_at": stored.detected_at,
                        "change_json": codec.change_to_json(stored),
                        "variant": variant,
                        "regrade": False,
                    },
                ).scalar_one()
            conn.execute(
                _NEW_CHECK,
                {
                    "url": watch.url,
                    "checked_at": result.fetched_at,
                    "status": "first" if change is None else "pending",
                    "snapshot_id": snapshot_id,
                    "change_id": change_id,
                },
            )
            return snapshot_id, change_id, event

    def record_error(
        self, watch: Watch, result: FetchResult, *, state: PageState | None = None, claim: Claim | None = None
    ) -> HealthEvent | None:
        assert result.error is not None
        with self._writing(claim) as conn:
            state = state or read_state(conn, watch.url)
            streak = state.error_streak + 1
            event = None
            if streak >= self.broken_after and not state.broken_alerted:
                event = HealthEvent(watch.url, watch.competitor, "broken", str(result.error), streak)
            message = result.error.message[:500]
            _write_page(
                conn,
                watch,
                state,
                {
                    "last_checked_at": result.fetched_at,
                    "last_error_at": result.fetched_at,
                    "last_error_kind": result.error.kind.value,
                    "last_error_message": message,
                    "error_streak": streak,
                    "broken_alerted": state.broken_alerted or event is not None,
                },
            )
            conn.execute(
                _NEW_CHECK,
                {
                    "url": watch.url,
                    "checked_at": result.fetched_at,
                    "status": "error",
                    "error_kind": result.error.kind.value,
                    "error_message": message,
                },
            )
            return event


def _write_page(conn: Connection, watch: Watch, state: PageState, values: dict[str, Any]) -> None:
    """Set ``values`` on the page's row; on its first check the row is written whole, in one statement."""
    if state.page_id is None:
        new = {"url": watch.url, "competitor": watch.competitor, "error_streak": 0, "broken_alerted": False}
        conn.execute(_NEW_PAGE, {**new, "variant_reported": False, **values})
    else:
        conn.execute(_UPDATE_PAGE, {"page_id": state.page_id, **values})


def _mark_success(
    conn: Connection,
    watch: Watch,
    result: FetchResult,
    raw_hash: str | None,
    state: PageState | None,
    **extra: Any,
) -> HealthEvent | None:
    """Mark a good fetch on the page row; a page that was reported broken is reported recovered."""
    state = state or read_state(conn, watch.url)
    values: dict[str, Any] = {
        "last_checked_at": result.fetched_at,
        "last_success_at": result.fetched_at,
        "error_streak": 0,
        "broken_alerted": False,
        **extra,
    }
    if not result.not_modified:
        values.update(etag=result.etag, last_modified=result.last_modified)
        if raw_hash:
            values["raw_hash"] = raw_hash
    _write_page(conn, watch, state, values)
    if state.broken_alerted:
        return HealthEvent(watch.url, watch.competitor, "recovered", state.last_error_kind, state.error_streak)
    return None
