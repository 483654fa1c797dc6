"""Two small objectives the recipes need and the toolkit did not have: ``affine`` and ``column``.

* ``affine`` rescales another objective: ``scale * value + shift``. DAPO's and Parallel-R1's
  accuracy reward is +1 / -1, not 1 / 0: ``affine`` of ``math`` with ``scale = 2`` and
  ``shift = -1``. With ``scale = -1`` and ``shift = 1`` it turns a 0/1 check into its
  negation (Parallel-R1's "malformed parallel block" term).
* ``column`` reads a number the trainer computed and put in the row (``Sample.meta[key]``):
  AVAR's visual-attention reward ``r_vis``, which comes from the policy's attention maps
  and cannot be computed from the text.

Both register themselves under those names when this module is imported (the recipe
functions import it). For ``moreward check`` to accept a recipe TOML in a fresh process,
the registry's table of built-in modules must name this module for ``affine`` and
``column`` (see the report of issue 11).

Example:
    >>> from moreward.core import Sample
    >>> acc = Affine({"type": "exact_match"}, scale=2.0, shift=-1.0)
    >>> [acc.score(Sample(c, reference="4")).value for c in ("4", "5")]
    [1.0, -1.0]
    >>> Column(key="vis").score(Sample("", meta={"vis": 0.25})).value
    0.25
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from ..core import BaseObjective, Sample, Score, Verdict
from ..registry import register
from ..rewards._common import build_objective, check_key, check_number

__all__ = ["Affine", "Column"]


@register("affine")
class Affine(BaseObjective):
    r"""Another objective's value, rescaled: :math:`v' = \mathrm{scale}\cdot v + \mathrm{shift}`.

    The verdict, reason and details are the inner objective's (``details["inner_value"]``
    adds the value before rescaling). A score without a value (error, timeout, skip)
    stays without one: a failure never becomes ``shift``.

    Args:
        objective: the inner objective, or its config ``{"type": "math", ...}``.
        scale: the factor (DAPO's +1/-1 accuracy: 2).
        shift: the offset (DAPO's +1/-1 accuracy: -1).
    """

    name: ClassVar[str] = "affine"

    def __init__(self, objective: Any, *, scale: float = 1.0, shift: float = 0.0) -> None:
        self.objective = build_objective(objective, "objective")
        self.scale = check_number("scale", scale)
        self.shift = check_number("shift", shift)

    def _map(self, scores: Sequence[Score], n: int) -> list[Score]:
        scores = list(scores)
        if len(scores) != n or not all(isinstance(s, Score) for s in scores):
            return [Score.error(f"inner objective returned {len(scores)} scores for {n} samples")] * n
        out: list[Score] = []
        for s in scores:
            if s.value is None:
                out.append(s)
                continue
            v = self.scale * s.value + self.shift + 0.0
            out.append(Score(v, s.verdict, s.reason, {**s.details, "inner_value": s.value}))
        return out

    def score(self, sample: Sample) -> Score:
        return self.score_batch([sample])[0]

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        samples = list(samples)
        try:
            inner = self.objective.score_batch(samples)
        except Exception as exc:
            return [Score.error(f"inner objective raised {type(exc).__name__}: {exc}")] * len(samples)
        return self._map(inner, len(samples))

    async def ascore_batch(self, samples: Sequence[Sample]) -> list[Score]:
        samples = list(samples)
        try:
            if callable(getattr(self.objective, "ascore_batch", None)):
                inner = await self.objective.ascore_batch(samples)
            else:
                return await super().ascore_batch(samples)
        except Exception as exc:
            return [Score.error(f"inner objective raised {type(exc).__name__}: {exc}")] * len(samples)
        return self._map(inner, len(samples))


@register("column")
class Column(BaseObjective):
    """A number the trainer wrote into the row: the value of ``Sample.meta[key]``.

    For rewards that need the policy's internals, such as AVAR's visual-attention reward
    (attention to image tokens over attention to system tokens), computed in the trainer
    and passed along with the rollout. ``True``/``False`` read as 1/0. A missing key gives
    ``default`` when set, else ``SKIP`` (no value: the combiners leave it out); a value
    that is not a finite number gives ``SKIP`` with the reason.

    Args:
        key: the ``meta`` key (a JSONL column other than the mapped fields).
        default: the value when the key is missing, or ``None`` for no value.
    """

    name: ClassVar[str] = "column"

    def __init__(self, *, key: str, default: float | None = None) -> None:
        self.key = check_key("key", key)
        self.default = None if default is None else check_number("default", default)

    def score(self, sample: Sample) -> Score:
        if self.key not in sample.meta:
            if self.default is None:
                return Score.skip(f"no meta[{self.key!r}] in the row (the trainer fills this column)")
            return Score(self.default, Verdict.PARTIAL, f"meta[{self.key!r}] missing: default {self.default:g}")
        raw = sample.meta[self.key]
        if isinstance(raw, bool):
            raw = float(raw)
        if not isinstance(raw, (int, float)) or not math.isfinite(raw):
            return Score.skip(f"meta[{self.key!r}] is not a finite number: {raw!r:.40}")
        return Score(float(raw), Verdict.PARTIAL, f"meta[{self.key!r}] = {raw:g}", {"key": self.key})

