"""Target-length rewards: L1's exact and max length control, with the target read from the
prompt (``"Think for N tokens."``), and a difficulty-aware token budget set from the
group's pass rate (after TH2T).

Lengths come from the same places as in :mod:`moreward.rewards.length`
(``details["source"]`` says which); correctness from an ``accuracy`` objective, else
``meta["correct"]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

import numpy as np

from ..core import Sample, Score, Verdict
from ..registry import register
from ._common import (
    CorrectnessMixin,
    Fallback,
    LengthObjective,
    check_int,
    check_key,
    check_number,
    no_length_score,
)
from .length import ArrayLike

__all__ = [
    "DifficultyBudget",
    "L1Exact",
    "L1Max",
    "difficulty_budget_tokens",
    "l1_exact_values",
    "l1_max_values",
    "parse_target_tokens",
]


def l1_exact_values(lengths: ArrayLike, targets: ArrayLike, correct: Sequence[bool], *, alpha: float) -> np.ndarray:
    r"""L1-Exact (Aggarwal & Welleck 2025, "L1: Controlling How Long a Reasoning Model Thinks
    With Reinforcement Learning", arXiv 2503.04697, Eq. 1).

    .. math::
        r = \mathbb{1}[\text{correct}] - \alpha\,|n_{gold} - n_y|

    Example:
        >>> l1_exact_values([1000, 1500], [1000, 1000], [True, False], alpha=0.001).tolist()
        [1.0, -0.5]
    """
    L = np.asarray(lengths, dtype=np.float64)
    T = np.asarray(targets, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    return ok - alpha * np.abs(T - L) + 0.0


def l1_max_values(
    lengths: ArrayLike, targets: ArrayLike, correct: Sequence[bool], *, alpha: float, delta: float
) -> np.ndarray:
    r"""L1-Max (Aggarwal & Welleck 2025, arXiv 2503.04697, Eq. 2).

    .. math::
        r = \mathbb{1}[\text{correct}] \cdot \mathrm{clip}(\alpha\,(n_{gold} - n_y) + \delta,\ 0,\ 1)

    With ``alpha = 1/1000`` and ``delta = 0.5`` this is the released code's
    ``(clip((n_gold - n_y) / 500, -1, 1) + 1) / 2``.

    Example:
        >>> l1_max_values([500, 1000, 1500, 400], [1000] * 4, [True, True, True, False], alpha=0.001, delta=0.5).tolist()
        [1.0, 0.5, 0.0, 0.0]
    """
    L = np.asarray(lengths, dtype=np.float64)
    T = np.asarray(targets, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    return ok * np.clip(alpha * (T - L) + delta, 0.0, 1.0) + 0.0


def difficulty_budget_tokens(pass_rate: float, *, min_tokens: int, max_tokens: int) -> float:
    """The token budget for a prompt whose rollouts pass at ``pass_rate``: linear from
    ``max_tokens`` (nothing passes: hard) down to ``min_tokens`` (everything passes: easy).

    Example:
        >>> difficulty_budget_tokens(0.75, min_tokens=1000, max_tokens=5000)
        2000.0
    """
    p = min(1.0, max(0.0, float(pass_rate)))
    return float(max_tokens - p * (max_tokens - min_tokens))


# At most 9 digits: a longer "number" is not a token budget (and int() of a huge digit string raises).
_TARGET = re.compile(r"think\s+for\s+(?:maximum\s+|at\s+most\s+|up\s+to\s+)?(\d{1,9})\s+tokens", re.IGNORECASE)


def parse_target_tokens(prompt: str | None) -> int | None:
    """The token target of an L1 prompt, ``"Think for N tokens."`` (L1-Exact) or
    ``"Think for maximum N tokens."`` (L1-Max); the last one wins. ``None`` when absent.

    Example:
        >>> parse_target_tokens("Solve x. Think for 1024 tokens.")
        1024
    """
    if not prompt:
        return None
    found = _TARGET.findall(prompt)
    return int(found[-1]) if found else None


# ----------------------------------------------------------------------------------------
# The objectives
# ----------------------------------------------------------------------------------------


class _L1Base(CorrectnessMixin, LengthObjective):
    target_key: str

    def _init_target(self, target_key: str) -> None:
        self.target_key = check_key("target_key", target_key)

    def _target(self, sample: Sample) -> tuple[int | None, str]:
        t = parse_target_tokens(sample.prompt)
        if t is not None:
            return t, "prompt"
        v = sample.meta.get(self.target_key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0:
            return int(v), "meta"
        return None, ""

    def _formula(self, lengths: list[int], targets: list[int], correct: list[bool]) -> list[float]:
        raise NotImplementedError  # pragma: no cover

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        samples = list(samples)
        lens = self._lengths(samples)
        targets = [self._target(s) for s in samples]
        correct = self._correctness.resolve(samples)
        idx = [
            i
            for i, (n, _) in enumerate(lens)
            if n is not None and targets[i][0] is not None and isinstance(correct[i], bool)
        ]
        vals = dict(
            zip(
                idx,
                self._formula(
                    [lens[i][0] for i in idx],  # type: ignore[misc]
                    [targets[i][0] for i in idx],  # type: ignore[misc]
                    [correct[i] for i in idx],  # type: ignore[misc]
                ),
            )
        )
        out: list[Score] = []
        for i, (n, src) in enumerate(lens):
            t, where = targets[i]
            if t is None:
                out.append(
                    Score.skip(f"no token target: no 'Think for N tokens.' in the prompt and no meta[{self.target_key!r}]")
                )
                continue
            if n is None:
                out.append(no_length_score())
                continue
            c = correct[i]
            if not isinstance(c, bool):
                out.append(c)
                continue
            out.append(
                Score(
                    vals[i],
                    Verdict.PARTIAL,
                    f"{'correct' if c else 'wrong'}: {n} tokens for a target of {t}",
                    {"length": n, "source": src, "target": t, "target_source": where, "correct": c},
                )
            )
        return out


@register("l1_exact")
class L1Exact(_L1Base):
    r"""L1-Exact length control (Aggarwal & Welleck 2025, "L1: Controlling How Long a Reasoning
    Model Thinks With Reinforcement Learning", arXiv 2503.04697, Eq. 1).

    .. math::
        r = \mathbb{1}[\text{correct}] - \alpha\,|n_{gold} - n_y|

    :math:`n_{gold}` is read from the prompt's ``"Think for N tokens."`` (or
    ``"Think for maximum N tokens."``), else from ``meta[target_key]``; with neither the
    sample is skipped. Values are at most 1 (correct, exactly on target) and fall by
    ``alpha`` per token away from the target, with no lower bound. The paper uses
    :math:`\alpha = 0.0003`; the released code uses ``1/3000``.

    Args:
        alpha: the penalty per token of deviation.
        target_key: the ``meta`` key read when the prompt has no target.
        accuracy, correct_key: where correctness comes from (see :class:`KimiLength`).
        tokenizer, fallback: where token counts come from.
    """

    name: ClassVar[str] = "l1_exact"

    def __init__(
        self,
        *,
        alpha: float = 0.0003,
        target_key: str = "target_tokens",
        accuracy: Any = None,
        correct_key: str = "correct",
        tokenizer: str | None = None,
        fallback: Fallback = "whitespace",
    ) -> None:
        self.alpha = check_number("alpha", alpha, minimum=0)
        self._init_target(target_key)
        self._init_correctness(accuracy, correct_key)
        self._init_counter(tokenizer, fallback)

    def _formula(self, lengths: list[int], targets: list[int], correct: list[bool]) -> list[float]:
        return l1_exact_values(lengths, targets, correct, alpha=self.alpha).tolist()  # type: ignore[no-any-return]


@register("l1_max")
class L1Max(_L1Base):
    r"""L1-Max length control (Aggarwal & Welleck 2025, arXiv 2503.04697, Eq. 2).

    .. math::
        r = \mathbb{1}[\text{correct}] \cdot \mathrm{clip}(\alpha\,(n_{gold} - n_y) + \delta,\ 0,\ 1)

    The defaults ``alpha = 1/1000`` and ``delta = 0.5`` are the released code's
    ``(clip((n_gold - n_y)/500, -1, 1) + 1)/2``: 0.5 exactly on target, 1 at 500 tokens
    under, 0 at 500 tokens over. Values lie in ``[0, 1]``, are 0 for wrong answers, and
    never rise with length. The target is read as in :class:`L1Exact`.

    Args:
        alpha: the slope per token.
        delta: the value exactly on target.
        target_key, accuracy, correct_key, tokenizer, fallback: as in :class:`L1Exact`.
    """

    name: ClassVar[str] = "l1_max"

    def __init__(
        self,
        *,
        alpha: float = 0.001,
        delta: float = 0.5,
        target_key: str = "target_tokens",
        accuracy: Any = None,
        correct_key: str = "correct",
        tokenizer: str | None = None,
        fallback: Fallback = "whitespace",
    ) -> None:
        self.alpha = check_number("alpha", alpha, minimum=0)
        self.delta = check_number("delta", delta, minimum=0, maximum=1)
        self._init_target(target_key)
        self._init_correctness(accuracy, correct_key)
        self._init_counter(tokenizer, fallback)

    def _formula(self, lengths: list[int], targets: list[int], correct: list[bool]) -> list[float]:
        return l1_max_values(lengths, targets, correct, alpha=self.alpha, delta=self.delta).tolist()  # type: ignore[no-any-return]


@register("difficulty_budget")
class DifficultyBudget(CorrectnessMixin, LengthObjective):
    r"""A difficulty-aware token budget, after TH2T (Liu et al. 2025, "Think How to Think:
    Mitigating Overthinking with Autonomous Difficulty Cognition in Large Reasoning
    Models", arXiv 2507.02663): easy prompts should get short answers, hard ones long.

    TH2T itself is supervised fine-tuning with no RL reward; this is moreward's RL form of
    its idea. The difficulty is the group's pass rate :math:`p` (the share of correct
    rollouts of the prompt, or ``meta[pass_rate_key]`` when given), the budget is linear
    in it, and tokens over budget are penalised:

    .. math::
        B = L_{max} - p\,(L_{max} - L_{min}),\qquad
        r = -\min\!\left(1,\ \frac{\max(0,\ n - B)}{\tau B}\right)

    Values lie in ``[-1, 0]`` and never rise with length. The verdict is PASS within the
    budget, PARTIAL over it and FAIL at -1. The defaults are moreward's, not the paper's.

    Args:
        min_tokens: :math:`L_{min}`, the budget when every rollout is correct.
        max_tokens: :math:`L_{max}`, the budget when none is.
        tolerance: :math:`\tau`: the penalty reaches -1 at ``(1 + tolerance) * B`` tokens.
        pass_rate_key: a ``meta`` key holding a known pass rate in ``[0, 1]`` that overrides the group's.
        accuracy, correct_key: where correctness comes from (see :class:`KimiLength`).
        tokenizer, fallback: where token counts come from.
    """

    name: ClassVar[str] = "difficulty_budget"

    def __init__(
        self,
        *,
        min_tokens: int = 1024,
        max_tokens: int = 8192,
        tolerance: float = 1.0,
        pass_rate_key: str = "pass_rate",
        accuracy: Any = None,
        correct_key: str = "correct",
        tokenizer: str | None = None,
        fallback: Fallback = "whitespace",
    ) -> None:
        self.min_tokens = check_int("min_tokens", min_tokens, minimum=1)
        self.max_tokens = check_int("max_tokens", max_tokens, minimum=self.min_tokens)
        self.tolerance = check_number("tolerance", tolerance, minimum=0, strict_min=True)
        self.pass_rate_key = check_key("pass_rate_key", pass_rate_key)
        self._init_correctness(accuracy, correct_key)
        self._init_counter(tokenizer, fallback)

    def budget(self, pass_rate: float) -> float:
        """The token budget at this pass rate."""
        return difficulty_budget_tokens(pass_rate, min_tokens=self.min_tokens, max_tokens=self.max_tokens)

    def penalty(self, length: float, budget: float) -> float:
        """The reward of ``length`` tokens against ``budget``."""
        over = max(0.0, length - budget)
        return -min(1.0, over / (self.tolerance * budget)) + 0.0

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        samples = list(samples)
        lens = self._lengths(samples)
        correct = self._correctness.resolve(samples)
        tally: dict[Hashable, list[int]] = {}
        for i, s in enumerate(samples):
            g: Hashable = ("g", s.group) if s.group is not None else ("alone", i)
            t = tally.setdefault(g, [0, 0])
            if isinstance(correct[i], bool):
                t[0] += int(correct[i])  # type: ignore[arg-type]
                t[1] += 1
        out: list[Score] = []
        for i, (s, (n, src)) in enumerate(zip(samples, lens)):
            if n is None:
                out.append(no_length_score())
                continue
            given = s.meta.get(self.pass_rate_key)
            if isinstance(given, (int, float)) and not isinstance(given, bool) and 0.0 <= given <= 1.0:
                p, p_src = float(given), "meta"
            else:
                passed, seen = tally[("g", s.group) if s.group is not None else ("alone", i)]
                if seen == 0:
                    c = correct[i]
                    out.append(c if isinstance(c, Score) else Score.skip("pass rate unknown"))
                    continue
                p, p_src = passed / seen, "group"
            b = self.budget(p)
            v = self.penalty(n, b)
            if v == 0.0:
                verdict, reason = Verdict.PASS, f"{n} tokens within the budget {b:.0f} (pass rate {p:.2f})"
            elif v <= -1.0:
                verdict, reason = Verdict.FAIL, f"{n} tokens: at least {1 + self.tolerance:g}x the budget {b:.0f}"
            else:
                verdict, reason = Verdict.PARTIAL, f"{n} tokens over the budget {b:.0f} (pass rate {p:.2f})"
            out.append(
                Score(v, verdict, reason, {"length": n, "source": src, "budget": b, "pass_rate": p, "pass_rate_source": p_src})
            )
        return out
