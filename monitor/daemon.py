"""The daemon: APScheduler runs one job per page, the outbox, the overnight jobs and config reloads.

Ctrl-C or SIGTERM stops it cleanly: no new job starts, jobs in flight finish (each page's
writes are single transactions, so one cut short is rolled back, never half-written).
A bad edit of the config is reported with its file and line and the daemon keeps running
on the last good config.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor import _native
from monitor.app import App
from monitor.config import Config, load_config
from monitor.errors import ConfigError
from monitor.overnight import stage_cards, write_digest_file
from monitor.records import Schedule, Watch
from monitor.schedule import cron_trigger

log = logging.getLogger("rivalwatch.daemon")
RELOAD_EVERY = timedelta(seconds=5)
DELIVER_EVERY = timedelta(seconds=30)
REGRADE_EVERY = timedelta(minutes=10)
STOP_GRACE = timedelta(seconds=60)
DAY = timedelta(hours=20)  # a daily job's lease: long enough to cover the day's run, short of the next


def page_trigger(schedule: Schedule, tz: ZoneInfo) -> BaseTrigger:
    jitter = int(schedule.jitter.total_seconds()) or None
    if schedule.cron:
        return cron_trigger(schedule.cron, timezone=tz, jitter=jitter)
    assert schedule.every is not None
    return IntervalTrigger(seconds=int(schedule.every.total_seconds()), timezone=tz, jitter=jitter)


def daily_trigger(at: str, tz: ZoneInfo) -> CronTrigger:
    hour, minute = (int(x) for x in at.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=tz)


class Daemon:
    def __init__(self, path: Path):
        self.path = path
        self.config: Config = load_config(path)
        self.mtime = path.stat().st_mtime
        self.app: App | None = None
        self.inflight: set[asyncio.Task] = set()
        self.stopping = asyncio.Event()

    def _tracked(self, coro_fn):  # type: ignore[no-untyped-def]
        async def run(*args):  # type: ignore[no-untyped-def]
            if self.stopping.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self.inflight.add(task)
            try:
                await coro_fn(*args)
            except Exception:  # noqa: BLE001 - a failed job is logged; the daemon runs on
                log.exception("job %s failed", coro_fn.__name__)
            finally:
                self.inflight.discard(task)

        return run

    async def check_page(self, url: str) -> None:
        assert self.app is not None
        watch = next((w for w in self.app.watches if w.url == url), None)
        if watch is None:
            return
        outcome = await self.app.pipeline.check(watch)
        log.info("%s %s %s", watch.competitor, url, outcome.status)
        await self.app.dispatcher.deliver_due()

    async def deliver(self) -> None:
        assert self.app is not None
        await self.app.grader.grade_pending()
        await self.app.dispatcher.deliver_due()

    async def regrade(self) -> None:
        assert self.app is not None
        count = await self.app.grader.regrade_fallbacks()
        if count:
            log.warning("graded %d changes again now that the classifier is back", count)
            await self.app.dispatcher.deliver_due()

    async def digest(self) -> None:
        assert self.app is not None
        if not self.app.leases.take(f"digest:{datetime.now(ZoneInfo(self.config.timezone)):%Y-%m-%d}", ttl=DAY):
            return  # another daemon sharing the database wrote today's digest
        path = write_digest_file(self.config, self.app.store)
        log.warning("digest written: %s", path)

    async def stage(self) -> None:
        assert self.app is not None
        if not self.app.leases.take(f"stage:{datetime.now(ZoneInfo(self.config.timezone)):%Y-%m-%d}", ttl=DAY):
            return  # another daemon sharing the database staged tonight's cards
        for path in stage_cards(self.config, self.app.store):
            log.warning("battle-card update staged for review: %s", path)

    async def reload(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except OSError as exc:
            log.error("cannot read the config %s (%s); running on the last good one", self.path, exc.strerror)
            return
        if mtime == self.mtime:
            return
        self.mtime = mtime
        try:
            config = load_config(self.path)
        except ConfigError as exc:
            log.error("the edited config is not valid; running on the last good one:\n%s", exc)
            return
        old = self.app
        self.config, self.app = config, App(config)
        self._schedule_all()
        log.warning("config reloaded: %d pages", len(self.app.watches))
        if old is not None:
            # checks that started on the old config finish on it before its clients, store and
            # parsing workers close under them
            running = self.inflight - {asyncio.current_task()}
            if running:
                await asyncio.wait(running, timeout=STOP_GRACE.total_seconds())
            await old.aclose()

    def _schedule_all(self) -> None:
        assert self.app is not None
        tz = ZoneInfo(self.config.timezone)
        for job in self.scheduler.get_jobs():
            if job.id.startswith("page:") or job.id in ("digest", "stage"):
                job.remove()
        now = datetime.now(tz)
        for i, watch in enumerate(self.app.watches):
            self._schedule_page(watch, tz, first=now + timedelta(seconds=2 + i % 30))
        responders = self.config.responders
        self.scheduler.add_job(self._tracked(self.digest), daily_trigger(responders.digest.at, tz), id="digest")
        self.scheduler.add_job(
            self._tracked(self.stage), daily_trigger(responders.battlecards.stage_at, tz), id="stage"
        )

    def _schedule_page(self, watch: Watch, tz: ZoneInfo, *, first: datetime) -> None:
        self.scheduler.add_job(
            self._tracked(self.check_page),
            page_trigger(watch.schedule, tz),
            args=[watch.url],
            id=f"page:{watch.url}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
            next_run_time=first,
        )

    async def run(self) -> None:
        self.app = App(self.config)
        self.scheduler = AsyncIOScheduler(timezone=ZoneInfo(self.config.timezone))
        self._schedule_all()
        self.scheduler.add_job(
            self._tracked(self.deliver), IntervalTrigger(seconds=DELIVER_EVERY.seconds), id="deliver"
        )
        self.scheduler.add_job(self._tracked(self.reload), IntervalTrigger(seconds=RELOAD_EVERY.seconds), id="reload")
        self.scheduler.add_job(
            self._tracked(self.regrade), IntervalTrigger(seconds=int(REGRADE_EVERY.total_seconds())), id="regrade"
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        self.scheduler.start()
        log.warning("rivalwatch running: %d pages from %s; parser %s", len(self.app.watches), self.path, _native.mode())
        await self.stopping.wait()
        log.warning("stopping: waiting for %d jobs in flight", len(self.inflight))
        self.scheduler.pause()  # no new job starts; the ones running may finish
        if self.inflight:
            await asyncio.wait(set(self.inflight), timeout=STOP_GRACE.total_seconds())
        # what is still running past the grace is cancelled: its transaction rolls back
        self.scheduler.shutdown(wait=False)
        await self.app.aclose()
        log.warning("stopped")


def run_daemon(path: Path) -> int:
    asyncio.run(Daemon(path).run())
    return 0
