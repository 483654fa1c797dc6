"""Repetition and structure rewards: the n-gram repetition penalty (over token ids or
words) and the reasoning-step count.

The n-gram kernel works on integer arrays with numpy: an n-gram is packed into one
64-bit integer (exactly, when ``n * log2(vocabulary) <= 62``; otherwise by a 64-bit
polynomial hash, where two different n-grams collide with probability about
``m**2 / 2**65`` for ``m`` n-grams) and the distinct ones are counted after a sort.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, NamedTuple

import numpy as np

from ..core import BaseObjective, Sample, Score, Verdict
from ..errors import ConfigError
from ..registry import register
from ._common import Fallback, TokenCounter, check_bool, check_choice, check_int, check_number

__all__ = [
    "NgramRepetition",
    "NgramStats",
    "ReasoningSteps",
    "count_reasoning_steps",
    "ngram_repetition_values",
    "ngram_stats",
]

Mode = Literal["ratio", "dense"]
Unit = Literal["token_ids", "words"]
_DEFAULT_PENALTY = {"ratio": -1.0, "dense": -0.05}
_HASH_BASE = 0x9E3779B97F4A7C15  # odd 64-bit constant (the golden ratio's fraction)


class NgramStats(NamedTuple):
    """Counts for one sequence: n-grams in all, distinct ones, and tokens covered by a repeat."""

    total: int
    unique: int
    repeated_tokens: int


def _codes(a: np.ndarray, n: int) -> np.ndarray:
    """One int64/uint64 code per n-gram of ``a`` (length ``len(a) - n + 1 >= 1``)."""
    m = a.size - n + 1
    lo = int(a.min())
    if lo < 0:
        a = a - lo
    vocab = int(a.max()) + 1
    if n == 1:
        return a
    if n * math.log2(max(vocab, 2)) <= 62:
        codes = a[:m].copy()
        for k in range(1, n):
            codes *= vocab
            codes += a[k : k + m]
        return codes
    u = a.astype(np.uint64)
    h = u[:m].copy()
    base = np.uint64(_HASH_BASE)
    for k in range(1, n):
        h *= base  # wraps modulo 2**64: array arithmetic does not warn
        h += u[k : k + m]
    return h


def ngram_stats(ids: Sequence[int] | np.ndarray, ngram_size: int, *, dense: bool = False) -> NgramStats:
    """Total and distinct n-grams of ``ids`` and, with ``dense``, the number of positions
    covered by an n-gram occurrence that appeared earlier (Demystify's dense penalty marks
    those positions).

    Example:
        >>> ngram_stats([5, 5, 5, 5, 5], 2, dense=True)
        NgramStats(total=4, unique=1, repeated_tokens=4)
    """
    a = np.asarray(ids, dtype=np.int64)
    m = a.size - ngram_size + 1
    if m <= 0:
        return NgramStats(0, 0, 0)
    codes = _codes(a, ngram_size)
    if not dense:
        c = np.sort(codes)
        unique = 1 + int(np.count_nonzero(c[1:] != c[:-1]))
        return NgramStats(m, unique, 0)
    order = np.argsort(codes, kind="stable")
    c = codes[order]
    first = np.empty(m, dtype=bool)
    first[0] = True
    np.not_equal(c[1:], c[:-1], out=first[1:])
    unique = int(np.count_nonzero(first))
    starts = order[~first]  # positions of occurrences seen before (stable sort: the earliest is first)
    if starts.size == 0:
        return NgramStats(m, unique, 0)
    marks = np.bincount(starts, minlength=a.size + 1) - np.bincount(starts + ngram_size, minlength=a.size + 1)
    covered = int(np.count_nonzero(np.cumsum(marks)[: a.size] > 0))
    return NgramStats(m, unique, covered)


def _value(stats: NgramStats, penalty: float, mode: str) -> float:
    if stats.total == 0:
        return 0.0
    if mode == "dense":
        return penalty * stats.repeated_tokens + 0.0
    scaling = 1 - stats.unique / stats.total
    return scaling * penalty if scaling else 0.0


def ngram_repetition_values(
    sequences: Sequence[Sequence[int] | np.ndarray],
    *,
    ngram_size: int = 3,
    penalty: float = -1.0,
    mode: Mode = "ratio",
) -> list[float]:
    r"""The n-gram repetition penalty of each id sequence.

    ``mode="ratio"`` (Yeo et al. 2025, arXiv 2502.03373, Appendix C.2; open-r1; TRL):

    .. math:: r = \left(1 - \frac{\#\text{distinct n-grams}}{\#\text{n-grams}}\right) p

    ``mode="dense"`` (the same paper's dense penalty summed over the sequence): ``p`` for
    every position covered by an n-gram occurrence that appeared earlier in the sequence.
    Sequences shorter than ``ngram_size`` get 0.

    Example:
        >>> ngram_repetition_values([[1, 2, 3, 4], [5, 5, 5, 5, 5]], ngram_size=2)
        [0.0, -0.75]
    """
    dense = mode == "dense"
    return [_value(ngram_stats(ids, ngram_size, dense=dense), penalty, mode) for ids in sequences]


def _word_ids(text: str, lowercase: bool) -> list[int]:
    vocab: dict[str, int] = {}
    words = (text.lower() if lowercase else text).split()
    return [vocab.setdefault(w, len(vocab)) for w in words]


@register("ngram_repetition")
class NgramRepetition(BaseObjective):
    r"""N-gram repetition penalty (Yeo et al. 2025, "Demystifying Long Chain-of-Thought
    Reasoning in LLMs", arXiv 2502.03373, Appendix C.2).

    ``mode="ratio"`` (open-r1's and TRL's form):

    .. math:: r = \left(1 - \frac{\#\text{distinct n-grams}}{\#\text{n-grams}}\right) p,\qquad p = \texttt{penalty} \le 0

    so values lie in ``[penalty, 0]``. ``mode="dense"`` sums the paper's dense penalty:
    ``penalty`` for each position covered by an n-gram occurrence seen earlier, so values
    lie in ``[penalty * length, 0]`` (the paper: ``ngram_size=40``, ``penalty=-0.05``).
    Sequences shorter than ``ngram_size`` get 0. The verdict is PASS without repeats,
    else PARTIAL.

    ``unit="token_ids"`` (TRL's choice) reads ids from ``meta[ids_key]``, else encodes with
    the tokenizer, else (with ``fallback="whitespace"``) uses whitespace words; ``unit="words"``
    always uses whitespace words (open-r1's and the paper's sparse form), lower-cased when
    ``lowercase``. ``details["source"]`` says which was used.

    Args:
        ngram_size: n (default 3).
        penalty: ratio: the value of a fully repetitive text (default -1.0); dense: the value
            per repeated position (default -0.05). Must be <= 0.
        mode: ``"ratio"`` or ``"dense"``.
        unit: ``"token_ids"`` or ``"words"``.
        lowercase: lower-case words before comparing them (open-r1 does).
        ids_key: the ``meta`` key holding the completion's token ids.
        tokenizer: a local tokenizer path, used for token ids when ``meta`` has none.
        fallback: ``"whitespace"`` or ``"skip"`` when no token ids can be had.

    Example:
        >>> NgramRepetition(ngram_size=2).score(Sample("a", meta={"completion_ids": [5, 5, 5, 5, 5]})).value
        -0.75
    """

    name: ClassVar[str] = "ngram_repetition"

    def __init__(
        self,
        *,
        ngram_size: int = 3,
        penalty: float | None = None,
        mode: Mode = "ratio",
        unit: Unit = "token_ids",
        lowercase: bool = True,
        ids_key: str = "completion_ids",
        tokenizer: str | None = None,
        fallback: Fallback = "whitespace",
    ) -> None:
        check_choice("mode", mode, ("ratio", "dense"))
        check_choice("unit", unit, ("token_ids", "words"))
        self.ngram_size = check_int("ngram_size", ngram_size, minimum=1)
        self.penalty = check_number("penalty", _DEFAULT_PENALTY[mode] if penalty is None else penalty, maximum=0)
        self.mode = mode
        self.unit = unit
        self.lowercase = check_bool("lowercase", lowercase)
        self._counter = TokenCounter(tokenizer, fallback, ids_key)
        self.ids_key = ids_key
        self.tokenizer = self._counter.tokenizer
        self.fallback = fallback

    def values(self, sequences: Sequence[Sequence[int] | np.ndarray]) -> list[float]:
        """The penalties of these id sequences, as plain floats (no :class:`Score` objects)."""
        return ngram_repetition_values(sequences, ngram_size=self.ngram_size, penalty=self.penalty, mode=self.mode)

    def score(self, sample: Sample) -> Score:
        return self.score_batch([sample])[0]

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        samples = list(samples)
        if self.unit == "token_ids":
            found = self._counter.token_ids(samples)
        else:
            found = [(None, None)] * len(samples)
        dense = self.mode == "dense"
        out: list[Score] = []
        for s, (ids, src) in zip(samples, found):
            if ids is None:
                if self.unit == "token_ids" and self.fallback == "skip":
                    out.append(Score.skip("no token ids: set meta[ids_key] or the tokenizer option (fallback='skip')"))
                    continue
                ids, src = _word_ids(s.completion, self.lowercase), "whitespace"
            stats = ngram_stats(ids, self.ngram_size, dense=dense)
            v = _value(stats, self.penalty, self.mode)
            repeats = stats.total - stats.unique
            details: dict[str, Any] = {
                "length": len(ids),
                "source": src,
                "ngrams": stats.total,
                "unique_ngrams": stats.unique,
            }
            if dense:
                details["repeated_tokens"] = stats.repeated_tokens
            if repeats == 0:
                reason = f"no repeated {self.ngram_size}-gram" if stats.total else f"fewer than {self.ngram_size} units"
                out.append(Score(0.0, Verdict.PASS, reason, details))
            else:
                out.append(Score(v, Verdict.PARTIAL, f"{repeats} of {stats.total} {self.ngram_size}-grams repeat", details))
        return out


# open-r1's pattern (src/open_r1/rewards.py, reasoning_steps_reward).
_STEP_PATTERN = r"(Step \d+:|^\d+\.|\n-|\n\*|First,|Second,|Next,|Finally,)"


def count_reasoning_steps(text: str, pattern: str | re.Pattern[str] = _STEP_PATTERN) -> int:
    r"""The number of step markers in ``text``: ``Step N:``, ``N.`` at a line start, ``-``/``*``
    bullets after a newline, and ``First,``/``Second,``/``Next,``/``Finally,``.

    Example:
        >>> count_reasoning_steps("Step 1: add.\nStep 2: carry.\nFinally, done.")
        3
    """
    rx = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.MULTILINE)
    return sum(1 for _ in rx.finditer(text))


@register("reasoning_steps")
class ReasoningSteps(BaseObjective):
    r"""Reasoning-step count (open-r1's ``reasoning_steps_reward``).

    .. math:: r = \min\left(1, \frac{\#\text{step markers}}{k}\right)

    with ``k = target_steps`` (open-r1: 3). Markers: ``Step N:``, ``N.`` at the start of a
    line, ``-`` and ``*`` bullets after a newline, ``First,``, ``Second,``, ``Next,``,
    ``Finally,``. open-r1 compiles its pattern without ``re.MULTILINE``, so its ``^\d+\.``
    only matches at the very start of the text; here it matches at every line start, as
    its docstring intends. Values lie in ``[0, 1]``: PASS at 1, FAIL at 0, else PARTIAL.

    Args:
        target_steps: k, the number of steps that earns the full reward.
        pattern: a regular expression whose matches count as steps (compiled with ``re.MULTILINE``).
    """

    name: ClassVar[str] = "reasoning_steps"

    def __init__(self, *, target_steps: int = 3, pattern: str = _STEP_PATTERN) -> None:
        self.target_steps = check_int("target_steps", target_steps, minimum=1)
        if not isinstance(pattern, str):
            raise ConfigError(f"pattern must be a string, got {pattern!r}")
        try:
            self._rx = re.compile(pattern, re.MULTILINE)
        except re.error as exc:
            raise ConfigError(f"pattern {pattern!r} does not compile: {exc}") from exc
        self.pattern = pattern

    def __getstate__(self) -> dict[str, Any]:
        return {"target_steps": self.target_steps, "pattern": self.pattern}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def score(self, sample: Sample) -> Score:
        n = count_reasoning_steps(sample.completion, self._rx)
        v = min(1.0, n / self.target_steps)
        verdict = Verdict.PASS if v >= 1.0 else Verdict.FAIL if n == 0 else Verdict.PARTIAL
        return Score(v, verdict, f"{n} step marker(s), {self.target_steps} for full credit", {"steps": n})
