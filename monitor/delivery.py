"""Route graded changes to channels, queue alerts in the outbox, and deliver them once.

Channels: ``console``, ``file`` and ``slack:<channel>``. An alert leaves the outbox only when
its responder delivered it; a failed delivery is retried later with backoff, never dropped.
"""

from __future__ import annotations

import inspect
import logging
from datetime import datetime, timedelta
from typing import Any

from monitor.errors import DeliveryError
from monitor.leases import Leases
from monitor.records import Alert, ClassifiedChange, HealthEvent, Severity
from monitor.store import Store
from monitor.store_history import utcnow
from responders.alerts import render_alert, render_health_alert

log = logging.getLogger("rivalwatch.delivery")
OUTBOX_LEASE = timedelta(minutes=5)


class Dispatcher:
    def __init__(
        self,
        *,
        store: Store,
        console: Any | None,
        file: Any | None,
        slack: Any | None,
        leases: Leases,
        console_min: Severity = Severity.MEDIUM,
    ):
        self.store = store
        self.console = console
        self.file = file
        self.slack = slack
        self.console_min = console_min
        self.leases = leases

    def channels_for(self, cc: ClassifiedChange) -> list[str]:
        severity = cc.classification.severity
        if severity <= Severity.NONE:
            return []
        channels = []
        if self.console is not None and severity >= self.console_min:
            channels.append("console")
        if self.file is not None:
            channels.append("file")
        if self.slack is not None:
            channels += [f"slack:{name}" for name in self.slack.routes(cc)]
        return channels

    def alerts_for(self, cc: ClassifiedChange) -> list[Alert]:
        return [render_alert(cc, channel=channel) for channel in self.channels_for(cc)]

    def queue_health(self, event: HealthEvent) -> None:
        channels = [c for c, on in (("console", self.console), ("file", self.file)) if on is not None]
        if self.slack is not None:
            channels += [f"slack:{name}" for name in self.slack.health_routes(event.competitor)]
        for channel in channels:
            alert = render_health_alert(event, channel=channel)
            self.store.enqueue(alert, key=f"health:{event.url}:{event.kind}:{event.streak}:{channel}:{_now_key()}")

    def _responder(self, channel: str) -> Any | None:
        if channel == "console":
            return self.console
        if channel == "file":
            return self.file
        if channel.startswith("slack:"):
            return self.slack
        return None

    async def deliver_due(self, *, now: datetime | None = None) -> tuple[int, int]:
        """Deliver every alert due by ``now`` (default: now); returns (delivered, failed)."""
        delivered = failed = 0
        for outbox_id, alert in self.store.due_alerts(now=now):
            key = f"outbox:{outbox_id}"
            if not self.leases.take(key, ttl=OUTBOX_LEASE):
                continue  # another daemon sharing the database is delivering it
            try:
                if self.store.is_delivered(outbox_id):
                    continue  # another daemon just did
                ok = await self._deliver_one(outbox_id, alert)
                delivered += ok
                failed += not ok
            finally:
                self.leases.release(key)
        return delivered, failed

    async def _deliver_one(self, outbox_id: int, alert: Alert) -> bool:
        responder = self._responder(alert.channel)
        if responder is None:
            self.store.mark_failed(outbox_id, f"no responder configured for {alert.channel}")
            return False
        try:
            result = responder.deliver(alert)
            if inspect.isawaitable(result):
                await result
        except DeliveryError as exc:
            log.warning("delivery to %s failed, will retry: %s", alert.channel, exc)
            self.store.mark_failed(outbox_id, str(exc))
            return False
        self.store.mark_delivered(outbox_id)
        return True


def _now_key() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%S")
