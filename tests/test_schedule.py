"""Schedules as ops write them, and the triggers the daemon builds from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from monitor.daemon import daily_trigger, page_trigger
from monitor.records import Schedule
from monitor.schedule import parse_schedule

CASES = yaml.safe_load((Path(__file__).parent / "data" / "schedule_cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_parse_schedule(case):
    if "error" in case:
        with pytest.raises(ValueError, match=case["error"]):
            parse_schedule(case["every"])
        return
    schedule = parse_schedule(case["every"])
    assert schedule.jitter.total_seconds() == case["jitter_s"]
    if "cron" in case:
        assert schedule.cron == case["cron"] and schedule.every is None
    else:
        assert schedule.every is not None and schedule.every.total_seconds() == case["interval_s"]


def test_the_digest_runs_at_local_time_in_the_configured_zone():
    berlin = ZoneInfo("Europe/Berlin")
    trigger = daily_trigger("07:00", berlin)
    winter = trigger.get_next_fire_time(None, datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
    assert winter.astimezone(UTC) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    summer = trigger.get_next_fire_time(None, datetime(2026, 7, 1, 6, 0, tzinfo=UTC))
    assert summer.astimezone(UTC) == datetime(2026, 7, 2, 5, 0, tzinfo=UTC)


def test_page_triggers_follow_interval_and_cron():
    tz = ZoneInfo("UTC")
    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    # standard cron weekdays: 1-5 is Monday to Friday (APScheduler alone would read Tuesday to Saturday)
    weekdays = page_trigger(Schedule(cron="0 7-19 * * 1-5"), tz)
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert weekdays.get_next_fire_time(None, saturday) == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    sundays = page_trigger(Schedule(cron="30 6 * * 0"), tz)
    assert sundays.get_next_fire_time(None, saturday) == datetime(2026, 11, 29, 6, 30, tzinfo=UTC)
    every = page_trigger(Schedule(every=timedelta(hours=6)), tz)
    first = every.get_next_fire_time(None, now)
    assert every.get_next_fire_time(first, first) - first == timedelta(hours=6)
    jittered = page_trigger(parse_schedule("0 7 * * *"), tz)  # cron with jitter builds too
    assert jittered.get_next_fire_time(None, now) is not None
