"""The LLM classifier: any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, vLLM, Ollama).

Never lost, never fooled:
- every request has a timeout; 429 and 5xx are retried with exponential backoff, honouring
  ``Retry-After`` (a wait longer than ``MAX_RETRY_AFTER`` gives up at once instead);
- a malformed answer gets one repair turn; after that ``LLMUnavailable`` is raised and the
  caller grades by rules (source ``llm-failed→rules``) and re-grades later;
- over the daily or monthly cap ``BudgetExceeded`` is raised before any request is sent;
- identical changes are answered from the cache, not paid for twice;
- rules set a floor the model cannot go under, and evidence must be found in the change.

``LLMUnavailable.hold`` carries ``classifier.on_unavailable``: ``deliver`` (default, fail
open: deliver the change on its rules grade) or ``hold`` (keep the change back until the
model answers).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, ClassVar

import openai

from classifiers.budget import Budget, PriceTable, SpendLedger
from classifiers.llm_call import ChatCaller, LLMUnavailable, plain_text, retry_after_seconds
from classifiers.llm_output import GRADE_SCHEMA, LLMOutputError, parse_grade
from classifiers.llm_output import grade_to_classification as _to_classification
from classifiers.prompt import (
    build_draft_messages,
    build_repair_messages,
    build_triage_messages,
    cache_key,
    looks_like_injection,
)
from classifiers.rules import classify_by_rules, severity_floor
from monitor.config import ClassifierConfig
from monitor.errors import ClassifierError
from monitor.records import Change, Classification, ClassifyContext

log = logging.getLogger("rivalwatch.llm")

__all__ = ["LLMClassifier", "LLMUnavailable", "retry_after_seconds"]


class LLMClassifier:
    """Grades changes with an OpenAI-compatible model within a budget (key "openai")."""

    key: ClassVar[str] = "openai"

    def __init__(self, *, caller: ChatCaller, triage_model: str, draft_model: str, owned_client: Any = None):
        self.caller = caller
        self.ledger = caller.ledger
        self.triage_model = triage_model
        self.draft_model = draft_model
        self._owned = owned_client

    @classmethod
    def from_config(
        cls,
        cfg: ClassifierConfig,
        *,
        ledger: SpendLedger,
        client: openai.AsyncOpenAI | None = None,
        env: Mapping[str, str] | None = None,
        **options: Any,
    ) -> LLMClassifier:
        owns = client is None
        if client is None:
            env = os.environ if env is None else env
            api_key = env.get(cfg.api_key_env, "")
            if not api_key:
                if cfg.base_url is None:
                    raise ClassifierError(f"classifier.provider is openai but ${cfg.api_key_env} is not set")
                api_key = "unused"  # self-hosted servers (vLLM, Ollama) accept any key
                log.info("no $%s set; sending a placeholder key to %s", cfg.api_key_env, cfg.base_url)
            client = openai.AsyncOpenAI(api_key=api_key, base_url=cfg.base_url, timeout=cfg.timeout, max_retries=0)
        caller = ChatCaller(
            client=client,
            ledger=ledger,
            prices=PriceTable.from_config(cfg),
            budget=Budget.from_config(cfg),
            timeout=cfg.timeout,
            retries=cfg.retries,
            max_output_tokens=cfg.max_output_tokens,
            output=cfg.output,
            hold=cfg.on_unavailable == "hold",
            **options,
        )
        return cls(
            caller=caller,
            triage_model=cfg.triage_model,
            draft_model=cfg.draft_model,
            owned_client=client if owns else None,
        )

    async def aclose(self) -> None:
        if self._owned is not None:
            await self._owned.close()

    async def classify(self, change: Change, *, context: ClassifyContext) -> Classification:
        """Grade one change; raises ``LLMUnavailable`` or ``BudgetExceeded`` for the rules to take over."""
        model = self.triage_model
        key = cache_key(model=model, change=change)
        grade = None
        cached = self.ledger.cache_get(key)
        if cached is not None:
            try:
                grade = parse_grade(cached)
            except LLMOutputError:
                log.warning("ignoring an unreadable cached grade for %s", change.url)
        if grade is None:
            messages = build_triage_messages(change, context=context, schema=GRADE_SCHEMA)
            try:
                grade = await self.caller.ask(
                    model, messages, competitor=change.competitor, structured=True, parse=parse_grade
                )
            except LLMOutputError as first:
                log.info("malformed answer from %s for %s (%s); asking once more", model, change.url, first)
                repair = build_repair_messages(messages, bad_answer=first.answer or "", problem=first.problem)
                try:
                    grade = await self.caller.ask(
                        model, repair, competitor=change.competitor, structured=True, parse=parse_grade
                    )
                except LLMOutputError as second:
                    raise LLMUnavailable(
                        f"{model} gave no usable grade after a repair turn: {second.problem}", hold=self.caller.hold
                    ) from second
            self.ledger.cache_put(key, grade.model_dump_json())
        return _to_classification(
            grade,
            change=change,
            model=model,
            floor=severity_floor(change),
            rules=lambda: classify_by_rules(change, company=context.company),
            injection_seen=looks_like_injection(change),
        )

    async def draft(
        self,
        *,
        task: str,
        material: str,
        competitor: str,
        context: ClassifyContext | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """Text from the draft model (battle-card edits); raises like ``classify`` on failure."""
        messages = build_draft_messages(
            task=task, material=material, competitor=competitor, context=context or ClassifyContext()
        )
        try:
            return await self.caller.ask(
                self.draft_model,
                messages,
                competitor=competitor,
                structured=False,
                parse=plain_text,
                max_tokens=max_tokens,
            )
        except LLMOutputError as exc:
            raise LLMUnavailable(
                f"{self.draft_model} wrote nothing usable: {exc.problem}", hold=self.caller.hold
            ) from exc
