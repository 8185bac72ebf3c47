"""Severity classifiers, keyed by the ``classifier.provider`` value in the config."""

from __future__ import annotations

from classifiers.base import Classifier
from classifiers.llm import LLMClassifier
from classifiers.rules import RulesClassifier

CLASSIFIERS: dict[str, type[Classifier]] = {"rules": RulesClassifier, "openai": LLMClassifier}

__all__ = ["CLASSIFIERS", "Classifier", "LLMClassifier", "RulesClassifier"]
