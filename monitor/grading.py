"""Grade a stored change and queue its alerts in the same transaction.

The configured classifier grades; when it fails, the rules classifier grades instead, the
grade says so in its source (``llm-failed→rules``), and the change is marked for a re-grade.
A flapping page's variant is reported once; after that its flips are graded ``none``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from classifiers.rules import RulesClassifier
from monitor.delivery import Dispatcher
from monitor.errors import BudgetExceeded, ClassifierError
from monitor.records import (
    Category,
    Change,
    Classification,
    ClassifiedChange,
    ClassifyContext,
    Severity,
    Watch,
)
from monitor.store import Store

log = logging.getLogger("rivalwatch.grading")


def _read(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc.strerror)
        return ""


class Held(Exception):  # noqa: N818 - a state, not a failure
    """The classifier is down and the config holds changes back until it is back."""


class Grader:
    def __init__(
        self,
        *,
        store: Store,
        classifier: object,
        dispatcher: Dispatcher,
        company: Path | None = None,
        rubric: Path | None = None,
        watches: list[Watch] = (),  # type: ignore[assignment]
    ):
        self.store = store
        self.classifier = classifier
        self.rules = RulesClassifier()
        self.dispatcher = dispatcher
        self.company = _read(company)
        self.rubric = _read(rubric)
        self.watches = {w.url: w for w in watches}

    def context(self, watch: Watch | None) -> ClassifyContext:
        card = _read(watch.battlecard) if watch is not None else ""
        return ClassifyContext(company=self.company, battlecard=card, rubric=self.rubric)

    async def classify(self, change: Change, *, watch: Watch | None) -> tuple[Classification, bool]:
        """The grade, and whether it came from a fallback and should be graded again later.

        Raises ``Held`` when the classifier is down and the config says to hold changes back.
        """
        context = self.context(watch)
        try:
            return await self.classifier.classify(change, context=context), False  # type: ignore[attr-defined]
        except ClassifierError as exc:
            if getattr(exc, "hold", False):
                log.warning("classifier unavailable for %s (%s); holding the change until it is back", change.url, exc)
                raise Held(str(exc)) from exc
            log.warning("classifier failed for %s (%s); grading by rules", change.url, exc)
            grade = await self.rules.classify(change, context=context)
            # the digest tells a spent budget apart from a model that failed
            source = "budget→rules" if isinstance(exc, BudgetExceeded) else "llm-failed→rules"
            return replace(grade, source=source), True

    async def grade(
        self,
        change_id: int,
        change: Change,
        *,
        watch: Watch | None,
        variant: bool = False,
        quiet: bool = False,
    ) -> ClassifiedChange:
        if quiet:
            grade = Classification(
                severity=Severity.NONE,
                category=Category.NONE,
                summary="The page flips between versions it has shown before (an A/B test or rotating "
                "variant); already reported once, so this flip is not alerted.",
                source="rules",
                confidence=0.8,
            )
            fallback = False
        else:
            grade, fallback = await self.classify(change, watch=watch)
            if variant:
                grade = replace(grade, summary=f"Variant: the page returned to a version seen before. {grade.summary}")
        graded = ClassifiedChange(change_id, change, grade)
        self.store.save_grade(change_id, grade, self.dispatcher.alerts_for(graded), regrade=fallback)
        return graded

    async def grade_pending(self) -> int:
        """Grade changes stored but never graded (the daemon stopped in between, or they were held)."""
        count = 0
        for change_id, change in self.store.ungraded():
            try:
                await self.grade(change_id, change, watch=self.watches.get(change.url))
            except Held:
                break  # still down: try again on the next round
            count += 1
        return count

    async def regrade_fallbacks(self) -> int:
        """Grade again the changes a fallback graded; stops at the first that falls back again."""
        if isinstance(self.classifier, RulesClassifier):
            return 0
        count = 0
        for change_id, change in self.store.to_regrade():
            try:
                grade, fallback = await self.classify(change, watch=self.watches.get(change.url))
            except Held:
                break
            if fallback:
                break
            graded = ClassifiedChange(change_id, change, grade)
            self.store.save_grade(change_id, grade, self.dispatcher.alerts_for(graded), regrade=False)
            count += 1
        return count
