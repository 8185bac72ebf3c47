"""Schedules and durations as ops write them: ``6h``, ``1h30m``, ``2d`` or a cron string."""

from __future__ import annotations

import re
from datetime import UTC, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

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


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(expr: str, *, timezone: tzinfo, jitter: int | None = None) -> CronTrigger:
    """A trigger for a standard five-field cron string.

    APScheduler numbers weekdays from Monday = 0, standard cron from Sunday = 0 (and 7), so
    ``1-5`` would silently mean Tuesday to Saturday: numeric weekdays become names first.
    """
    minute, hour, day, month, weekday = expr.split()
    if weekday in ("0-6", "0-7", "1-7"):
        weekday = "*"
    weekday = re.sub(r"\d+", lambda m: _WEEKDAYS[int(m.group())] if int(m.group()) <= 7 else m.group(), weekday)
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=timezone, jitter=jitter
    )


def parse_schedule(text: str, *, jitter: timedelta | None = None) -> Schedule:
    """``every`` accepts a duration (``6h``) or a five-field cron string (``0 7 * * 1-5``)."""
    text = str(text).strip()
    if len(text.split()) == 5:
        try:
            cron_trigger(text, timezone=UTC)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid cron string: {exc}") from None
        return Schedule(cron=text, jitter=jitter if jitter is not None else timedelta(minutes=2))
    every = parse_duration(text)
    default_jitter = min(every / 10, timedelta(minutes=5))
    return Schedule(every=every, jitter=jitter if jitter is not None else default_jitter)
