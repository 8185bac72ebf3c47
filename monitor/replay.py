"""`rivalwatch replay`: grade stored history again with the current classifier, alerting nobody.

Ops try a new prompt, model or rule on real past changes before switching to it: every
change detected in the window is graded again and shown beside its stored grade, with the
channels the new grade would have reached. Nothing is saved and nothing is sent (an LLM
provider still bills its calls; the spend is recorded as usual).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from monitor.app import App
from monitor.config import Config
from monitor.grading import Held
from monitor.records import Classification, ClassifiedChange
from monitor.store import utcnow


@dataclass(frozen=True, slots=True)
class ReplayRow:
    change_id: int
    competitor: str
    url: str
    stored: Classification
    replayed: Classification | None  # None: held (the classifier is down and the policy holds)
    channels: tuple[str, ...]


def with_provider(config: Config, provider: str | None) -> Config:
    if provider is None or provider == config.classifier.provider:
        return config
    classifier = config.classifier.model_copy(update={"provider": provider})
    return config.model_copy(update={"classifier": classifier})


async def replay(config: Config, *, since: timedelta) -> list[ReplayRow]:
    app = App(config)  # routed as the daemon routes, though nothing is delivered
    rows = []
    try:
        end = utcnow()
        for cc in app.store.changes_between(end - since, end):
            try:
                grade, _ = await app.grader.classify(cc.change, watch=app.grader.watches.get(cc.change.url))
            except Held:
                rows.append(ReplayRow(cc.id, cc.change.competitor, cc.change.url, cc.classification, None, ()))
                continue
            channels = app.dispatcher.channels_for(ClassifiedChange(cc.id, cc.change, grade))
            rows.append(
                ReplayRow(cc.id, cc.change.competitor, cc.change.url, cc.classification, grade, tuple(channels))
            )
    finally:
        await app.aclose()
    return rows


def replay_text(rows: list[ReplayRow]) -> str:
    if not rows:
        return "no stored changes in that period"
    lines = []
    moved = 0
    for row in rows:
        old = f"{row.stored.severity.label}/{row.stored.category.value} ({row.stored.source})"
        if row.replayed is None:
            new = "held: the classifier is unavailable"
        else:
            new = f"{row.replayed.severity.label}/{row.replayed.category.value} ({row.replayed.source})"
            moved += row.replayed.severity != row.stored.severity
        where = ", ".join(row.channels) if row.channels else "nobody"
        lines.append(f"#{row.change_id}  {row.competitor}  {row.url}")
        lines.append(f"    stored {old}  ->  now {new}; would alert: {where}")
        if row.replayed is not None:
            lines.append(f"    {row.replayed.summary[:160]}")
    lines.append("")
    lines.append(f"{len(rows)} changes graded again; {moved} would change severity. Nothing was saved or sent.")
    return "\n".join(lines)
