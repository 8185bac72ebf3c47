"""One page, once, through the whole flow: fetch -> extract -> store -> diff -> classify -> respond.

``Pipeline.check(watch)`` returns a ``PageOutcome``; it never raises for a bad page. Each
stage's output is stored before the next stage runs (see ``monitor.store``), so a crash
anywhere loses nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from monitor.delivery import Dispatcher
from monitor.diff import block_signature, diff_snapshots
from monitor.grading import Grader, Held
from monitor.leases import Claim, Leases
from monitor.noise import confirm_change, is_flapping
from monitor.normalize import normalizing
from monitor.records import (
    ClassifiedChange,
    FetchError,
    FetchErrorKind,
    FetchResult,
    HealthEvent,
    Page,
    Snapshot,
    Watch,
)
from monitor.store import PageState, Store
from monitor.volatility import SlotPattern, learn_slots, volatile_signatures
from monitor.workers import Extractor

log = logging.getLogger("rivalwatch.pipeline")
PAGE_LEASE = timedelta(minutes=10)  # longer than any one check: fetch retries plus confirmation
LEASE_POLL = 0.5


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """What one check of one page came to; the unit of `rivalwatch once --json`."""

    competitor: str
    url: str
    status: str  # first | unchanged | noise | changed | error
    error: FetchError | None = None
    change: ClassifiedChange | None = None
    health: HealthEvent | None = None
    held_change_id: int | None = None  # detected, but held back ungraded until the LLM is back

    def to_json(self) -> dict:
        out: dict = {"competitor": self.competitor, "url": self.url, "status": self.status, "error": None}
        if self.error is not None:
            out["error"] = {"kind": self.error.kind.value, "message": self.error.message}
        out["change"] = None
        if self.held_change_id is not None:
            out["change"] = {
                "id": self.held_change_id,
                "severity": None,
                "category": None,
                "summary": "Held: the LLM classifier is unavailable and the config holds changes until it is back.",
                "facts": [],
                "source": "held",
                "confidence": 0.0,
            }
        if self.change is not None:
            grade = self.change.classification
            out["change"] = {
                "id": self.change.id,
                "severity": grade.severity.label,
                "category": grade.category.value,
                "summary": grade.summary,
                "facts": list(grade.facts),
                "source": grade.source,
                "confidence": grade.confidence,
            }
        return out


def raw_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Pipeline:
    def __init__(
        self,
        *,
        store: Store,
        fetchers: dict,
        grader: Grader,
        dispatcher: Dispatcher,
        leases: Leases,
        extractor: Extractor | None = None,
        confirm_delay: timedelta = timedelta(seconds=2),
    ):
        self.store = store
        self.fetchers = fetchers
        self.grader = grader
        self.dispatcher = dispatcher
        self.leases = leases
        self.extractor = extractor or Extractor()
        self.confirm_delay = confirm_delay

    async def check(self, watch: Watch) -> PageOutcome:
        """Check one page. The only broad ``except``: one page's failure never stops the others.

        The page is leased for the check, so daemons sharing a database never check it at once
        (that would store one change twice); a check that finds the page leased waits its turn.
        """
        key = f"page:{watch.url}"
        waited = 0.0
        while (claimed := self.store.claim_page(watch.url, self.leases, key=key, ttl=PAGE_LEASE)) is None:
            if waited >= PAGE_LEASE.total_seconds():
                error = FetchError(FetchErrorKind.TIMEOUT, "another daemon has been checking this page for too long")
                return PageOutcome(watch.competitor, watch.url, "error", error)
            await asyncio.sleep(LEASE_POLL)
            waited += LEASE_POLL
        claim, state = claimed
        try:
            with normalizing(watch.normalize):  # block keys and signatures by this page's options
                return await self._check(watch, state, claim)
        except Exception as exc:  # noqa: BLE001 - isolate one watch's run from the others
            log.exception("checking %s failed", watch.url)
            return PageOutcome(
                watch.competitor,
                watch.url,
                "error",
                FetchError(FetchErrorKind.EXTRACT, f"internal error: {exc!r}"),
            )
        finally:
            claim.release()  # when no record gave the lease back (an internal error)

    async def _check(self, watch: Watch, state: PageState, claim: Claim) -> PageOutcome:
        """Each outcome is one write, which also gives the page's lease back (``claim``)."""
        fetcher = self.fetchers[watch.render]
        result: FetchResult = await fetcher.fetch(
            watch,
            etag=state.etag if state.last_id else None,
            last_modified=state.last_modified if state.last_id else None,
        )
        if result.error is not None:
            return self._failed(watch, result, result.error, state, claim)
        if result.not_modified or (state.last_id is not None and raw_hash(result.text or "") == state.raw_hash):
            event = self.store.record_unchanged(watch, result, raw_hash=None, state=state, claim=claim)
            return self._outcome(watch, "unchanged", health=event)

        assert result.text is not None
        digest = raw_hash(result.text)
        extracted = await self.extractor.extract(result.text, watch, unless=state.last_hash)
        if extracted is None:  # the same content as the last snapshot
            event = self.store.record_unchanged(watch, result, raw_hash=digest, state=state, claim=claim)
            return self._outcome(watch, "unchanged", health=event)
        if not extracted.block_count:
            error = FetchError(FetchErrorKind.EMPTY, "the page has no readable text")
            return self._failed(watch, result, error, state, claim)
        if state.last_id is None:
            _, _, event = self.store.record_snapshot(
                watch, result, extracted, raw_hash=digest, state=state, claim=claim
            )
            return self._outcome(watch, "first", health=event)

        page = extracted.page
        last = self.store.snapshot(state.last_id)
        slots = self.store.volatile_slots(watch.url)
        volatile = effective_volatile(watch, slots, (last.page, page))
        change = diff_snapshots(watch, last, _draft(result, page), volatile=volatile)
        if change is not None:
            page, slots = await self._confirm(watch, last.page, page, slots)
            volatile = effective_volatile(watch, slots, (last.page, page))
            change = diff_snapshots(watch, last, _draft(result, page), volatile=volatile)
        if change is None:
            event = self.store.record_unchanged(watch, result, raw_hash=digest, state=state, claim=claim)
            return self._outcome(watch, "unchanged", health=event)

        flapping = is_flapping(self.store.content_hashes(watch.url), page.content_hash)
        quiet_variant = flapping and state.variant_reported
        snapshot_id, change_id, event = self.store.record_snapshot(
            watch, result, page, raw_hash=digest, change=change, variant=flapping, state=state, claim=claim
        )
        assert change_id is not None
        stored = replace(change, after_id=snapshot_id)
        try:
            graded = await self.grader.grade(change_id, stored, watch=watch, variant=flapping, quiet=quiet_variant)
        except Held:
            if event is not None:
                self.dispatcher.queue_health(event)
            return PageOutcome(watch.competitor, watch.url, "changed", held_change_id=change_id, health=event)
        status = "changed" if graded.classification.severity > 0 else "noise"
        return self._outcome(watch, status, change=graded, health=event)

    async def _confirm(
        self, watch: Watch, before: Page, first: Page, slots: list[SlotPattern]
    ) -> tuple[Page, list[SlotPattern]]:
        """Fetch again; keep what both fetches agree on and learn the slots that differed as volatile."""
        if self.confirm_delay:
            await asyncio.sleep(self.confirm_delay.total_seconds())
        second = await self.fetchers[watch.render].fetch(watch)
        if second.error is not None or second.text is None:
            log.info("confirmation fetch of %s failed (%s); keeping the first fetch", watch.url, second.error)
            return first, slots
        extracted = await self.extractor.extract(second.text, watch)
        assert extracted is not None  # asked without ``unless``
        second_page = extracted.page
        agreed, learned = confirm_change(before, first, second_page)
        if not learned:
            return agreed, slots
        new = [p for p in learn_slots(first, second_page, learned) if p not in slots]
        self.store.add_volatile(
            watch.url, {p.signature: p.to_json() for p in new}, reason="differed between two fetches moments apart"
        )
        return agreed, slots + new

    def _failed(
        self, watch: Watch, result: FetchResult, error: FetchError, state: PageState, claim: Claim
    ) -> PageOutcome:
        failed = replace(result, error=error, text=None)
        event = self.store.record_error(watch, failed, state=state, claim=claim)
        if event is not None:
            self.dispatcher.queue_health(event)
        return PageOutcome(watch.competitor, watch.url, "error", error, health=event)

    def _outcome(self, watch: Watch, status: str, *, change=None, health=None) -> PageOutcome:  # type: ignore[no-untyped-def]
        if health is not None:
            self.dispatcher.queue_health(health)
        return PageOutcome(watch.competitor, watch.url, status, None, change, health)


def effective_volatile(watch: Watch, slots: list[SlotPattern], pages: tuple[Page, ...]) -> frozenset[str]:
    """Signatures of the blocks in learned volatile slots (less those ops unpinned), plus those ops pinned."""
    if watch.unpin:
        slots = [p for p in slots if not p.signature.startswith(watch.unpin)]
    found = set(volatile_signatures(slots, pages))
    if watch.pin:
        found |= {sig for p in pages for b in p.blocks if (sig := block_signature(b)).startswith(watch.pin)}
    return frozenset(found)


def _draft(result: FetchResult, page: Page) -> Snapshot:
    """The new page as a snapshot-to-be (id 0) for diffing before it is stored."""
    return Snapshot(id=0, url=result.url, taken_at=result.fetched_at, page=page)
