""":class:`MathVerifier`: the ``math`` objective (registry name ``"math"``).

One comparison is: find the final answer (:mod:`.extract`), read the gold and the
answer into answer trees (:mod:`.structure`), then match them (:mod:`.match`). Plain
numbers, fractions, rational sets/tuples/intervals, choice letters and word answers
are decided here with exact rationals; everything else is sent to the shared
hard-deadline worker pool, where sympy decides (:mod:`.compare`). Parsed golds and
worker decisions are cached per process.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ...core import BaseObjective, Sample, Score, Verdict
from ...registry import register
from . import fastpath, latexparse
from .extract import Extraction, extract_answer, extract_gold
from .jobs import compare_job
from .match import FastEngine, Policy, match
from .structure import Bad, Choice, Node, Text, answer_hints, iter_leaves, parse_answer, parse_gold

__all__ = ["MathVerifier", "clear_caches"]

PRELOAD = (
    "sympy",
    "latex2sympy2_extended",
    "moreward.verifiers.math",
    "moreward.verifiers.math.compare",
    "moreward.verifiers.math._warm",
)
MAX_GOLD_CHARS = 10_000
_FAST = FastEngine()


class _LRU:
    """A small thread-safe LRU map (process-wide caches)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Hashable, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self.lock:
            val = self.data.get(key)
            if val is not None:
                self.data.move_to_end(key)
            return val

    def put(self, key: Hashable, val: Any) -> None:
        with self.lock:
            self.data[key] = val
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def reset_lock(self) -> None:
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


@dataclass
class _Gold:
    """A parsed gold answer. ``valid`` is True once known to be understood, False once known not."""

    text: str
    node: Node
    hints: dict[str, bool]
    valid: bool | None

    @property
    def words(self) -> bool:
        """A word or letter answer, which a bare last line of a few words may give."""
        return isinstance(self.node, (Text, Choice))


_golds = _LRU(8192)
_decisions = _LRU(65536)  # (gold, answer, policy) -> (verdict, rule) from a worker


def clear_caches() -> None:
    """Forget parsed golds and worker decisions (for benchmarks and tests)."""
    _golds.clear()
    _decisions.clear()
    from . import latexparse

    latexparse.parse.cache_clear()


def _reset_after_fork() -> None:
    _golds.reset_lock()
    _decisions.reset_lock()


try:
    import os

    os.register_at_fork(after_in_child=_reset_after_fork)
except AttributeError:  # pragma: no cover - not POSIX
    pass


def _gold(text: str) -> _Gold:
    cached = _golds.get(text)
    if cached is None:
        node = parse_gold(text)
        valid: bool | None
        if isinstance(node, Bad):
            valid = False
        else:
            leaves = list(iter_leaves(node))
            valid = True if all(_understood_leaf(x) for x in leaves) else None
        cached = _Gold(text, node, answer_hints(node) if not isinstance(node, Bad) else {}, valid)
        _golds.put(text, cached)
    return cached


def _understood_leaf(text: str) -> bool:
    """A leaf the worker is sure to understand: the bounded parser reads it (so sympy will)."""
    node = latexparse.parse(text)
    return node is not None and fastpath.log2_bound(node) <= fastpath.MAX_LOG2


def _gold_texts(reference: Any) -> list[str] | str:
    """The gold strings of a reference (several are alternatives), or the reason it is not gradeable."""
    if reference is None:
        return "no reference answer"
    if isinstance(reference, bool):
        return "a bool is not a math answer"
    if isinstance(reference, str):
        text = extract_gold(reference)
        if not text.strip():
            return "empty reference answer"
        if len(text) > MAX_GOLD_CHARS:
            return "reference answer too long"
        return [text]
    if isinstance(reference, int):
        return [str(reference)]
    if isinstance(reference, float):
        if not math.isfinite(reference):
            return f"reference is {reference!r}"
        return [repr(reference)]
    if isinstance(reference, Fraction):
        return [f"{reference.numerator}/{reference.denominator}"]
    if isinstance(reference, Decimal):
        return [str(reference)] if reference.is_finite() else f"reference is {reference}"
    if isinstance(reference, (list, tuple)) and reference:
        out: list[str] = []
        for r in reference:
            sub = _gold_texts(r)
            if isinstance(sub, str):
                return sub
            out.extend(sub)
        return out
    return f"unsupported reference type {type(reference).__name__}"


@dataclass
class _Pending:
    """A sample whose comparison needs a worker: one job per gold alternative still undecided."""

    index: int
    extraction: Extraction
    jobs: list[tuple[str, str]]
    details: dict[str, Any]


@register("math")
class MathVerifier(BaseObjective):
    """Math answer verifier: extraction, kind-aware equivalence, hard deadline.

    Args:
        timeout: seconds allowed for one worker comparison (the hard deadline).
        inequality_as_interval: ``x > 3`` matches ``(3, \\infty)`` and the reverse.
        approx_irrational: accept a decimal prediction (>= 3 significant digits, rounded
            or truncated) for an irrational gold such as ``\\sqrt2``. Decimals always
            stand for non-terminating fractions (``0.333`` for ``1/3``).
        strict_variables: ``y = 3`` does not answer a gold ``x = 3``.
        fast_path: decide plain numbers in this process (turn off only to test the workers).
        raise_on_error: raise instead of returning ``Verdict.ERROR`` (for debugging).

    Verdicts: PASS (1.0), FAIL (0.0), INVALID (0.0: no answer in the completion),
    TIMEOUT, ERROR and SKIP (the gold cannot be understood) have no value. ``details``
    holds the extracted answer, the extraction rule, the gold and the deciding rule.

    Example:
        >>> from moreward.core import Sample
        >>> MathVerifier().score(Sample("... so the answer is $\\\\boxed{\\\\frac{1}{2}}$.", reference="0.5")).verdict
        <Verdict.PASS: 'pass'>
    """

    name = "math"

    def __init__(
        self,
        *,
        timeout: float = 1.0,
        inequality_as_interval: bool = True,
        approx_irrational: bool = False,
        strict_variables: bool = True,
        fast_path: bool = True,
        raise_on_error: bool = False,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout = float(timeout)
        self.inequality_as_interval = bool(inequality_as_interval)
        self.approx_irrational = bool(approx_irrational)
        self.strict_variables = bool(strict_variables)
        self.fast_path = bool(fast_path)
        self.raise_on_error = bool(raise_on_error)

    @property
    def policy(self) -> Policy:
        return Policy(self.inequality_as_interval, self.approx_irrational, self.strict_variables)

    # ------------------------------------------------------------------ the inline part

    def _prepare(self, sample: Sample, index: int = 0) -> Score | _Pending:
        golds = _gold_texts(sample.reference)
        if isinstance(golds, str):
            return Score.skip(golds)
        ext = extract_answer(sample.completion, sample.prompt)
        if ext is None:
            return Score(0.0, Verdict.INVALID, "no final answer found in the completion", {"gold": golds[0]})
        details: dict[str, Any] = {"extracted": ext.text, "extraction": ext.rule, "gold": golds[0]}
        if ext.rule.endswith("bare_words") and not all(_gold(g).words for g in golds):
            return Score(0.0, Verdict.INVALID, "no final answer found (only a few words)", details)
        if not ext.text.strip():
            return Score(
                0.0, Verdict.INVALID, f"empty answer ({ext.rule})", {**details, "decided_by": "empty"}
            )
        policy = self.policy
        jobs: list[tuple[str, str]] = []
        skips: list[str] = []
        fails: list[tuple[str, str]] = []
        for gold_text in golds:
            g = _gold(gold_text)
            if g.valid is False:
                skips.append(
                    f"gold {gold_text!r} not understood"
                    + (f" ({g.node.reason})" if isinstance(g.node, Bad) else "")
                )
                continue
            path = "cache"
            cached = _decisions.get((gold_text, ext.text, policy))
            if cached is not None:
                verdict, rule = cached
            elif self.fast_path:
                path = "fast"
                ok, rule = match(g.node, parse_answer(ext.text, **g.hints), _FAST, policy)
                verdict = None if ok is None or g.valid is not True else ("pass" if ok else "fail")
            else:
                verdict = None
            if verdict is None:
                jobs.append((gold_text, ext.text))
            elif verdict == "pass":
                return Score(
                    1.0, Verdict.PASS, rule, {**details, "gold": gold_text, "decided_by": rule, "path": path}
                )
            elif verdict == "skip":
                skips.append(rule)
            else:
                fails.append((rule, path))
        if jobs:
            return _Pending(index, ext, jobs, details)
        if fails:
            rule, path = fails[0]
            return Score(0.0, Verdict.FAIL, rule, {**details, "decided_by": rule, "path": path})
        return Score.skip(skips[0] if skips else "gold not understood", **details)

    def _finish(self, pending: _Pending, results: list[Any]) -> Score:
        """Combine the worker results of one sample (one per gold alternative) into a Score."""
        details = pending.details
        fails: list[str] = []
        others: list[Score] = []
        for (gold_text, answer), res in zip(pending.jobs, results):
            if not res.ok:
                if self.raise_on_error:
                    res.raise_for_status()
                verdict = res.verdict or Verdict.ERROR
                others.append(
                    Score(None, verdict, res.reason, {**details, "gold": gold_text, "path": "worker"})
                )
                continue
            verdict_s, rule = res.value
            g = _gold(gold_text)
            g.valid = verdict_s != "skip"
            _decisions.put((gold_text, answer, self.policy), (verdict_s, rule))
            if verdict_s == "pass":
                return Score(
                    1.0,
                    Verdict.PASS,
                    rule,
                    {**details, "gold": gold_text, "decided_by": rule, "path": "worker"},
                )
            if verdict_s == "fail":
                fails.append(rule)
            else:
                others.append(Score.skip(rule, **{**details, "gold": gold_text, "path": "worker"}))
        timeouts = [s for s in others if s.verdict in (Verdict.TIMEOUT, Verdict.ERROR)]
        if timeouts:
            return timeouts[0]
        if fails:
            return Score(0.0, Verdict.FAIL, fails[0], {**details, "decided_by": fails[0], "path": "worker"})
        return others[0]

    # ------------------------------------------------------------------ the public API

    @staticmethod
    def _pool() -> Any:
        from ...runtime import get_pool

        return get_pool(preload=PRELOAD)

    def _guarded_prepare(self, sample: Sample, index: int) -> Score | _Pending:
        try:
            return self._prepare(sample, index)
        except Exception as exc:
            if self.raise_on_error:
                raise
            return Score.error(f"math verifier failed: {type(exc).__name__}: {exc}")

    def _submit(self, items: list[Score | _Pending]) -> dict[tuple[str, str], Future[Any]]:
        futures: dict[tuple[str, str], Future[Any]] = {}
        pending = [p for p in items if isinstance(p, _Pending)]
        if not pending:
            return futures
        pool = self._pool()
        policy = self.policy
        for p in pending:
            for job in p.jobs:
                if job not in futures:  # identical answers in a batch run once
                    futures[job] = pool.submit(compare_job, job[0], job[1], policy, deadline=self.timeout)
        return futures

    def score(self, sample: Sample) -> Score:
        """Score one sample (PASS / FAIL / INVALID / TIMEOUT / ERROR / SKIP)."""
        return self.score_batch([sample])[0]

    def _start(
        self, samples: Sequence[Sample]
    ) -> tuple[list[Score | _Pending], dict[tuple[str, str], Future[Any]]] | list[Score]:
        """Decide the fast-path samples and submit the rest: ``(items, futures)``, or the final
        scores when the pool is unavailable (ERROR for every sample that needed it)."""
        items = [self._guarded_prepare(s, i) for i, s in enumerate(samples)]
        try:
            return items, self._submit(items)
        except Exception as exc:
            if self.raise_on_error:
                raise
            return [
                x if isinstance(x, Score) else Score.error(f"worker pool unavailable: {exc}") for x in items
            ]

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        """Score many samples: fast-path cases inline, the rest spread over the worker pool."""
        started = self._start(samples)
        if isinstance(started, list):
            return started
        items, futures = started
        return [
            x if isinstance(x, Score) else self._finish(x, [futures[j].result() for j in x.jobs])
            for x in items
        ]

    async def ascore(self, sample: Sample) -> Score:
        """Async :meth:`score`."""
        return (await self.ascore_batch([sample]))[0]

    async def ascore_batch(self, samples: Sequence[Sample]) -> list[Score]:
        """Async :meth:`score_batch`: never blocks the event loop on a worker."""
        started = self._start(samples)
        if isinstance(started, list):
            return started
        items, futures = started
        done = {job: await asyncio.wrap_future(f) for job, f in futures.items()}
        return [x if isinstance(x, Score) else self._finish(x, [done[j] for j in x.jobs]) for x in items]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._options(),))


def _rebuild(options: dict[str, Any]) -> MathVerifier:
    return MathVerifier(**options)
