"""One logical request to an OpenAI-compatible chat endpoint, kept honest and on budget.

``ChatCaller.ask`` checks the budget against the call's worst case before sending, sends with
a timeout, retries 429/5xx/timeouts with exponential backoff honouring ``Retry-After``,
records every attempt in the ledger (tokens and cost, or the error), adapts once per server
to request options it rejects (structured output, ``max_tokens``, ``temperature``), and
parses the answer with the caller's parser, recording a malformed answer as a failure.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, cast

import openai
from openai.types.chat import ChatCompletion

from classifiers.budget import Budget, LLMCall, PriceTable, SpendLedger, estimate_tokens
from classifiers.llm_output import RESPONSE_FORMAT_JSON, RESPONSE_FORMAT_SCHEMA, LLMOutputError
from monitor.errors import ClassifierError

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


def plain_text(answer: str | None) -> str:
    """The parser for free-text answers (drafts): anything but nothing."""
    if answer is None or not answer.strip():
        raise LLMOutputError("the answer is empty")
    return answer.strip()


class ChatCaller:
    """Sends chat requests for the LLM classifier: budget, retries, ledger, parsing."""

    def __init__(
        self,
        *,
        client: openai.AsyncOpenAI,
        ledger: SpendLedger,
        prices: PriceTable,
        budget: Budget,
        timeout: float = 30.0,
        retries: int = 3,
        max_output_tokens: int = 700,
        output: Literal["auto", "json_schema", "json_object"] = "auto",
        hold: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
    ):
        # our own retry loop, so that Retry-After, backoff and the ledger see every attempt
        self.client = client.with_options(max_retries=0)
        self.ledger = ledger
        self.prices = prices
        self.budget = budget
        self.timeout = timeout
        self.retries = retries
        self.max_output_tokens = max_output_tokens
        self.output = output
        self.hold = hold
        self.sleep = sleep
        self.now = now
        # per model: request options a server rejected, so later calls skip them
        self._adapted: dict[str, dict[str, Any]] = {}
        # worst-case cost of requests sent but not yet recorded: concurrent grading in one
        # daemon cannot overshoot a cap together (replicas sharing a database still can, by
        # at most one call's worst case each)
        self._in_flight = 0.0

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

    async def ask(
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
        self.budget.check(self.ledger, now=self.now(), next_call_cost=worst_case + self._in_flight)
        self._in_flight += worst_case
        try:
            return await self._send(
                model,
                messages,
                competitor=competitor,
                structured=structured,
                parse=parse,
                max_tokens=max_tokens,
                prompt_estimate=prompt_estimate,
            )
        finally:
            self._in_flight -= worst_case

    async def _send(
        self,
        model: str,
        messages: list[dict[str, str]],
        *,
        competitor: str,
        structured: bool,
        parse: Callable[[str | None], T],
        max_tokens: int,
        prompt_estimate: int,
    ) -> T:
        attempt = adaptations = 0
        while True:
            options = self._request_options(model, structured=structured, max_tokens=max_tokens)
            try:
                # the prompt builders return plain role/content dicts: the client's TypedDicts' shape
                # the client's timeout bounds each read; this bounds the whole answer (a server
                # that drips bytes would otherwise hold a grade for ever)
                async with asyncio.timeout(self.timeout):
                    response = await self.client.chat.completions.create(
                        model=model, messages=cast(Any, messages), timeout=self.timeout, **options
                    )
            except openai.BadRequestError as exc:
                self._record(model, competitor, error=f"http 400: {exc.message}"[:500])
                if adaptations < MAX_ADAPTATIONS and self._adapt(model, exc.message, options):
                    adaptations += 1
                    continue
                raise LLMUnavailable(f"{model} rejected the request: {exc.message}", hold=self.hold) from exc
            except (TimeoutError, openai.APIConnectionError, openai.APIStatusError) as exc:
                status = getattr(exc, "status_code", None)
                reason = (
                    "timeout"
                    if isinstance(exc, TimeoutError | openai.APITimeoutError)
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
            except openai.APIError as exc:
                # an answer the client could not read (a proxy's HTML page, say): not worth a retry
                self._record(model, competitor, error=f"unreadable response: {exc}"[:500])
                raise LLMUnavailable(f"{model}: unreadable response: {exc}", hold=self.hold) from exc
            if not isinstance(response, ChatCompletion):
                # the client hands back a non-JSON body (a proxy's login page) as a bare string
                self._record(model, competitor, error=f"unreadable response: {str(response)[:200]}")
                raise LLMUnavailable(f"{model}: the endpoint did not answer like a chat API", hold=self.hold)
            return self._answer(model, competitor, response, prompt_estimate=prompt_estimate, parse=parse)

    def _answer(
        self,
        model: str,
        competitor: str,
        response: ChatCompletion,
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
