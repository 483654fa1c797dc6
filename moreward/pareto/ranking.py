"""Dominance-based combiners: :class:`ParetoRank` (non-dominated sorting with a crowding
tie-break) and :class:`HVContribution` (exclusive hypervolume contribution in the
rollout's front). Both are scale-free and need no weights.

Both give ``r_i = -rank_i + beta * t_i`` with ``rank_i`` the rollout's front in its
group (0 = non-dominated) and a tie-break ``t_i in [0, 1]`` inside the front. With
``beta < 1`` fronts never overlap: a rollout always scores strictly above every rollout
it dominates. Output: a reward, to be group-normalised by the trainer.

Missing values (NaN) are the worst value of their objective (a rollout can be dominated
through a missing objective, never dominate through it); a rollout with every value
missing gets NaN and takes no part in its group's ranking.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from ..errors import ConfigError
from ._segments import Segments, dense_codes
from .combiners import Combiner, as_matrix, as_maximise, group_codes, register_combiner
from .dominance import crowding_distance, pareto_rank
from .hv import hv_contributions

__all__ = ["HVContribution", "ParetoRank"]

GroupsLike = Sequence[Hashable] | np.ndarray | None


def _check_beta(beta: float) -> float:
    if not 0 <= beta < 1:
        raise ConfigError(f"beta must be in [0, 1) so that fronts never overlap, got {beta!r}")
    return float(beta)


class _RankBased(Combiner):
    def _rows(self, R: Any, groups: GroupsLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The matrix, all group codes, the rows with any value, and the output (NaN)."""
        M = as_matrix(R)
        n = M.shape[0]
        codes = group_codes(groups, n)
        rows = np.flatnonzero(~np.isnan(M).all(axis=1)) if M.shape[1] else np.zeros(0, dtype=np.intp)
        return M, codes, rows, np.full(n, np.nan)


@register_combiner
class ParetoRank(_RankBased):
    """Group NSGA-II: ``r_i = -rank_i + beta * cd_i``.

    ``rank_i`` is the non-dominated sorting front of rollout i in its group
    (:func:`~moreward.pareto.pareto_rank`) and ``cd_i`` its crowding distance inside the
    front (:func:`~moreward.pareto.crowding_distance`) divided by K, with the extremes of
    the front (infinite distance) at 1. Invariant to any strictly increasing transform of
    an objective for the rank, to positive affine rescaling for the crowding term.

    References: Deb et al., "A fast and elitist multiobjective genetic algorithm:
    NSGA-II", IEEE TEVC 2002; as a group advantage, ParetoPO (arXiv:2606.16111, stage 2:
    Pareto-rank advantage within the group; pareto.md section 2).

    Failure mode: with binary rewards most rollouts tie, giving few distinct values; and
    it ignores by how much a rollout is better.

    Edge cases: a group of one rollout, or of identical rollouts, gets 0 for all; one
    objective gives ``-(dense rank of the value)``.

    Args:
        tiebreak: ``"crowding"`` (default) or ``"none"``.
        beta: weight of the tie-break, in [0, 1) (default 0.5).
    """

    name: ClassVar[str] = "pareto_rank"

    def __init__(self, *, tiebreak: Literal["crowding", "none"] = "crowding", beta: float = 0.5) -> None:
        if tiebreak not in ("crowding", "none"):
            raise ConfigError(f"tiebreak must be 'crowding' or 'none', got {tiebreak!r}")
        self.tiebreak = tiebreak
        self.beta = _check_beta(beta)

    def __call__(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        M, codes, rows, out = self._rows(R, groups)
        if rows.size == 0:
            return out
        X, g = M[rows], codes[rows]
        ranks = pareto_rank(X, g, maximise=maximise)
        score = -ranks.astype(float)
        if self.tiebreak == "crowding" and self.beta:
            cd = crowding_distance(X, g, maximise=maximise, ranks=ranks)
            score += self.beta * np.where(np.isinf(cd), 1.0, cd / M.shape[1])
        out[rows] = score
        return out


@register_combiner
class HVContribution(_RankBased):
    """``r_i = -rank_i + beta * c_i / max_{j in front} c_j``, with ``c_i`` the exclusive
    (leave-one-out) hypervolume contribution of rollout i within its front,
    ``c_i = HV(F) - HV(F minus {i})``.

    By default the objectives are first scaled to [0, 1] within the group (min to max)
    and the reference point sits ``ref_offset`` below the worst value in every
    objective, which makes the reward invariant to positive affine rescaling of an
    objective; with ``ref`` the raw values are used against that fixed reference point
    (points not better than it contribute 0). Copies of a rollout share the volume they
    cover, so each gets ``c = 0``; a front of one rollout has nothing to break (term 0).
    So a group of one rollout, or of identical rollouts, gets 0.

    References: group HV contribution, pareto.md section 3; hypervolume-based dynamic
    reward weighting, arXiv:2509.11452; SMS-EMOA (Beume et al., EJOR 2007) for
    contribution-based selection.

    Failure modes: the reference point matters; the cost grows with K (own exact
    kernels up to moderate groups, moocore beyond; see :func:`hv_contributions`).

    Args:
        ref: fixed reference point (sequence, or mapping by objective name), in the
            objectives' own units; None to scale within each group.
        ref_offset: with ``ref=None``, the reference point's distance below the worst
            value, as a share of the group's range (default 0.1).
        beta: weight of the contribution term, in [0, 1) (default 0.5).
    """

    name: ClassVar[str] = "hv_contribution"

    def __init__(
        self,
        *,
        ref: Mapping[str, float] | Sequence[float] | None = None,
        ref_offset: float = 0.1,
        beta: float = 0.5,
    ) -> None:
        if ref_offset <= 0:
            raise ConfigError("ref_offset must be > 0")
        if isinstance(ref, Mapping):
            ref = {str(k): float(v) for k, v in ref.items()}
        elif ref is not None:
            ref = tuple(float(v) for v in ref)
        self.ref = ref
        self.ref_offset = float(ref_offset)
        self.beta = _check_beta(beta)

    def _ref_array(self, k: int, names: Sequence[str] | None) -> np.ndarray:
        if isinstance(self.ref, dict):
            if names is None or set(names) != set(self.ref):
                raise ConfigError(
                    f"hv_contribution ref must name every objective {list(names or [])}, got {self.ref}"
                )
            return np.array([self.ref[n] for n in names])
        arr = np.array(self.ref, dtype=float)
        if arr.shape != (k,):
            raise ValueError(f"ref has {arr.size} values for {k} objectives")
        return arr

    def __call__(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        M, codes, rows, out = self._rows(R, groups)
        if rows.size == 0:
            return out
        k = M.shape[1]
        mx = as_maximise(maximise, k)
        X, g = M[rows], codes[rows]
        ranks = pareto_rank(X, g, maximise=maximise)
        X = np.where(mx, X, -X)  # maximised from here on
        missing = np.isnan(X)
        if self.ref is None:
            seg = Segments(g)
            lo = seg.min(np.where(missing, np.inf, X))[g]
            span = seg.max(np.where(missing, -np.inf, X))[g] - lo
            varying = span > 0
            with np.errstate(invalid="ignore"):
                U = np.where(varying, (X - lo) / np.where(varying, span, 1.0), 0.0)
            ref = np.full(k, -self.ref_offset)
        else:
            U = X
            ref = np.where(mx, 1.0, -1.0) * self._ref_array(k, names)
        U = np.where(missing, ref, U)
        fronts = dense_codes(g, ranks)
        c = hv_contributions(U, fronts, ref=ref, maximise=True)
        seg = Segments(fronts)
        top = seg.max(c)[fronts]
        share = np.where(top > 0, c / np.where(top > 0, top, 1.0), 0.0)
        share[seg.counts[fronts] == 1] = 0.0  # a front of one: nothing to break
        out[rows] = -ranks + self.beta * share
        return out
