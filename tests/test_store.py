"""The store on SQLite and on PostgreSQL: snapshots, changes, grades, outbox, health, volatility."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from monitor.errors import StoreError
from monitor.records import (
    Alert,
    Block,
    BlockChange,
    BlockKind,
    BlockOp,
    Category,
    Change,
    Classification,
    Fact,
    FactChange,
    FetchError,
    FetchErrorKind,
    FetchResult,
    Page,
    PageKind,
    Severity,
    Watch,
)
from monitor.store import Store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = Store.open(f"sqlite:///{tmp_path / 'test.db'}", broken_after=2)
        yield s
        s.close()
        return
    url = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    s = Store.open(f"{url}?options=-csearch_path%3D{schema}", broken_after=2)
    yield s
    s.close()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


WATCH = Watch(competitor="Acme", url="https://acme.example/pricing", kind=PageKind.PRICING)
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def fetched(minutes: int = 0, error: FetchError | None = None) -> FetchResult:
    return FetchResult(url=WATCH.url, fetched_at=NOW + timedelta(minutes=minutes), status=200, text="x", error=error)


def page(price: str) -> Page:
    return Page(
        url=WATCH.url,
        title="Pricing",
        blocks=(
            Block(BlockKind.HEADING, "Pricing"),
            Block(BlockKind.PARAGRAPH, f"Pro {price}", ("Pricing",)),
        ),
        facts=(Fact("price", "Pro", "monthly", price),),
        content_hash=f"hash-{price}",
    )


def change(before_id: int) -> Change:
    return Change(
        url=WATCH.url,
        competitor="Acme",
        page_kind=PageKind.PRICING,
        before_id=before_id,
        after_id=0,
        detected_at=NOW + timedelta(minutes=5),
        blocks=(BlockChange(BlockOp.MODIFIED, BlockKind.PARAGRAPH, ("Pricing",), "Pro $49", "Pro $59"),),
        facts=(FactChange("price", "Pro", "monthly", "$49", "$59"),),
        diff_html="<del>$49</del><ins>$59</ins>",
    )


GRADE = Classification(Severity.CRITICAL, Category.PRICING, "Pro rose to $59.", ("Pro monthly: $49 → $59",))


def alert(channel: str, change_id: int) -> Alert:
    return Alert(change_id, channel, "Acme", WATCH.url, Severity.CRITICAL, "Acme: price", "Pro rose")


def test_snapshot_change_grade_and_outbox_round_trip(store):
    base, cid, _ = store.record_snapshot(WATCH, fetched(), page("$49"), raw_hash="r1")
    assert cid is None and store.page_state(WATCH.url).last_id == base
    assert store.snapshot(base).page == page("$49")
    after, cid, _ = store.record_snapshot(WATCH, fetched(5), page("$59"), raw_hash="r2", change=change(base))
    assert cid is not None and store.ungraded()[0][1].after_id == after
    assert store.page_state(WATCH.url).last_hash == page("$59").content_hash

    store.save_grade(cid, GRADE, [alert("console", cid), alert("slack:#ci", cid)])
    store.save_grade(cid, GRADE, [alert("console", cid)])  # a re-grade queues nothing again
    due = store.due_alerts()
    assert sorted(a.channel for _, a in due) == ["console", "slack:#ci"]
    assert store.ungraded() == []

    store.mark_delivered(due[0][0])
    store.mark_failed(due[1][0], "slack down")
    assert store.due_alerts() == []  # the failed one waits for its backoff
    later = datetime.now(UTC) + timedelta(hours=2)
    assert [a.channel for _, a in store.due_alerts(now=later)] == [due[1][1].channel]

    cc = store.last_change(WATCH.url)
    assert cc is not None and cc.classification == GRADE and cc.change.facts[0].after == "$59"
    assert cc.change.blocks[0].after == "Pro $59"
    assert [s.page.facts for s in store.snapshots(WATCH.url)] == [page("$49").facts, page("$59").facts]
    assert store.changes_between(NOW, NOW + timedelta(hours=1))[0].id == cid
    assert [c.id for c in store.uncarded("Acme")] == [cid]
    store.mark_carded([cid])
    assert store.uncarded("Acme") == []


def test_health_reports_broken_once_and_recovered_once(store):
    err = FetchError(FetchErrorKind.HTTP_STATUS, "503 Service Unavailable")
    store.record_snapshot(WATCH, fetched(), page("$49"), raw_hash="r1")
    assert store.record_error(WATCH, fetched(1, err)) is None
    broken = store.record_error(WATCH, fetched(2, err))
    assert broken is not None and broken.kind == "broken" and broken.streak == 2
    assert store.record_error(WATCH, fetched(3, err)) is None  # reported once per incident
    assert store.health()[0].error_streak == 3
    recovered = store.record_unchanged(WATCH, fetched(4), raw_hash=None)
    assert recovered is not None and recovered.kind == "recovered"
    assert store.record_unchanged(WATCH, fetched(5), raw_hash=None) is None
    # the recovery is in the page's history; a plain unchanged check only updates the page row
    assert [c.status for c in store.checks(WATCH.url)][:2] == ["unchanged", "error"]


def test_volatile_slots_accumulate(store):
    from monitor.volatility import SlotPattern

    viewing = SlotPattern(BlockKind.PARAGRAPH, ("Pricing",), "", " people viewing")
    quote = SlotPattern(BlockKind.QUOTE, (), "", "", 0)
    store.add_volatile(WATCH.url, {p.signature: p.to_json() for p in (viewing, quote)}, reason="differed")
    store.add_volatile(WATCH.url, {viewing.signature: viewing.to_json()}, reason="differed")
    assert store.volatile_slots(WATCH.url) == [viewing, quote]
    assert [r.hits for r in store.volatile_rows(WATCH.url)] == [2, 1]


def test_a_page_claim_is_given_back_by_the_checks_write_and_only_then(store):
    from monitor.leases import Leases

    a, b = Leases(store.engine, owner="a"), Leases(store.engine, owner="b")
    ttl = timedelta(minutes=10)
    claimed = store.claim_page(WATCH.url, a, key="page:x", ttl=ttl)
    assert claimed is not None and claimed[1].last_id is None
    claim, state = claimed
    assert store.claim_page(WATCH.url, b, key="page:x", ttl=ttl) is None  # a is checking it

    store.record_snapshot(WATCH, fetched(), page("$49"), raw_hash="r1", state=state, claim=claim)
    assert claim.released
    claim.release()  # the usual end of a check: nothing left to give back
    claimed = store.claim_page(WATCH.url, b, key="page:x", ttl=ttl)
    assert claimed is not None and claimed[1].last_id is not None  # b sees a's snapshot with the lease
    claim, state = claimed

    untitled = replace(page("$59"), title=None)  # NOT NULL: the write fails
    with pytest.raises(IntegrityError):  # and the lease stays with its check until the check's end
        store.record_snapshot(WATCH, fetched(), untitled, raw_hash="r2", state=state, claim=claim)
    assert not claim.released and store.claim_page(WATCH.url, a, key="page:x", ttl=ttl) is None
    claim.release()
    assert store.claim_page(WATCH.url, a, key="page:x", ttl=ttl) is not None


def test_processes_opening_a_new_database_at_once_all_get_it(tmp_path):
    for n in range(8):
        assert open_at_once(f"sqlite:///{tmp_path / f'race{n}.db'}", 4) == []


def open_at_once(url: str, count: int) -> list[Exception]:
    """Open one new database from ``count`` threads at the same moment; the errors they met."""
    import threading

    start, opened, errors = threading.Barrier(count), [], []

    def open_it() -> None:
        start.wait()
        try:
            opened.append(Store.open(url))
        except StoreError as exc:  # the loser of the create-table race, before the fix
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in opened:
        store.close()
    return errors
