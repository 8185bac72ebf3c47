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

import asyncio
import email.utils
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import openai

from classifiers.budget import Budget, LLMCall, PriceTable, SpendLedger, estimate_tokens
from classifiers.llm_output import (
    GRADE_SCHEMA,
    RESPONSE_FORMAT_JSON,
    RESPONSE_FORMAT_SCHEMA,
    LLMOutputError,
    parse_grade,
)
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
T = TypeVar("T")

MAX_RETRY_AFTER = 120.0  # seconds; a longer wait is better spent grading by rules
BACKOFF_START = 0.5
BACKOFF_MAX = 8.0
MAX_ADAPTATIONS = 3  # request shapes a server may reject before we give up on it


class LLMUnavailable(ClassifierError):
    """No usable answer from the model; ``hold`` says whether to hold the change back."""

    def __init__(self, message: str, *, hold: bool = False):
        self.hold = hold
        super().__init__(message)


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds a server asks us to wait (``Retry-After``: seconds or an HTTP date), if it says."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - (time.time() if now is None else now))


def backoff_seconds(attempt: int) -> float:
    return min(BACKOFF_START * 2**attempt, BACKOFF_MAX)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _text(answer: str | None) -> str:
    if answer is None or not answer.strip():
        raise LLMOutputError("the answer is empty")
    return answer.strip()


class LLMClassifier:
    """Grades changes with an OpenAI-compatible model within a budget (key "openai")."""

    key = "openai"

    def __init__(
        self,
        *,
        client: openai.AsyncOpenAI,
        ledger: SpendLedger,
        prices: PriceTable,
        budget: Budget,
        triage_model: str,
        draft_model: str,
        timeout: float = 30.0,
        retries: int = 3,
        max_output_tokens: int = 700,
        output: Literal["auto", "json_schema", "json_object"] = "auto",
        on_unavailable: Literal["deliver", "hold"] = "deliver",
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
        owns_client: bool = False,
    ):
        # our own retry loop, so that Retry-After, backoff and the ledger see every attempt
        self.client = client.with_options(max_retries=0)
        self._owned = client if owns_client else None
        self.ledger = ledger
        self.prices = prices
        self.budget = budget
        self.triage_model = triage_model
        self.draft_model = draft_model
        self.timeout = timeout
        self.retries = retries
        self.max_output_tokens = max_output_tokens
        self.output = output
        self.hold = on_unavailable == "hold"
        self.sleep = sleep
        self.now = now
        # per model: request options a server rejected, so later calls skip them
        self._adapted: dict[str, dict[str, Any]] = {}

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
        return cls(
            client=client,
            ledger=ledger,
            prices=PriceTable.from_config(cfg),
            budget=Budget.from_config(cfg),
            triage_model=cfg.triage_model,
            draft_model=cfg.draft_model,
            timeout=cfg.timeout,
            retries=cfg.retries,
            max_output_tokens=cfg.max_output_tokens,
            output=cfg.output,
            on_unavailable=cfg.on_unavailable,
            owns_client=owns,
            **options,
        )

    async def aclose(self) -> None:
        if self._owned is not None:
            await self._owned.close()

    async def classify(self, change: Change, *, context: ClassifyContext) -> Classification:
        """Grade one change; raises ``LLMUnavailable`` or ``BudgetExceeded`` for the rules to take over."""
        rules = classify_by_rules(change, company=context.company)
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
                grade = await self._ask(
                    model, messages, competitor=change.competitor, structured=True, parse=parse_grade
                )
            except LLMOutputError as first:
                log.info("malformed answer from %s for %s (%s); asking once more", model, change.url, first)
                repair = build_repair_messages(messages, bad_answer=first.answer or "", problem=first.problem)
                try:
                    grade = await self._ask(
                        model, repair, competitor=change.competitor, structured=True, parse=parse_grade
                    )
                except LLMOutputError as second:
                    raise LLMUnavailable(
                        f"{model} gave no usable grade after a repair turn: {second.problem}", hold=self.hold
                    ) from second
            self.ledger.cache_put(key, grade.model_dump_json())
        return _to_classification(
            grade,
            change=change,
            model=model,
            floor=severity_floor(change),
            rules=rules,
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
            return await self._ask(
                self.draft_model,
                messages,
                competitor=competitor,
                structured=False,
                parse=_text,
                max_tokens=max_tokens,
            )
        except LLMOutputError as exc:
            raise LLMUnavailable(f"{self.draft_model} wrote nothing usable: {exc.problem}", hold=self.hold) from exc

    def _request_options(self, model: str, *, structured: bool, max_tokens: int) -> dict[str, Any]:
        adapted = self._adapted.get(model, {})
        options: dict[str, Any] = {"temperature": 0, "max_tokens": max_tokens}
        if structured:
            schema_ok = self.output == "json_schema" or (self.output == "auto" and not adapted.get("json_mode"))
            options["response_format"] = RESPONSE_FORMAT_SCHEMA if schema_ok else RESPONSE_FORMAT_JSON
        if adapted.get("max_completion_tokens"):
            options["max_completion_tokens"] = options.pop("max_tokens")
        if adapted.get("no_temperature"):
            options.pop("temperature")
        return options

    def _adapt(self, model: str, message: str, options: dict[str, Any]) -> bool:
        """Learn from a 400 which request option this server rejects; False if none applies."""
        text = message.lower()
        adapted = self._adapted.setdefault(model, {})
        fmt = options.get("response_format", {}).get("type")
        if fmt == "json_schema" and self.output == "auto" and ("response_format" in text or "json_schema" in text):
            adapted["json_mode"] = True
        elif "max_tokens" in options and "max_tokens" in text:
            adapted["max_completion_tokens"] = True
        elif "temperature" in options and "temperature" in text:
            adapted["no_temperature"] = True
        else:
            return False
        log.info("%s rejected a request option (%s); adapting", model, message[:200])
        return True

    def _record(self, model: str, competitor: str, *, usage: tuple[int, int] = (0, 0), error: str | None) -> None:
        prompt_tokens, completion_tokens = usage
        cost = self.prices.cost(model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        call = LLMCall(self.now(), model, competitor, prompt_tokens, completion_tokens, cost, error is None, error)
        self.ledger.record_call(call)

    async def _ask(
        self,
        model: str,
        messages: list[dict[str, str]],
        *,
        competitor: str,
        structured: bool,
        parse: Callable[[str | None], T],
        max_tokens: int | None = None,
    ) -> T:
        """One logical request: budget check, retries, ledger entries, and the parsed answer."""
        max_tokens = max_tokens or self.max_output_tokens
        prompt_estimate = estimate_tokens("".join(m["content"] for m in messages))
        worst_case = self.prices.cost(model, prompt_tokens=prompt_estimate, completion_tokens=max_tokens)
        self.budget.check(self.ledger, now=self.now(), next_call_cost=worst_case)
        attempt = adaptations = 0
        while True:
            options = self._request_options(model, structured=structured, max_tokens=max_tokens)
            try:
                response = await self.client.chat.completions.create(
                    model=model, messages=messages, timeout=self.timeout, **options
                )
            except openai.BadRequestError as exc:
                self._record(model, competitor, error=f"http 400: {exc.message}"[:500])
                if adaptations < MAX_ADAPTATIONS and self._adapt(model, exc.message, options):
                    adaptations += 1
                    continue
                raise LLMUnavailable(f"{model} rejected the request: {exc.message}", hold=self.hold) from exc
            except (openai.APITimeoutError, openai.APIConnectionError, openai.APIStatusError) as exc:
                status = getattr(exc, "status_code", None)
                reason = (
                    "timeout"
                    if isinstance(exc, openai.APITimeoutError)
                    else (f"http {status}" if status else "connection failed")
                )
                self._record(model, competitor, error=f"{reason}: {exc}"[:500])
                if status is not None and status != 429 and status < 500:
                    raise LLMUnavailable(f"{model}: {reason}: {exc}", hold=self.hold) from exc
                wait = backoff_seconds(attempt)
                if isinstance(exc, openai.APIStatusError):
                    asked = retry_after_seconds(exc.response.headers)
                    if asked is not None and asked > MAX_RETRY_AFTER:
                        raise LLMUnavailable(
                            f"{model}: {reason}; the server asks to wait {asked:.0f}s", hold=self.hold
                        ) from exc
                    wait = asked if asked is not None else wait
                if attempt >= self.retries:
                    raise LLMUnavailable(f"{model}: {reason} after {attempt + 1} attempts", hold=self.hold) from exc
                attempt += 1
                log.info("%s: %s; retrying in %.1fs (%d of %d)", model, reason, wait, attempt, self.retries)
                await self.sleep(wait)
                continue
            return self._answer(model, competitor, response, prompt_estimate=prompt_estimate, parse=parse)

    def _answer(
        self,
        model: str,
        competitor: str,
        response: Any,
        *,
        prompt_estimate: int,
        parse: Callable[[str | None], T],
    ) -> T:
        choice = response.choices[0] if response.choices else None
        content = choice.message.content if choice is not None else None
        usage = response.usage
        if usage is not None:
            tokens = (usage.prompt_tokens or 0, usage.completion_tokens or 0)
        else:
            # a server that reports no usage is still billed for: estimate rather than record zero
            tokens = (prompt_estimate, estimate_tokens(content or ""))
        try:
            if choice is not None and getattr(choice.message, "refusal", None):
                raise LLMOutputError(f"the model refused: {choice.message.refusal}")
            value = parse(content)
        except LLMOutputError as exc:
            if choice is not None and choice.finish_reason == "length":
                exc.problem += " (the answer was cut off at the token limit: answer more briefly)"
            exc.answer = content
            self._record(model, competitor, usage=tokens, error=f"malformed: {exc.problem}"[:500])
            raise
        self._record(model, competitor, usage=tokens, error=None)
        return value
