"""Wire the parts together from a config: the only place that knows every component."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from datetime import timedelta
from pathlib import Path

from monitor.config import Config
from monitor.delivery import Dispatcher
from monitor.grading import Grader
from monitor.leases import Leases
from monitor.pipeline import PageOutcome, Pipeline
from monitor.records import Render, Watch
from monitor.store import Store
from monitor.workers import Extractor

log = logging.getLogger("rivalwatch")
DEFAULT_RUBRIC = Path(__file__).resolve().parent.parent / "config" / "rubric.md"


class App:
    """A configured rivalwatch: store, fetchers, classifier, responders and the pipeline."""

    def __init__(self, config: Config, *, confirm_delay: timedelta | None = None, quiet: bool = False):
        from classifiers import CLASSIFIERS
        from monitor.fetch import FETCHERS
        from responders.console import ConsoleResponder, FileResponder
        from responders.slack import SlackResponder

        self.config = config
        self.store = Store.open(config.storage_url, broken_after=config.detect.broken_after)
        self.watches: list[Watch] = config.watches()
        opted_out = [w.url for w in self.watches if not w.respect_robots]
        if opted_out:
            shown = ", ".join(opted_out[:3]) + (f" and {len(opted_out) - 3} more" if len(opted_out) > 3 else "")
            log.warning(
                "robots.txt is not checked for %d pages (robots: false in the config): %s", len(opted_out), shown
            )
        self.fetchers = {render: FETCHERS[render].from_config(config.fetch) for render in Render}
        out = config.output_dir
        responders = config.responders
        self.leases = Leases(self.store.engine)
        self.dispatcher = Dispatcher(
            store=self.store,
            leases=self.leases,
            console=None if (quiet or not responders.console) else ConsoleResponder.from_config(responders),
            file=FileResponder.from_config(responders.file, base_dir=out) if responders.file else None,
            slack=SlackResponder.from_config(responders.slack, env=os.environ) if responders.slack else None,
            console_min=responders.alert_min_severity,
        )
        self.classifier = self._classifier(CLASSIFIERS)
        self.grader = Grader(
            store=self.store,
            classifier=self.classifier,
            dispatcher=self.dispatcher,
            company=config.path(config.company) if config.company else None,
            rubric=self._rubric(),
            watches=self.watches,
        )
        self.extractor = Extractor(workers=config.fetch.extraction_processes(len(self.watches)))
        delay = confirm_delay if confirm_delay is not None else timedelta(seconds=config.detect.confirm_delay)
        self.pipeline = Pipeline(
            store=self.store,
            fetchers=self.fetchers,
            grader=self.grader,
            dispatcher=self.dispatcher,
            leases=self.leases,
            extractor=self.extractor,
            confirm_delay=delay,
        )

    def _rubric(self) -> Path | None:
        """The ops-edited rubric: classifier.rubric, else rubric.md beside the config, else ours."""
        configured = getattr(self.config.classifier, "rubric", None)
        for candidate in (
            self.config.path(configured) if configured else None,
            self.config.path("rubric.md"),
            DEFAULT_RUBRIC,
        ):
            if candidate is not None and candidate.is_file():
                return candidate
        return None

    def _classifier(self, registry: dict) -> object:
        cfg = self.config.classifier
        cls = registry[cfg.provider]
        if cfg.provider == "rules":
            return cls()
        from monitor.llm_ledger import SqlSpendLedger

        return cls.from_config(cfg, ledger=SqlSpendLedger(self.store.engine))

    async def check_all(self, watches: list[Watch] | None = None) -> list[PageOutcome]:
        """Crawl the given watches (default: all) once, concurrently, and deliver alerts."""
        watches = self.watches if watches is None else watches
        await self.grader.grade_pending()
        limit = asyncio.Semaphore(self.config.fetch.concurrency)

        async def one(watch: Watch) -> PageOutcome:
            async with limit:
                return await self.pipeline.check(watch)

        outcomes = await asyncio.gather(*(one(w) for w in watches))
        await self.dispatcher.deliver_due()
        return list(outcomes)

    async def aclose(self) -> None:
        for fetcher in self.fetchers.values():
            result = fetcher.aclose()
            if inspect.isawaitable(result):
                await result
        close_classifier = getattr(self.classifier, "aclose", None)  # the LLM's HTTP client
        if close_classifier is not None:
            await close_classifier()
        await self.extractor.aclose()
        self.store.close()
