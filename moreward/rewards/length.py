"""Length rewards: DAPO's soft overlong punishment, Kimi k1.5's group length reward and the
cosine length-scaled reward (Demystifying Long CoT, open-r1). Target-length rewards (L1)
and the difficulty-aware budget live in :mod:`moreward.rewards.budget`.

Each reward is an objective class (registered by name) and, for the formula itself, a
vectorised function over plain arrays (``dapo_overlong_values`` and so on) that the
objective calls; use the functions directly where you already hold lengths.

Lengths are token counts from ``Sample.tokens`` (or the length of
``meta["completion_ids"]``), else from the tokenizer named by ``tokenizer``, else
whitespace words; ``details["source"]`` says which, and ``details["length"]`` holds the
count used. Rewards that depend on correctness (Kimi, cosine) read it from an
``accuracy`` objective when one is configured, else from ``meta["correct"]``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from ..core import Sample, Score, Verdict
from ..errors import ConfigError
from ..registry import register
from ._common import (
    CorrectnessMixin,
    Fallback,
    LengthObjective,
    check_bool,
    check_choice,
    check_int,
    check_number,
    no_length_score,
)

__all__ = [
    "ArrayLike",
    "CosineLength",
    "DapoOverlong",
    "KimiLength",
    "cosine_values",
    "dapo_overlong_values",
    "kimi_length_values",
]

ArrayLike = Sequence[float] | np.ndarray


# ----------------------------------------------------------------------------------------
# The formulas, over arrays
# ----------------------------------------------------------------------------------------


def dapo_overlong_values(
    lengths: ArrayLike, *, max_tokens: int, buffer: int, penalty_factor: float = 1.0
) -> np.ndarray:
    r"""DAPO's soft overlong punishment (Yu et al. 2025, arXiv 2503.14476, Eq. 13), times ``penalty_factor``.

    .. math::
        R(y) = \begin{cases} 0 & |y| \le L_{max} - L_{cache} \\
        \frac{(L_{max} - L_{cache}) - |y|}{L_{cache}} & L_{max} - L_{cache} < |y| \le L_{max} \\
        -1 & |y| > L_{max} \end{cases}

    Example:
        >>> dapo_overlong_values([80, 90, 100, 101], max_tokens=100, buffer=20).tolist()
        [0.0, -0.5, -1.0, -1.0]
    """
    L = np.asarray(lengths, dtype=np.float64)
    free = max_tokens - buffer
    out = np.zeros_like(L)
    over = L > max_tokens
    if buffer > 0:
        inside = (L > free) & ~over
        out[inside] = (free - L[inside]) / buffer
    out[over] = -1.0
    if penalty_factor != 1.0:
        out *= penalty_factor
    return out + 0.0  # no negative zeros


def kimi_length_values(lengths: ArrayLike, correct: Sequence[bool], groups: Sequence[Hashable]) -> np.ndarray:
    r"""Kimi k1.5's length reward (Kimi Team 2025, arXiv 2501.12599, §2.3.3), per group.

    .. math::
        \lambda_i = 0.5 - \frac{len_i - min\_len}{max\_len - min\_len},\qquad
        r_i = \begin{cases} \lambda_i & \text{correct} \\ \min(0, \lambda_i) & \text{wrong} \end{cases}

    ``min_len`` and ``max_len`` are taken over the samples sharing a group label; when
    they are equal every sample of that group gets 0.

    Example:
        >>> kimi_length_values([10, 20, 30, 30], [True, True, False, True], ["a", "a", "a", "b"]).tolist()
        [0.5, 0.0, -0.5, 0.0]
    """
    L = np.asarray(lengths, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    out = np.zeros_like(L)
    members: dict[Hashable, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    for idx_list in members.values():
        idx = np.asarray(idx_list)
        lo, hi = L[idx].min(), L[idx].max()
        if hi == lo:
            continue
        lam = 0.5 - (L[idx] - lo) / (hi - lo)
        out[idx] = np.where(ok[idx], lam, np.minimum(0.0, lam))
    return out + 0.0


def cosine_values(
    lengths: ArrayLike,
    correct: Sequence[bool],
    *,
    max_tokens: int,
    min_value_correct: float,
    max_value_correct: float,
    min_value_wrong: float,
    max_value_wrong: float,
    exceed_value: float | None = None,
    margin: int = 0,
    clamp: bool = True,
) -> np.ndarray:
    r"""The cosine length-scaled reward (Yeo et al. 2025, "Demystifying Long Chain-of-Thought
    Reasoning in LLMs", arXiv 2502.03373, §4.2 and Appendix C.1).

    .. math::
        \mathrm{CosFn}(t, T, a, b) = a + \tfrac12 (b - a)\,(1 + \cos(\pi t / T))

    A correct answer gets ``CosFn(t, T, min_value_correct, max_value_correct)``: from
    ``max_value_correct`` at ``t = 0`` down to ``min_value_correct`` at ``t = T``. A wrong
    one gets ``CosFn(t, T, max_value_wrong, min_value_wrong)``: from ``min_value_wrong`` at
    ``t = 0`` up to ``max_value_wrong`` at ``t = T``. When ``exceed_value`` is set,
    ``t + margin >= T`` gives ``exceed_value`` instead. ``clamp`` caps ``t / T`` at 1 so
    that the cosine cannot climb back past ``T``.

    Example:
        >>> cosine_values([0, 50, 100], [True, True, False], max_tokens=100, min_value_correct=0.5,
        ...               max_value_correct=1.0, min_value_wrong=-1.0, max_value_wrong=-0.5).tolist()
        [1.0, 0.75, -0.5]
    """
    L = np.asarray(lengths, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    progress = L / max_tokens
    if clamp:
        progress = np.minimum(progress, 1.0)
    cosine = np.cos(np.pi * progress)
    lo = np.where(ok, min_value_correct, max_value_wrong)  # the value at t = T
    hi = np.where(ok, max_value_correct, min_value_wrong)  # the value at t = 0
    out = lo + 0.5 * (hi - lo) * (1.0 + cosine)
    # Exactly at the ends, return the configured value rather than a rounding of it.
    out = np.where(progress == 0.0, hi, out)
    out = np.where(progress == 1.0, lo, out)
    if exceed_value is not None:
        out = np.where(L + margin >= max_tokens, exceed_value, out)
    return out + 0.0


# ----------------------------------------------------------------------------------------
# The objectives
# ----------------------------------------------------------------------------------------


@register("dapo_overlong")
class DapoOverlong(LengthObjective):
    r"""DAPO's soft overlong punishment (Yu et al. 2025, "DAPO: An Open-Source LLM Reinforcement
    Learning System at Scale", arXiv 2503.14476, Eq. 13).

    .. math::
        R(y) = \begin{cases} 0 & |y| \le L_{max} - L_{cache} \\
        \frac{(L_{max} - L_{cache}) - |y|}{L_{cache}} \cdot f & L_{max} - L_{cache} < |y| \le L_{max} \\
        -f & |y| > L_{max} \end{cases}

    It is added to the accuracy reward. Values lie in ``[-penalty_factor, 0]`` and never
    rise with length. The verdict is PASS with no penalty, PARTIAL inside the buffer and
    FAIL past ``max_tokens``.

    Args:
        max_tokens: :math:`L_{max}` (DAPO: 20480).
        buffer: :math:`L_{cache}`, the soft band below ``max_tokens`` (DAPO: 4096); 0 gives a hard cut.
        penalty_factor: :math:`f`, the scale of the penalty (verl's ``overlong_buffer.penalty_factor``).
        tokenizer: a local tokenizer path, used when a sample carries no token count.
        fallback: ``"whitespace"`` (count words when nothing else is known) or ``"skip"``.

    Example:
        >>> obj = DapoOverlong(max_tokens=100, buffer=20)
        >>> [s.value for s in obj.score_batch([Sample("", tokens=n) for n in (80, 90, 101)])]
        [0.0, -0.5, -1.0]
    """

    name: ClassVar[str] = "dapo_overlong"

    def __init__(
        self,
        *,
        max_tokens: int = 20480,
        buffer: int = 4096,
        penalty_factor: float = 1.0,
        tokenizer: str | None = None,
        fallback: Fallback = "whitespace",
    ) -> None:
        self.max_tokens = check_int("max_tokens", max_tokens, minimum=1)
        self.buffer = check_int("buffer", buffer, minimum=0, maximum=self.max_tokens)
        self.penalty_factor = check_number("penalty_factor", penalty_factor, minimum=0)
        self._init_counter(tokenizer, fallback)

    def values(self, lengths: ArrayLike) -> list[float]:
        """The rewards of these token counts, as plain floats (no :class:`Score` objects)."""
        return dapo_overlong_values(  # type: ignore[no-any-return]
            lengths, max_tokens=self.max_tokens, buffer=self.buffer, penalty_factor=self.penalty_factor
        ).tolist()

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        lens = self._lengths(samples)
        known = [n for n, _ in lens if n is not None]
        vals = iter(self.values(known))
        free = self.max_tokens - self.buffer
        out: list[Score] = []
        for n, src in lens:
            if n is None:
                out.append(no_length_score())
                continue
            v = next(vals)
            if n <= free:
                verdict, reason = Verdict.PASS, f"{n} tokens <= {free}: no penalty"
            elif n <= self.max_tokens:
                verdict, reason = Verdict.PARTIAL, f"{n} tokens in the overlong buffer ({free}, {self.max_tokens}]"
            else:
                verdict, reason = Verdict.FAIL, f"{n} tokens > max_tokens {self.max_tokens}"
            out.append(Score(v, verdict, reason, {"length": n, "source": src}))
        return out


@register("kimi_length")
class KimiLength(CorrectnessMixin, LengthObjective):
    r"""Kimi k1.5's group length reward (Kimi Team 2025, "Kimi k1.5: Scaling Reinforcement
    Learning with LLMs", arXiv 2501.12599, §2.3.3).

    Within the rollouts of one prompt (``Sample.group``):

    .. math::
        \lambda_i = 0.5 - \frac{len_i - min\_len}{max\_len - min\_len},\qquad
        r_i = \begin{cases} \lambda_i & \text{correct} \\ \min(0, \lambda_i) & \text{wrong} \end{cases}

    Every sample of a group whose lengths are all equal gets 0. Values lie in
    ``[-0.5, 0.5]`` (wrong answers in ``[-0.5, 0]``) and never rise with length inside a
    group. Kimi trains without this term first and then adds it with a constant weight:
    wrap it in ``scheduled`` with a ``linear_warmup`` (``warmup_steps=0``, ``delay=N``) or
    ``piecewise`` schedule for that.

    The verdict is PARTIAL (the value is relative to the group). ``details`` hold the
    length, its source, the group's min and max length and :math:`\lambda`.

    Args:
        accuracy: the objective (or its config, ``{"type": "math"}``) that decides correctness.
            Without it, ``meta[correct_key]`` is read (a bool, or a number where ``> 0`` is correct).
        correct_key: the ``meta`` key read when ``accuracy`` is not set.
        ungrouped: samples with ``group=None`` are each a group of their own (``"alone"``, so
            they get 0) or are pooled together (``"batch"``, as open-r1's ``len_reward`` does).
        tokenizer: a local tokenizer path, used when a sample carries no token count.
        fallback: ``"whitespace"`` or ``"skip"``.
    """

    name: ClassVar[str] = "kimi_length"

    def __init__(
        self,
        *,
        accuracy: Any = None,
        correct_key: str = "correct",
        ungrouped: Literal["alone", "batch"] = "alone",
        tokenizer: str | None = None,
        fallback: Fallback = "whitespace",
    ) -> None:
        check_choice("ungrouped", ungrouped, ("alone", "batch"))
        self._init_correctness(accuracy, correct_key)
        self.ungrouped = ungrouped
        self._init_counter(tokenizer, fallback)

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        samples = list(samples)
        lens = self._lengths(samples)
        correct = self._correctness.resolve(samples)
        groups: list[Hashable] = []
        for i, s in enumerate(samples):
            if s.group is not None:
                groups.append(("g", s.group))
            else:
                groups.append(("batch",) if self.ungrouped == "batch" else ("alone", i))
        # The group's length range counts every sample whose length is known, whether its
        # correctness is known or not; values of samples of unknown correctness are dropped.
        have = [i for i, (n, _) in enumerate(lens) if n is not None]
        vals = kimi_length_values(
            [lens[i][0] for i in have],  # type: ignore[misc]
            [correct[i] is True for i in have],
            [groups[i] for i in have],
        ).tolist()
        lo: dict[Hashable, int] = {}
        hi: dict[Hashable, int] = {}
        size: dict[Hashable, int] = {}
        for i in have:
            n, g = lens[i][0], groups[i]
            assert n is not None
            lo[g] = min(lo.get(g, n), n)
            hi[g] = max(hi.get(g, n), n)
            size[g] = size.get(g, 0) + 1
        value_of = dict(zip(have, vals))
        out: list[Score] = []
        for i, (n, src) in enumerate(lens):
            if n is None:
                out.append(no_length_score())
                continue
            c = correct[i]
            if not isinstance(c, bool):
                out.append(c)
                continue
            g = groups[i]
            glo, ghi = lo[g], hi[g]
            if ghi == glo:
                lam = 0.0
                reason = "every length in the group is equal" if size[g] > 1 else "alone in its group"
            else:
                lam = 0.5 - (n - glo) / (ghi - glo)
                reason = f"{'correct' if c else 'wrong'}: lambda = {lam:.4f} over lengths [{glo}, {ghi}]"
            out.append(
                Score(
                    value_of[i],
                    Verdict.PARTIAL,
                    reason,
                    {"length": n, "source": src, "correct": c, "min_length": glo, "max_length": ghi, "lambda": lam},
                )
            )
        return out


_COSINE_PRESETS: dict[str, dict[str, Any]] = {
    # Demystify launch scripts: min/max_value_correct 1/2, min/max_value_wrong -10/0,
    # exceed_length -10, generate_max_len 14336, MAX_LEN_MARGIN 16.
    "demystify": {
        "max_tokens": 14336,
        "min_value_correct": 1.0,
        "max_value_correct": 2.0,
        "min_value_wrong": -10.0,
        "max_value_wrong": 0.0,
        "exceed_value": -10.0,
        "margin": 16,
    },
    # open-r1 get_cosine_scaled_reward defaults (open-r1 measures characters; here tokens).
    "open_r1": {
        "max_tokens": 1000,
        "min_value_correct": 0.5,
        "max_value_correct": 1.0,
        "min_value_wrong": -1.0,
        "max_value_wrong": -0.5,
        "exceed_value": None,
        "margin": 0,
    },
}
class _FromPreset:
    """The default of an option whose value comes from the preset."""

    def __repr__(self) -> str:
        return "<from preset>"


_UNSET: Any = _FromPreset()


@register("cosine_length")
class CosineLength(CorrectnessMixin, LengthObjective):
    r"""The cosine length-scaled reward (Yeo et al. 2025, "Demystifying Long Chain-of-Thought
    Reasoning in LLMs", arXiv 2502.03373, §4.2, Appendix C.1).

    .. math::
        \mathrm{CosFn}(t, T, a, b) = a + \tfrac12 (b - a)\,(1 + \cos(\pi t / T))

    Correct: ``CosFn(t, T, min_value_correct, max_value_correct)``, falling from
    ``max_value_correct`` at ``t = 0`` to ``min_value_correct`` at ``t = T``. Wrong:
    ``CosFn(t, T, max_value_wrong, min_value_wrong)``, rising from ``min_value_wrong`` to
    ``max_value_wrong``. With ``exceed_value`` set, ``t + margin >= T`` scores
    ``exceed_value``. Shorter is better when right; longer is better when wrong.

    Presets (each value can be overridden):

    * ``"demystify"`` (the paper's launch scripts): ``T = 14336``, correct 2 -> 1, wrong
      -10 -> 0, exceed -10 with a margin of 16 tokens. The paper pairs it with the
      ``ngram_repetition`` penalty (``ngram_size=40``, ``mode="dense"``, ``penalty=-0.05``).
    * ``"open_r1"`` (open-r1's ``get_cosine_scaled_reward``): ``T = 1000``, correct 1 -> 0.5,
      wrong -1 -> -0.5, no exceed penalty. open-r1 counts characters and does not clamp
      ``t / T``; here ``t`` is tokens and ``clamp=True`` keeps values past ``T`` at the ``T``
      value (TRL's behaviour). Set ``clamp=False`` to reproduce the unclamped curve.

    Values lie in ``[min_value_correct, max_value_correct]`` when correct,
    ``[min_value_wrong, max_value_wrong]`` when wrong, or ``exceed_value``. The verdict is
    PARTIAL, or FAIL for the exceed penalty.

    Args:
        preset: ``"demystify"`` or ``"open_r1"``.
        max_tokens: :math:`T`.
        min_value_correct, max_value_correct, min_value_wrong, max_value_wrong: the curve's ends.
        exceed_value: the value when ``t + margin >= T`` (``None``: no exceed penalty).
        margin: tokens added to ``t`` before the exceed check (Demystify's ``MAX_LEN_MARGIN``).
        clamp: cap ``t / T`` at 1.
        accuracy, correct_key: where correctness comes from (see :class:`KimiLength`).
        tokenizer, fallback: where token counts come from.
    """

    name: ClassVar[str] = "cosine_length"

    def __init__(
        self,
        *,
        preset: Literal["demystify", "open_r1"] = "demystify",
        max_tokens: int | None = None,
        min_value_correct: float | None = None,
        max_value_correct: float | None = None,
        min_value_wrong: float | None = None,
        max_value_wrong: float | None = None,
        exceed_value: Any = _UNSET,
        margin: int | None = None,
        clamp: bool = True,
        accuracy: Any = None,
        correct_key: str = "correct",
        tokenizer: str | None = None,
        fallback: Fallback = "whitespace",
    ) -> None:
        check_choice("preset", preset, tuple(_COSINE_PRESETS))
        base = _COSINE_PRESETS[preset]
        self.preset = preset

        def pick(name: str, value: Any) -> Any:
            return base[name] if value is None else value

        self.max_tokens = check_int("max_tokens", pick("max_tokens", max_tokens), minimum=1)
        self.min_value_correct = check_number("min_value_correct", pick("min_value_correct", min_value_correct))
        self.max_value_correct = check_number("max_value_correct", pick("max_value_correct", max_value_correct))
        self.min_value_wrong = check_number("min_value_wrong", pick("min_value_wrong", min_value_wrong))
        self.max_value_wrong = check_number("max_value_wrong", pick("max_value_wrong", max_value_wrong))
        if self.min_value_correct > self.max_value_correct:
            raise _order_error("min_value_correct", self.min_value_correct, "max_value_correct", self.max_value_correct)
        if self.min_value_wrong > self.max_value_wrong:
            raise _order_error("min_value_wrong", self.min_value_wrong, "max_value_wrong", self.max_value_wrong)
        ev = base["exceed_value"] if exceed_value is _UNSET else exceed_value
        self.exceed_value = None if ev is None else check_number("exceed_value", ev)
        self.margin = check_int("margin", pick("margin", margin), minimum=0)
        self.clamp = check_bool("clamp", clamp)
        self._init_correctness(accuracy, correct_key)
        self._init_counter(tokenizer, fallback)

    def values(self, lengths: ArrayLike, correct: Sequence[bool]) -> list[float]:
        """The rewards of these token counts and correctness flags, as plain floats."""
        return cosine_values(  # type: ignore[no-any-return]
            lengths,
            correct,
            max_tokens=self.max_tokens,
            min_value_correct=self.min_value_correct,
            max_value_correct=self.max_value_correct,
            min_value_wrong=self.min_value_wrong,
            max_value_wrong=self.max_value_wrong,
            exceed_value=self.exceed_value,
            margin=self.margin,
            clamp=self.clamp,
        ).tolist()

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        samples = list(samples)
        lens = self._lengths(samples)
        correct = self._correctness.resolve(samples)
        idx = [i for i, (n, _) in enumerate(lens) if n is not None and isinstance(correct[i], bool)]
        vals = dict(zip(idx, self.values([lens[i][0] for i in idx], [correct[i] for i in idx])))  # type: ignore[misc]
        out: list[Score] = []
        for i, (n, src) in enumerate(lens):
            if n is None:
                out.append(no_length_score())
                continue
            c = correct[i]
            if not isinstance(c, bool):
                out.append(c)
                continue
            exceeded = self.exceed_value is not None and n + self.margin >= self.max_tokens
            if exceeded:
                verdict, reason = Verdict.FAIL, f"{n} + margin {self.margin} >= max_tokens {self.max_tokens}"
            else:
                verdict, reason = Verdict.PARTIAL, f"{'correct' if c else 'wrong'} at {n}/{self.max_tokens} tokens"
            out.append(Score(vals[i], verdict, reason, {"length": n, "source": src, "correct": c}))
        return out


def _order_error(lo_name: str, lo: float, hi_name: str, hi: float) -> ConfigError:
    return ConfigError(f"{lo_name}={lo:g} must be <= {hi_name}={hi:g}")
