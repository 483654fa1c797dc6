"""Diagnostics of a combined batch: is the reward signal informative?

- distinct reward values per group (GDPO's Fig. 5 measure of advantage collapse);
- the share of non-dominated rollouts (near 1: the objectives rarely order the rollouts,
  rank-based rewards will be flat);
- the share of zero-variance (group, objective) pairs (those objectives give that group
  no signal; for min-norm they are masked);
- the share of missing values.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ._segments import Segments
from .combiners import as_matrix, group_codes
from .dominance import is_nondominated

__all__ = ["Diagnostics", "diagnose"]


@dataclass(frozen=True)
class Diagnostics:
    """Summary of one batch. Shares are NaN when there is nothing to share out."""

    n_rollouts: int
    n_groups: int
    distinct_rewards: float
    """Mean over groups (with at least one reward) of the number of distinct rewards."""
    nondominated_share: float
    """Share of rollouts (with any value) that no rollout of their group dominates."""
    zero_variance_share: float
    """Share of (group, objective) pairs whose values are all equal or fewer than two."""
    missing_share: float
    """Share of missing (NaN) entries of R."""

    def as_dict(self) -> dict[str, float]:
        """Plain dict, e.g. for a metrics logger."""
        return {k: float(v) for k, v in asdict(self).items()}


def diagnose(
    R: Any,
    rewards: Any,
    groups: Sequence[Hashable] | np.ndarray | None = None,
    /,
    *,
    maximise: bool | Sequence[bool] = True,
    decimals: int = 9,
) -> Diagnostics:
    """Diagnostics of the reward matrix ``R`` (N, K) and the combined ``rewards`` (N,).

    Rewards are compared after rounding to ``decimals`` places.

    Examples:
        >>> d = diagnose([[0, 1], [1, 0], [0, 0], [1, 1]], [0.5, 0.5, 0.0, 1.0], [0, 0, 1, 1])
        >>> d.distinct_rewards, d.nondominated_share, d.zero_variance_share
        (1.5, 0.75, 0.0)
    """
    M = as_matrix(R)
    n, k = M.shape
    r = np.array(rewards, dtype=float).reshape(-1)
    if r.shape != (n,):
        raise ValueError(f"{r.size} rewards for {n} rollouts")
    codes = group_codes(groups, n)
    if n == 0:
        return Diagnostics(0, 0, float("nan"), float("nan"), float("nan"), float("nan"))
    seg = Segments(codes)
    # distinct rewards per group: count value changes in the rows sorted by (group, value)
    ok = ~np.isnan(r)
    rr, gg = np.round(r[ok], decimals), codes[ok]
    order = np.lexsort((rr, gg))
    rr, gg = rr[order], gg[order]
    new = np.ones(rr.size, dtype=bool)
    new[1:] = (gg[1:] != gg[:-1]) | (rr[1:] != rr[:-1])
    per_group = np.bincount(gg[new], minlength=seg.n_segments)
    has = np.bincount(gg, minlength=seg.n_segments) > 0
    distinct = float(per_group[has].mean()) if has.any() else float("nan")
    missing = np.isnan(M)
    some = ~missing.all(axis=1) if k else np.zeros(n, dtype=bool)
    if some.any():
        nd = is_nondominated(M[some], codes[some], maximise=maximise, keep_weakly=True)
        nd_share = float(nd.mean())
    else:
        nd_share = float("nan")
    if k:
        cnt = seg.sum((~missing).astype(float))
        hi = seg.max(np.where(missing, -np.inf, M))
        lo = seg.min(np.where(missing, np.inf, M))
        zero_var = float(((cnt < 2) | ~(hi > lo)).mean())
        missing_share = float(missing.mean())
    else:
        zero_var = missing_share = float("nan")
    return Diagnostics(n, int(seg.n_segments), distinct, nd_share, zero_var, missing_share)
