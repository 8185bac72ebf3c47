"""Leases: how several daemons sharing one database split the work without doing it twice.

A lease is a row (key, owner, until). Taking it is one atomic statement: an INSERT that, when
the key exists, updates the row only if its lease expired or is already ours (SQLite and
PostgreSQL both speak ``INSERT .. ON CONFLICT .. DO UPDATE .. WHERE``). The statements are
built once: a page check takes and releases a lease, so they are on every check's path. A
daemon that dies simply lets its leases expire.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import ReturningInsert

from monitor.errors import StoreError
from monitor.store_history import utcnow
from monitor.tables import LeaseRow

_TABLE = LeaseRow.__table__  # type: ignore[attr-defined]


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _take_statement(dialect: str) -> ReturningInsert[tuple[str]]:
    new: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        new = sqlite.insert(_TABLE)
    elif dialect == "postgresql":
        new = postgresql.insert(_TABLE)
    else:
        raise StoreError(f"leases need SQLite or PostgreSQL, not {dialect}")
    new = new.values(key=bindparam("key"), owner=bindparam("owner"), until=bindparam("until"))
    return new.on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={"owner": new.excluded.owner, "until": new.excluded.until},
        where=(_TABLE.c.until < bindparam("now")) | (_TABLE.c.owner == new.excluded.owner),
    ).returning(_TABLE.c.key)


_RELEASE = delete(_TABLE).where(_TABLE.c.key == bindparam("key"), _TABLE.c.owner == bindparam("owner"))


class Leases:
    def __init__(self, engine: Engine, *, owner: str | None = None):
        self.engine = engine
        self.owner = owner or new_owner()
        self._take = _take_statement(engine.dialect.name)

    def take(self, key: str, *, ttl: timedelta, conn: Connection | None = None) -> bool:
        """Claim ``key`` for ``ttl``; False when another live owner holds it. In ``conn``'s
        transaction when given (it holds only once that commits), else in its own."""
        if conn is None:
            with self.engine.begin() as own:
                return self.take(key, ttl=ttl, conn=own)
        now = utcnow()
        won = conn.execute(self._take, {"key": key, "owner": self.owner, "until": now + ttl, "now": now})
        return won.first() is not None

    def release(self, key: str, *, conn: Connection | None = None) -> None:
        if conn is None:
            with self.engine.begin() as own:
                own.execute(_RELEASE, {"key": key, "owner": self.owner})
        else:
            conn.execute(_RELEASE, {"key": key, "owner": self.owner})


class Claim:
    """A lease held for one piece of work, given back once: in the work's last write when it
    can be (``monitor.store_checks``), else by ``release`` at the end."""

    def __init__(self, leases: Leases, key: str) -> None:
        self.leases, self.key = leases, key
        self.released = False

    def release(self) -> None:
        if not self.released:
            self.leases.release(self.key)
            self.released = True
