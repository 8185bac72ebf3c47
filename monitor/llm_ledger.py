"""The LLM spend ledger and answer cache on SQLModel: the real ``SpendLedger``.

Two tables, created by ``SqlSpendLedger(engine)`` if missing: ``llm_call`` (one row per
request, paid or failed) and ``llm_cache`` (validated answers keyed by model, prompt
version and change content). Several daemon replicas may share them on PostgreSQL: a cache
key written twice keeps the first answer. Timestamps are aware UTC.
``costs_report`` returns the rows ``rivalwatch costs`` prints: spend by day, competitor and model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Column, Table, Text, case, func
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col, select

from classifiers.budget import LLMCall
from monitor.errors import StoreError


class LLMCallRow(SQLModel, table=True):
    __tablename__ = "llm_call"
    id: int | None = Field(default=None, primary_key=True)
    ts: datetime = Field(index=True)
    model: str
    competitor: str = Field(default="", index=True)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    ok: bool = True
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class LLMCacheRow(SQLModel, table=True):
    __tablename__ = "llm_cache"
    key: str = Field(primary_key=True, max_length=64)
    response: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


LEDGER_TABLES: list[Table] = [SQLModel.metadata.tables[name] for name in ("llm_call", "llm_cache")]


def _utc(ts: datetime) -> datetime:
    """Aware UTC; a naive time is taken to be UTC already."""
    return ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)


class SqlSpendLedger:
    """Records LLM calls, sums their cost and caches answers in the rivalwatch database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        try:
            SQLModel.metadata.create_all(engine, tables=LEDGER_TABLES)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the LLM ledger tables: {exc}") from exc

    def record_call(self, call: LLMCall) -> None:
        row = LLMCallRow(
            ts=_utc(call.ts),
            model=call.model,
            competitor=call.competitor,
            prompt_tokens=call.prompt_tokens,
            completion_tokens=call.completion_tokens,
            cost=call.cost,
            ok=call.ok,
            error=call.error,
        )
        try:
            with Session(self.engine) as session:
                session.add(row)
                session.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record an LLM call: {exc}") from exc

    def spent_since(self, since: datetime) -> float:
        query = select(func.coalesce(func.sum(col(LLMCallRow.cost)), 0.0)).where(col(LLMCallRow.ts) >= _utc(since))
        try:
            with Session(self.engine) as session:
                return float(session.exec(query).one())
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot sum LLM spend: {exc}") from exc

    def cache_get(self, key: str) -> str | None:
        try:
            with Session(self.engine) as session:
                row = session.get(LLMCacheRow, key)
                return row.response if row is not None else None
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read the LLM cache: {exc}") from exc

    def cache_put(self, key: str, response: str) -> None:
        try:
            with Session(self.engine) as session:
                if session.get(LLMCacheRow, key) is not None:
                    return
                session.add(LLMCacheRow(key=key, response=response, created_at=_utc(datetime.now(UTC))))
                session.commit()
        except IntegrityError:
            pass  # another replica cached the same change between our read and write
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot write the LLM cache: {exc}") from exc


@dataclass(frozen=True, slots=True)
class CostRow:
    """Spend of one day, competitor and model (UTC days)."""

    day: date
    competitor: str
    model: str
    calls: int
    failed: int
    prompt_tokens: int
    completion_tokens: int
    cost: float


def costs_report(engine: Engine, *, since: datetime) -> list[CostRow]:
    """Spend since ``since``, by day, competitor and model; oldest day first, then by cost."""
    SQLModel.metadata.create_all(engine, tables=LEDGER_TABLES)
    # days are UTC days, like the budget's; PostgreSQL would otherwise use the session's zone
    ts = func.timezone("UTC", col(LLMCallRow.ts)) if engine.dialect.name == "postgresql" else col(LLMCallRow.ts)
    day = func.date(ts)
    query = (
        core_select(
            day,
            col(LLMCallRow.competitor),
            col(LLMCallRow.model),
            func.count(),
            func.sum(case((col(LLMCallRow.ok).is_(False), 1), else_=0)),
            func.sum(col(LLMCallRow.prompt_tokens)),
            func.sum(col(LLMCallRow.completion_tokens)),
            func.sum(col(LLMCallRow.cost)),
        )
        .where(col(LLMCallRow.ts) >= _utc(since))
        .group_by(day, col(LLMCallRow.competitor), col(LLMCallRow.model))
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read LLM spend: {exc}") from exc
    out = [
        CostRow(
            day=d if isinstance(d, date) else date.fromisoformat(str(d)),
            competitor=competitor,
            model=model,
            calls=int(calls),
            failed=int(failed or 0),
            prompt_tokens=int(prompt or 0),
            completion_tokens=int(completion or 0),
            cost=float(cost or 0.0),
        )
        for d, competitor, model, calls, failed, prompt, completion, cost in rows
    ]
    return sorted(out, key=lambda r: (r.day, -r.cost, r.competitor, r.model))


def format_costs(rows: list[CostRow]) -> str:
    """The report as a plain-text table with a total line, for ``rivalwatch costs``."""
    if not rows:
        return "No LLM calls in this period.\n"
    head = ("day", "competitor", "model", "calls", "failed", "tokens in", "tokens out", "USD")
    body = [
        (
            str(r.day),
            r.competitor,
            r.model,
            str(r.calls),
            str(r.failed),
            str(r.prompt_tokens),
            str(r.completion_tokens),
            f"{r.cost:.4f}",
        )
        for r in rows
    ]
    total = (
        "total",
        "",
        "",
        str(sum(r.calls for r in rows)),
        str(sum(r.failed for r in rows)),
        str(sum(r.prompt_tokens for r in rows)),
        str(sum(r.completion_tokens for r in rows)),
        f"{sum(r.cost for r in rows):.4f}",
    )
    table = [head, *body, total]
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]

    def render(line: tuple[str, ...]) -> str:
        # text columns left-aligned, numbers right-aligned
        cells = [c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))]
        return "  ".join(cells).rstrip()

    return "\n".join(render(line) for line in table) + "\n"
