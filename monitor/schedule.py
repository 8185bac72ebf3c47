"""Schedules and durations as ops write them: ``6h``, ``1h30m``, ``2d`` or a cron string."""

from __future__ import annotations

import re
from datetime import timedelta

from monitor.records import Schedule

_DURATION = re.compile(r"^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")


def parse_duration(text: str) -> timedelta:
    """``"6h"``, ``"1h30m"``, ``"2d"``, ``"45s"`` -> timedelta; raises ValueError otherwise."""
    match = _DURATION.match(str(text))
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration (use forms like 30m, 6h, 1d, 1h30m)")
    d, h, m, s = (int(g or 0) for g in match.groups())
    value = timedelta(days=d, hours=h, minutes=m, seconds=s)
    if value <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return value


def parse_schedule(text: str, *, jitter: timedelta | None = None) -> Schedule:
    """``every`` accepts a duration (``6h``) or a five-field cron string (``0 7 * * 1-5``)."""
    text = str(text).strip()
    if len(text.split()) == 5:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(text)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid cron string: {exc}") from None
        return Schedule(cron=text, jitter=jitter if jitter is not None else timedelta(minutes=2))
    every = parse_duration(text)
    default_jitter = min(every / 10, timedelta(minutes=5))
    return Schedule(every=every, jitter=jitter if jitter is not None else default_jitter)
