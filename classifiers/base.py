"""The classifier protocol: grade one change, say where the grade came from.

A classifier is one small class with ``key`` (the ``classifier.provider`` value in YAML) and a
one-line docstring. ``from_config(cfg, ...)`` builds it from the ``classifier`` section;
clients (an HTTP client, an LLM client) are injected through keyword arguments so tests can
hand in ones pointed at loopback servers. ``classify`` never mutates the change; it raises
``monitor.errors.ClassifierError`` when it cannot grade, and the caller falls back to rules.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, Self, runtime_checkable

from monitor.config import ClassifierConfig
from monitor.records import Change, Classification, ClassifyContext


@runtime_checkable
class Classifier(Protocol):
    """Grades a change: severity, category, summary, facts, evidence, source, confidence."""

    key: ClassVar[str]

    # ``*args: Any, **clients: Any`` lets an implementation require its own keywords (the LLM
    # classifier's ``ledger``); the caller knows which clients a provider needs
    @classmethod
    def from_config(cls, cfg: ClassifierConfig, *args: Any, **clients: Any) -> Self: ...

    async def classify(self, change: Change, *, context: ClassifyContext) -> Classification: ...
