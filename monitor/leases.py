"""Leases: how several daemons sharing one database split the work without doing it twice.

A lease is a row (key, owner, until). Taking it is one atomic statement — an UPDATE of an
expired or own lease, else an INSERT that a unique key lets only one daemon win — so it
works the same on SQLite and PostgreSQL. A daemon that dies simply lets its leases expire.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from monitor.store_history import utcnow
from monitor.tables import LeaseRow


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    def __init__(self, engine: Engine, *, owner: str | None = None):
        self.engine = engine
        self.owner = owner or new_owner()

    def take(self, key: str, *, ttl: timedelta) -> bool:
        """Claim ``key`` for ``ttl``; False when another live owner holds it."""
        now = utcnow()
        table = LeaseRow.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(table)
                .where(table.c.key == key)
                .where((table.c.until < now) | (table.c.owner == self.owner))
                .values(owner=self.owner, until=now + ttl)
            ).rowcount
            if taken:
                return True
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(key=key, owner=self.owner, until=now + ttl))
            return True
        except IntegrityError:
            return False

    def release(self, key: str) -> None:
        table = LeaseRow.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key == key, table.c.owner == self.owner))
