"""Group-normalised combiners: :class:`Decoupled` (MO-GRPO / GDPO, the default) and
:class:`Gated` (conditional and lexicographic rewards: AVAR, DDCA), plus
:func:`group_zscore`, the GRPO advantage of one reward.

Why decouple: GRPO on a summed reward, ``A = z(sum_k w_k r_k)``, collapses distinct
reward combinations onto the same advantages (two binary rewards, G = 2: the pairs of
sums (0, 1), (0, 2) and (1, 2) all give (-0.707, 0.707)) and lets the objective with the
largest in-group variance take over. Normalising each objective in its group first gives
every objective an equal, scale-free say and keeps the combinations apart.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from ..errors import ConfigError
from ._segments import Segments
from .combiners import (
    Combiner,
    as_matrix,
    as_maximise,
    group_codes,
    register_combiner,
    resolve_weights,
    weights_setting,
)

__all__ = ["Decoupled", "Gated", "group_zscore"]

GroupsLike = Sequence[Hashable] | np.ndarray | None
WeightsLike = Mapping[str, float] | Sequence[float] | None


def zscores(
    M: np.ndarray, seg: Segments, mask: np.ndarray, *, eps: float, ddof: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-objective group z-scores ``(r - mean_g) / (std_g + eps)`` over the entries in ``mask``.

    Entries outside ``mask`` get 0, and so does every entry of a (group, objective) whose
    masked values are all equal or fewer than two (``constant``, returned as (S, K)).
    """
    V = np.where(mask, M, 0.0)
    cnt = seg.sum(mask.astype(float))
    mean = seg.sum(V) / np.maximum(cnt, 1.0)
    dev = np.where(mask, M - mean[seg.codes], 0.0)
    var = seg.sum(dev * dev) / np.maximum(cnt - ddof, 1.0)
    hi = seg.max(np.where(mask, M, -np.inf))
    lo = seg.min(np.where(mask, M, np.inf))
    constant = (cnt < 2) | ~(hi > lo)
    scale = np.sqrt(var) + eps
    scale = np.where(scale > 0, scale, 1.0)  # eps = 0 on a constant group: z = 0 anyway
    Z = np.where(mask & ~constant[seg.codes], dev / scale[seg.codes], 0.0)
    return Z, constant


def batch_normalise(A: np.ndarray, eps: float) -> np.ndarray:
    """``(A - mean) / (std + eps)`` over the non-NaN entries of the batch (GDPO's last step)."""
    ok = ~np.isnan(A)
    if not ok.any():
        return A
    mean = A[ok].mean()
    std = A[ok].std()
    out = A.copy()
    out[ok] = (A[ok] - mean) / (std + eps) if std > 0 else A[ok] - mean
    return out


def group_zscore(x: Any, groups: GroupsLike = None, /, *, eps: float = 1e-6, ddof: int = 1) -> np.ndarray:
    """The GRPO advantage of one reward: ``(x - mean_g) / (std_g + eps)`` within each group.

    A group whose values are all equal (or a group of one) gets 0; NaN stays NaN and is
    left out of its group's statistics. ``ddof=1`` is the sample standard deviation that
    ``torch.std`` (and so TRL and verl) uses.

    Examples:
        >>> group_zscore([0.0, 1.0, 3.0, 3.0], [0, 0, 1, 1], eps=0).round(3).tolist()
        [-0.707, 0.707, 0.0, 0.0]
    """
    v = np.array(x, dtype=float, copy=True).reshape(-1)
    seg = Segments(group_codes(groups, v.size))
    M = v[:, None]
    if v.size == 0:
        return v
    Z, _ = zscores(M, seg, ~np.isnan(M), eps=eps, ddof=ddof)
    out = Z[:, 0]
    out[np.isnan(v)] = np.nan
    return out


def _signed_weights(weights: Any, k: int, names: Sequence[str] | None, maximise: Any) -> np.ndarray:
    return resolve_weights(weights, k, names) * np.where(as_maximise(maximise, k), 1.0, -1.0)


@register_combiner
class Decoupled(Combiner):
    """MO-GRPO / GDPO: normalise each objective within its group, then weight and sum.

    ``A_i = sum_k w_k * s_k * (R_ik - mean_g(R_k)) / (std_g(R_k) + eps)``, ``s_k = -1`` for a
    minimised objective; with ``batch_norm=True`` the result is renormalised over the
    batch, ``A <- (A - mean_B A) / (std_B A + eps)`` (GDPO's scale that does not grow with K).

    References: MO-GRPO, arXiv:2509.22047 (``A = sum_k z_k``: equal, scale-free say for
    each objective); GDPO (NVIDIA), arXiv:2601.05242 (``A = BN_batch(sum_k w_k z_k)``:
    fixes the collapse, keeps the scale independent of K). Implemented from the
    formulas (GDPO's code is under a non-commercial licence).

    Output: an advantage (group mean 0); do not group-normalise it again.

    Edge cases: an objective constant within a group (or with fewer than two values)
    adds 0 for that group, so a group of one rollout or of identical rollouts gets 0;
    a missing value (NaN) adds 0 for that objective and is left out of the group's
    mean and std; a rollout with every value missing gets NaN; one objective gives
    GRPO's advantage.

    Args:
        weights: per objective, a sequence or a mapping by name (default 1 each).
        eps: added to the group std.
        ddof: delta degrees of freedom of the group std (1: ``torch.std``'s default).
        batch_norm: renormalise the summed advantage over the whole batch (GDPO).
    """

    name: ClassVar[str] = "decoupled"

    def __init__(
        self, *, weights: WeightsLike = None, eps: float = 1e-6, ddof: int = 1, batch_norm: bool = False
    ) -> None:
        if eps < 0 or ddof < 0:
            raise ConfigError("eps and ddof must be >= 0")
        self.weights = weights_setting(weights)
        self.eps = float(eps)
        self.ddof = int(ddof)
        self.batch_norm = bool(batch_norm)

    def __call__(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        M = as_matrix(R)
        n, k = M.shape
        seg = Segments(group_codes(groups, n))
        if k == 0 or n == 0:
            return np.full(n, np.nan)
        w = _signed_weights(self.weights, k, names, maximise)
        present = ~np.isnan(M)
        Z, _ = zscores(M, seg, present, eps=self.eps, ddof=self.ddof)
        out = Z @ w
        out[~present.any(axis=1)] = np.nan
        return batch_normalise(out, self.eps) if self.batch_norm else out


_CONDITION = re.compile(r"^\s*(?P<name>[^<>=!\s]+)\s*(?:(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>\S+))?\s*$")
_OPS = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def _parse_condition(text: str) -> tuple[str, str, float]:
    m = _CONDITION.match(text)
    if m is None:
        raise ConfigError(
            f"gate condition {text!r} is not '<objective> <op> <number>' (op: {' '.join(_OPS)})"
        )
    if m["op"] is None:
        return m["name"], ">", 0.0
    try:
        return m["name"], m["op"], float(m["value"])
    except ValueError:
        raise ConfigError(f"gate condition {text!r}: {m['value']!r} is not a number") from None


@register_combiner
class Gated(Combiner):
    """Conditional (gated) rewards: an objective counts only where its gate is open.

    ``r_i = sum_k w_k * s_k * g_ik * v_ik`` where ``g_ik`` is 1 when every condition of
    objective k holds for rollout i (conditions compare the *raw* value of another
    objective with a number; NaN fails) and 0 otherwise, and ``v`` is:

    - ``normalise="none"``: the raw value, e.g. AVAR's visual-anchor reward
      ``acc + 0.3 * vis * 1[acc > 0] + 0.1 * fmt`` is
      ``Gated(weights={"acc": 1, "vis": 0.3, "fmt": 0.1}, gates={"vis": "acc > 0"})``
      (Attention-Guided Visual Anchoring and Reflection, "From Narrow to Panoramic
      Vision: Attention-Guided Cold-Start Reshapes Multimodal Reasoning");
    - ``normalise="group"``: the group z-score of the objective computed *only among the
      rollouts whose gate is open* (DDCA, arXiv:2602.02099: the length advantage is
      normalised among the correct rollouts only, so wrong answers do not dilute its
      baseline); with no gates this is :class:`Decoupled`.

    ``scale_by_pass_rate=True`` multiplies a gated term by the share of the group's
    rollouts whose gate is open (DDCA's strength proportional to the pass rate).

    Lexicographic order: gate every secondary objective on the primary one reaching its
    threshold, ``gates={"format": "acc >= 1", "length": "acc >= 1"}``, and keep the
    secondary terms smaller than one step of the primary
    (``r = acc + 1[acc >= tau] * sum_k w_k r_k`` in pareto.md's notation).

    Output: a reward with ``normalise="none"``, an advantage with ``"group"``.

    Edge cases: a missing value adds 0; a rollout with every value missing gets NaN.

    Args:
        weights: per objective, a sequence or a mapping by name (default 1 each).
        gates: objective name -> condition or list of conditions (all must hold), each
            ``"<objective> <op> <number>"`` with op in ``> >= < <= == !=``, or a bare
            ``"<objective>"`` for ``> 0``. Without ``names`` the objectives are called
            ``"0"``, ``"1"``, ...
        normalise: ``"none"`` or ``"group"`` (see above).
        scale_by_pass_rate: see above.
        eps, ddof: of the group normalisation.
    """

    name: ClassVar[str] = "gated"

    def __init__(
        self,
        *,
        weights: WeightsLike = None,
        gates: Mapping[str, str | Sequence[str]] | None = None,
        normalise: Literal["none", "group"] = "none",
        scale_by_pass_rate: bool = False,
        eps: float = 1e-6,
        ddof: int = 1,
    ) -> None:
        if normalise not in ("none", "group"):
            raise ConfigError(f"normalise must be 'none' or 'group', got {normalise!r}")
        self.weights = weights_setting(weights)
        stored: dict[str, tuple[str, ...]] = {}
        for target, conds in (gates or {}).items():
            conds = (conds,) if isinstance(conds, str) else tuple(conds)
            for c in conds:
                _parse_condition(c)  # fail early
            stored[str(target)] = tuple(str(c) for c in conds)
        self.gates = stored
        self.normalise = normalise
        self.scale_by_pass_rate = bool(scale_by_pass_rate)
        self.eps = float(eps)
        self.ddof = int(ddof)

    def open_mask(self, M: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """(N, K) bool: where each objective's gate is open (True for ungated objectives)."""
        index = {nm: j for j, nm in enumerate(names)}
        gate = np.ones(M.shape, dtype=bool)
        for target, conds in self.gates.items():
            if target not in index:
                raise ConfigError(f"gates names unknown objective {target!r}; objectives: {', '.join(names)}")
            for c in conds:
                other, op, value = _parse_condition(c)
                if other not in index:
                    raise ConfigError(
                        f"gate {c!r} names unknown objective {other!r}; objectives: {', '.join(names)}"
                    )
                col = M[:, index[other]]
                with np.errstate(invalid="ignore"):
                    gate[:, index[target]] &= _OPS[op](col, value) & ~np.isnan(col)
        return gate

    def __call__(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        M = as_matrix(R)
        n, k = M.shape
        seg = Segments(group_codes(groups, n))
        if k == 0 or n == 0:
            return np.full(n, np.nan)
        cols = list(names) if names is not None else [str(j) for j in range(k)]
        if len(cols) != k:
            raise ValueError(f"{len(cols)} names for {k} objectives")
        w = _signed_weights(self.weights, k, names, maximise)
        present = ~np.isnan(M)
        gate = self.open_mask(M, cols)
        if self.normalise == "group":
            V, _ = zscores(M, seg, present & gate, eps=self.eps, ddof=self.ddof)
        else:
            V = np.where(present & gate, M, 0.0)
        if self.scale_by_pass_rate:
            rate = seg.sum(gate.astype(float)) / np.maximum(seg.counts, 1)[:, None]
            V = V * rate[seg.codes]
        out = V @ w
        out[~present.any(axis=1)] = np.nan
        return out
