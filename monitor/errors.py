"""The one exception tree of rivalwatch.

    RivalwatchError
    ├── ConfigError            the YAML config is wrong; carries file, line, key, message
    ├── StoreError             the database cannot be opened or written
    ├── ClassifierError        a classifier could not grade a change (caller falls back to rules)
    │   └── BudgetExceeded     the LLM budget is spent; rules take over
    └── DeliveryError          a responder could not deliver (Slack down, disk full); retried

A failed fetch is not an exception: it is a ``FetchResult`` with an error kind. The only
broad ``except`` in the code is where one watch's run is isolated from the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class RivalwatchError(Exception):
    """Base of every error rivalwatch raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: Path
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(RivalwatchError):
    """The config cannot be used; ``problems`` lists every one found, with file and line."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class StoreError(RivalwatchError):
    """The store cannot be opened or written."""


class ClassifierError(RivalwatchError):
    """A classifier could not grade a change."""


class BudgetExceeded(ClassifierError):
    """The LLM spend cap is reached for the day or the month."""


class DeliveryError(RivalwatchError):
    """A responder could not deliver a message; the outbox keeps it for a retry."""
