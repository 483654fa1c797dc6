"""``OpenAIJudge`` (registry name ``openai_judge``): an LLM judge behind an OpenAI-compatible server.

The generative-judge pattern of QwenLong-L1 (arXiv 2505.17667: an OpenAI-compatible
judge at temperature 0 with a ``[[YES]]``/``[[NO]]`` prompt, asked only when the rule
reward fails; see :class:`~moreward.verifiers.judge.cascade.Cascade`) and of
TIGER-Lab's general-verifier (``Final Decision: Yes/No``, served with ``vllm serve``,
about 100 concurrent requests). vLLM and SGLang serve ``POST {base_url}/chat/completions``.

- asynchronous (httpx), at most ``concurrency`` requests in flight, one connection pool per call;
- each attempt is bounded by ``timeout`` seconds; connection errors, timeouts, HTTP 429
  and 5xx and malformed replies are retried ``max_retries`` times with exponential
  backoff and jitter (``Retry-After`` is honoured up to ``max_backoff``); other 4xx are
  not retried;
- a failure, or a reply without a decision, is ``Verdict.ERROR`` with value ``None``,
  never a 0; yes is PASS/1.0, no is FAIL/0.0;
- the guards of :mod:`.guards` keep master keys (arXiv 2507.08794) and judge-directed
  text (arXiv 2505.22203) away from the server, and the cache skips repeated samples.

The API key is read from the environment variable named by ``api_key_env`` at request
time and never stored on the object.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, TypeVar

from ...core import Sample, Score
from ...errors import ConfigError, missing_extra
from ...registry import register
from ._base import JudgeBase
from .cache import ResultCache, make_cache
from .guards import Guard, make_guard
from .templates import JudgeTemplate, get_template, parse_decision

__all__ = ["OpenAIJudge", "run_sync"]

T = TypeVar("T")


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:
        raise missing_extra("httpx", "judge") from exc
    return httpx


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code, also when called inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="moreward-judge") as pool:
        return pool.submit(asyncio.run, coro).result()


@register("openai_judge")
class OpenAIJudge(JudgeBase):
    """A judge served by an OpenAI-compatible chat-completions endpoint; see the module docstring.

    Args:
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        model: the served model name.
        template: a template name (default ``qwenlong``), a :class:`JudgeTemplate` or a mapping.
        concurrency: requests in flight at most.
        timeout: seconds per attempt.
        max_retries: further attempts after a retryable failure.
        backoff: the first retry delay in seconds (doubles each time, with jitter).
        max_backoff: the longest delay.
        temperature: sampling temperature (0: deterministic judging).
        max_tokens: the judge's reply budget.
        api_key_env: the environment variable holding the API key (sent as a bearer token when set).
        extra_body: more JSON fields for the request (``{"top_p": 1.0}``, vLLM's ``chat_template_kwargs``...).
        max_field_chars: keep only the last this many characters of the long field.
        guard: ``True`` (the template's default :class:`Guard`), ``False``, a Guard or a mapping.
        cache: ``True`` (an LRU), ``False``, an int (LRU size) or a :class:`ResultCache`.
        cache_path: an SQLite file for a persistent cache.
    """

    name: ClassVar[str] = "openai_judge"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        template: str | JudgeTemplate | dict[str, Any] = "qwenlong",
        concurrency: int = 32,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        temperature: float = 0.0,
        max_tokens: int = 1024,
        api_key_env: str | None = "OPENAI_API_KEY",
        extra_body: Mapping[str, Any] | None = None,
        max_field_chars: int | None = None,
        guard: Guard | dict[str, Any] | bool | None = True,
        cache: bool | int | ResultCache | None = True,
        cache_path: str | None = None,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not isinstance(model, str) or not model:
            raise ConfigError("model must be a non-empty string")
        for opt, value in (("concurrency", concurrency), ("max_tokens", max_tokens)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{opt} must be a positive int, got {value!r}")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError(f"max_retries must be a non-negative int, got {max_retries!r}")
        for opt, num in (("timeout", timeout), ("backoff", backoff), ("max_backoff", max_backoff)):
            if not isinstance(num, (int, float)) or num < 0 or (opt == "timeout" and num == 0):
                raise ConfigError(f"{opt} must be a {'positive' if opt == 'timeout' else 'non-negative'} number, got {num!r}")
        if max_field_chars is not None and (not isinstance(max_field_chars, int) or max_field_chars < 1):
            raise ConfigError(f"max_field_chars must be a positive int, got {max_field_chars!r}")
        _httpx()
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.template = template
        self._template = get_template(template)
        self.concurrency = concurrency
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.api_key_env = api_key_env
        self.extra_body = dict(extra_body or {})
        self.max_field_chars = max_field_chars
        default_guard = Guard(answer="none", min_thinking_chars=16) if self._template.view == "thinking" else Guard()
        self.guard = make_guard(guard, default_guard)
        self.cache = make_cache(cache, cache_path)
        self._parts_guard = self.guard or Guard(answer="auto")

    def _fingerprint(self) -> str:
        return repr((self.base_url, self.model, self._template.key(), self.temperature, self.max_tokens,
                     sorted(self.extra_body.items(), key=repr), self.max_field_chars))

    def score(self, sample: Sample) -> Score:
        return self.score_batch([sample])[0]

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        """Score ``samples`` (blocking); runs :meth:`ascore_batch` on an event loop."""
        return run_sync(self.ascore_batch(list(samples)))

    async def ascore(self, sample: Sample) -> Score:
        return (await self.ascore_batch([sample]))[0]

    async def ascore_batch(self, samples: Sequence[Sample]) -> list[Score]:
        """Score ``samples`` concurrently, in order."""
        t = self._triage(samples)
        scores: list[Score] = []
        if t.todo:
            httpx = _httpx()
            limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
            sem = asyncio.Semaphore(self.concurrency)
            async with httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), limits=limits) as client:
                jobs = [self._ask(client, sem, self._messages(t.samples[i], t.parts[i])) for i in t.todo]
                scores = list(await asyncio.gather(*jobs))
        return self._finish(t, scores)

    def _messages(self, sample: Sample, parts: Any) -> list[dict[str, str]]:
        values = self._template.values(sample, parts)
        long = self._template.long_field
        if self.max_field_chars is not None and len(values[long]) > self.max_field_chars:
            values[long] = values[long][-self.max_field_chars :]
        return self._template.messages(values)

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return base * (0.5 + random.random() / 2)

    async def _ask(self, client: Any, sem: asyncio.Semaphore, messages: list[dict[str, str]]) -> Score:
        httpx = _httpx()
        body = {"model": self.model, "messages": messages, "temperature": self.temperature,
                "max_tokens": self.max_tokens, **self.extra_body}
        url = self.base_url + "/chat/completions"
        last = "no attempt"
        retry_after: float | None = None
        attempts = 0
        for attempt in range(self.max_retries + 1):
            if attempt:
                await asyncio.sleep(self._delay(attempt, retry_after))
            retry_after = None
            attempts += 1
            try:
                async with sem:
                    resp = await asyncio.wait_for(client.post(url, json=body, headers=self._headers()), self.timeout)
            except (asyncio.TimeoutError, httpx.TimeoutException):
                last = f"timed out after {self.timeout:g}s"
                continue
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                last = f"HTTP {resp.status_code}: {resp.text[:120]!r}"
                retry_after = _retry_after(resp.headers.get("retry-after"))
                continue
            if resp.status_code >= 400:
                return Score.error(f"judge server answered HTTP {resp.status_code}: {resp.text[:200]!r}", attempts=attempts)
            try:
                content = resp.json()["choices"][0]["message"]["content"]
                if not isinstance(content, str):
                    raise TypeError(f"content is {type(content).__name__}")
            except (ValueError, KeyError, IndexError, TypeError):
                last = f"malformed reply: {resp.text[:120]!r}"
                continue
            decision = parse_decision(content)
            if decision is None:
                return Score.error(f"the judge gave no decision: {content[-120:]!r}", attempts=attempts, reply=content[-400:])
            return Score.from_bool(decision, f"the judge said {'yes' if decision else 'no'}", attempts=attempts,
                                   reply=content[-400:])
        return Score.error(f"judge failed after {attempts} attempt(s): {last}", attempts=attempts)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
