"""LLM spend as a budget line: prices per model, the ledger of calls, and the hard caps.

Every call to a model is recorded with its tokens and cost; before a call, the spend of the
current UTC day and month plus the worst case of the call about to be made is checked
against the caps, so the caps are never overshot by more than an estimate's error.
``SpendLedger`` is the store's side of it (``monitor.llm_ledger.SqlSpendLedger``);
``InMemorySpendLedger`` is for unit tests only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from monitor.config import ClassifierConfig
from monitor.errors import BudgetExceeded, ClassifierError

# A token is about four characters of English; three is a pessimistic guess for estimates.
CHARS_PER_TOKEN_ESTIMATE = 3


@dataclass(frozen=True, slots=True)
class LLMCall:
    """One request to a model, paid or failed, as the ledger records it."""

    ts: datetime  # UTC
    model: str
    competitor: str
    prompt_tokens: int
    completion_tokens: int
    cost: float  # US dollars
    ok: bool
    error: str | None = None


class SpendLedger(Protocol):
    """Where calls are recorded, spend is summed and graded answers are cached."""

    def record_call(self, call: LLMCall) -> None:
        """Persist one call (successful or not)."""

    def spent_since(self, since: datetime) -> float:
        """US dollars spent on calls at or after ``since`` (UTC)."""

    def cache_get(self, key: str) -> str | None:
        """A cached model answer (JSON text) for ``key``, or None."""

    def cache_put(self, key: str, response: str) -> None:
        """Cache a validated model answer; writing the same key twice is harmless."""


@dataclass(frozen=True, slots=True)
class Price:
    input_per_1m: float
    output_per_1m: float

    def cost(self, *, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_1m + completion_tokens * self.output_per_1m) / 1_000_000


@dataclass(frozen=True, slots=True)
class PriceTable:
    """US dollars per million tokens per model, from ``classifier.prices``."""

    prices: dict[str, Price]

    @classmethod
    def from_config(cls, cfg: ClassifierConfig) -> PriceTable:
        return cls({m: Price(p.input_per_1m, p.output_per_1m) for m, p in cfg.prices.items()})

    def price(self, model: str) -> Price:
        try:
            return self.prices[model]
        except KeyError:
            # an unpriced model cannot be budgeted; config validation makes this unreachable
            raise ClassifierError(f"no price configured for model {model!r}") from None

    def cost(self, model: str, *, prompt_tokens: int, completion_tokens: int) -> float:
        return self.price(model).cost(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def estimate_tokens(text: str) -> int:
    return max(1, -(-len(text) // CHARS_PER_TOKEN_ESTIMATE))


def start_of_day(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def start_of_month(now: datetime) -> datetime:
    return start_of_day(now).replace(day=1)


@dataclass(frozen=True, slots=True)
class Budget:
    """The daily and monthly caps in US dollars; None means no cap."""

    daily_usd: float | None
    monthly_usd: float | None

    @classmethod
    def from_config(cls, cfg: ClassifierConfig) -> Budget:
        return cls(cfg.budget.daily_usd, cfg.budget.monthly_usd)

    def check(self, ledger: SpendLedger, *, now: datetime, next_call_cost: float) -> None:
        """Raise ``BudgetExceeded`` when the next call could take spend over a cap."""
        caps = (
            ("daily", self.daily_usd, start_of_day(now)),
            ("monthly", self.monthly_usd, start_of_month(now)),
        )
        for name, cap, since in caps:
            if cap is None:
                continue
            spent = ledger.spent_since(since)
            if spent + next_call_cost > cap:
                raise BudgetExceeded(
                    f"LLM {name} budget: ${spent:.4f} spent of ${cap:.2f}; "
                    f"the next call could cost ${next_call_cost:.4f}"
                )


class InMemorySpendLedger:
    """A ledger in a list and a dict: for unit tests of one module, never for the daemon."""

    def __init__(self) -> None:
        self.calls: list[LLMCall] = []
        self.cache: dict[str, str] = {}

    def record_call(self, call: LLMCall) -> None:
        self.calls.append(call)

    def spent_since(self, since: datetime) -> float:
        return sum(c.cost for c in self.calls if c.ts >= since)

    def cache_get(self, key: str) -> str | None:
        return self.cache.get(key)

    def cache_put(self, key: str, response: str) -> None:
        self.cache[key] = response
