"""Decomposition scalarisers: :class:`Tchebycheff` (plain, augmented, smooth) and
:class:`PBI` (penalty boundary intersection).

Both work on gaps to an ideal point in a common [0, 1] scale. Each objective is scaled
to ``u in [0, 1]`` (1 = best), either within the rollout's group (``bounds=None``: min to
max of the group; scale-free, invariant to positive affine rescaling of an objective) or
with fixed ``bounds`` ``(lo, hi)`` in the objective's own units (clipped). The ideal is
``z* = 1 + utopia`` and the gap ``d_k = z*_k - u_k``. A missing value counts as the worst
(``u = 0``); an objective constant over the group has ``u = 1`` (no gap for anyone).

Output: a reward (higher is better, at most 0), to be group-normalised by the trainer.
"""

from __future__ import annotations

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

__all__ = ["PBI", "Tchebycheff"]

GroupsLike = Sequence[Hashable] | np.ndarray | None
WeightsLike = Mapping[str, float] | Sequence[float] | None
BoundsLike = Mapping[str, Sequence[float]] | Sequence[Sequence[float]] | None


def _bounds_setting(
    bounds: BoundsLike,
) -> dict[str, tuple[float, float]] | tuple[tuple[float, float], ...] | None:
    if bounds is None:
        return None
    items = bounds.items() if isinstance(bounds, Mapping) else enumerate(bounds)
    out: dict[Any, tuple[float, float]] = {}
    for key, pair in items:
        lo, hi = (float(v) for v in pair)
        if not hi > lo:
            raise ConfigError(f"bounds for {key!r} must be (lo, hi) with hi > lo, got {pair!r}")
        out[key] = (lo, hi)
    return {str(k): v for k, v in out.items()} if isinstance(bounds, Mapping) else tuple(out.values())


class _GapScalariser(Combiner):
    """Shared scaling of the objectives and the gaps to the ideal point."""

    def __init__(self, *, weights: WeightsLike, bounds: BoundsLike, utopia: float) -> None:
        self.weights = weights_setting(weights)
        values = self.weights.values() if isinstance(self.weights, dict) else (self.weights or ())
        if any(w < 0 for w in values):
            raise ConfigError(f"{self.name} weights must be >= 0, got {self.weights!r}")
        self.bounds = _bounds_setting(bounds)
        if utopia < 0:
            raise ConfigError("utopia must be >= 0")
        self.utopia = float(utopia)

    def gaps(
        self, M: np.ndarray, codes: np.ndarray, maximise: bool | Sequence[bool], names: Sequence[str] | None
    ) -> np.ndarray:
        """(N, K) gaps ``d = 1 + utopia - u`` to the ideal point."""
        k = M.shape[1]
        mx = as_maximise(maximise, k)
        missing = np.isnan(M)
        if self.bounds is None:
            X = np.where(mx, M, -M)
            seg = Segments(codes)
            lo = seg.min(np.where(missing, np.inf, X))[codes]
            hi = seg.max(np.where(missing, -np.inf, X))[codes]
            span = hi - lo
            varying = span > 0
            with np.errstate(invalid="ignore"):
                U = np.where(varying, (X - lo) / np.where(varying, span, 1.0), 1.0)
        else:
            b = self._bounds_array(k, names)
            lo, hi = b[:, 0], b[:, 1]
            with np.errstate(invalid="ignore"):
                U = np.clip(np.where(mx, M - lo, hi - M) / (hi - lo), 0.0, 1.0)
        U = np.where(missing, 0.0, U)
        return 1.0 + self.utopia - U

    def _bounds_array(self, k: int, names: Sequence[str] | None) -> np.ndarray:
        if isinstance(self.bounds, dict):
            if names is None:
                raise ValueError("bounds given by name need the objective names")
            missing = [n for n in names if n not in self.bounds]
            unknown = set(self.bounds) - set(names)
            if missing or unknown:
                raise ConfigError(
                    f"{self.name} bounds must name every objective: missing {missing}, unknown {sorted(unknown)}"
                )
            return np.array([self.bounds[n] for n in names])
        arr = np.array(self.bounds, dtype=float)
        if arr.shape != (k, 2):
            raise ValueError(f"{len(arr)} bounds for {k} objectives")
        return arr

    def scalarise(self, D: np.ndarray, w: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

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
        codes = group_codes(groups, n)
        if k == 0 or n == 0:
            return np.full(n, np.nan)
        w = resolve_weights(self.weights, k, names)
        out = self.scalarise(self.gaps(M, codes, maximise, names), w) + 0.0  # no -0.0
        out[np.isnan(M).all(axis=1)] = np.nan
        return out


@register_combiner
class Tchebycheff(_GapScalariser):
    """Weighted Tchebycheff scalarisation of the gaps ``d`` to the ideal point.

    - ``variant="plain"``: ``r = -max_k w_k d_k``;
    - ``"augmented"``: ``r = -max_k w_k d_k - rho * sum_k d_k`` (breaks the ties of the max,
      so weakly dominated rollouts score strictly lower);
    - ``"smooth"`` (STCH): ``r = -mu * log sum_k exp(w_k d_k / mu)``, a smooth upper bound
      of the max that tends to it as ``mu -> 0``.

    Unlike a weighted sum, these reach non-convex parts of the Pareto front; with
    positive weights a dominated rollout never scores above one that dominates it.
    See pareto.md section 3 (Miettinen, "Nonlinear Multiobjective Optimization", 1999;
    smooth Tchebycheff: Lin et al., ICML 2024).

    Args:
        weights: non-negative, per objective (sequence or mapping by name); default 1.
        variant: ``"plain"``, ``"augmented"`` or ``"smooth"``.
        rho: augmentation coefficient (default 1e-3).
        mu: smoothing temperature (default 0.1).
        bounds: fixed ``(lo, hi)`` per objective, or None to scale within each group.
        utopia: how far beyond the best value the ideal point lies (default 0).
    """

    name: ClassVar[str] = "tchebycheff"

    def __init__(
        self,
        *,
        weights: WeightsLike = None,
        variant: Literal["plain", "augmented", "smooth"] = "plain",
        rho: float = 1e-3,
        mu: float = 0.1,
        bounds: BoundsLike = None,
        utopia: float = 0.0,
    ) -> None:
        if variant not in ("plain", "augmented", "smooth"):
            raise ConfigError(f"variant must be 'plain', 'augmented' or 'smooth', got {variant!r}")
        if rho < 0 or mu <= 0:
            raise ConfigError("rho must be >= 0 and mu > 0")
        super().__init__(weights=weights, bounds=bounds, utopia=utopia)
        self.variant = variant
        self.rho = float(rho)
        self.mu = float(mu)

    def scalarise(self, D: np.ndarray, w: np.ndarray) -> np.ndarray:
        WD = D * w
        if self.variant == "smooth":
            top = WD.max(axis=1)
            return -(top + self.mu * np.log(np.exp((WD - top[:, None]) / self.mu).sum(axis=1)))
        out = -WD.max(axis=1)
        if self.variant == "augmented":
            out -= self.rho * D.sum(axis=1)
        return out


@register_combiner
class PBI(_GapScalariser):
    """Penalty boundary intersection (MOEA/D) on the gaps ``d`` to the ideal point.

    With the unit direction ``v = w / |w|``: ``d1 = d . v`` (distance along the
    direction), ``d2 = |d - d1 v|`` (distance off it), ``r = -(d1 + theta * d2)``.
    Targets the trade-off along ``w``; not Pareto-compliant (a dominated rollout closer
    to the direction can score higher). Zhang & Li, "MOEA/D", IEEE TEVC 2007.

    Args:
        weights: non-negative direction, not all zero (default 1 each).
        theta: penalty on the distance off the direction (default 5).
        bounds, utopia: as in :class:`Tchebycheff`.
    """

    name: ClassVar[str] = "pbi"

    def __init__(
        self,
        *,
        weights: WeightsLike = None,
        theta: float = 5.0,
        bounds: BoundsLike = None,
        utopia: float = 0.0,
    ) -> None:
        if theta < 0:
            raise ConfigError("theta must be >= 0")
        super().__init__(weights=weights, bounds=bounds, utopia=utopia)
        self.theta = float(theta)

    def scalarise(self, D: np.ndarray, w: np.ndarray) -> np.ndarray:
        norm = np.linalg.norm(w)
        if norm == 0:
            raise ConfigError("pbi weights must not all be 0")
        v = w / norm
        d1 = D @ v
        d2 = np.linalg.norm(D - d1[:, None] * v, axis=1)
        return -(d1 + self.theta * d2)
