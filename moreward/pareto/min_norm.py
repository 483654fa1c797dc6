"""The min-norm combiner (:class:`MinNorm`, Factum's P-FAB / MGDA) and the batched
Frank-Wolfe solver :func:`min_norm_weights`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError
from ._segments import Segments
from .combiners import Combiner, as_matrix, group_codes, register_combiner, weights_setting
from .decoupled import _signed_weights, zscores

__all__ = ["MinNorm", "min_norm_weights"]


def min_norm_weights(
    gram: Any, /, *, active: Any = None, max_iter: int = 100, tol: float = 1e-10
) -> np.ndarray:
    """The convex weights of the min-norm point of a set of vectors, batched.

    Solves ``lambda = argmin_{lambda in simplex} lambda^T M lambda`` for each Gram matrix
    ``M = V V^T`` of the batch (shape ``(..., K, K)``) by Frank-Wolfe with away steps and
    exact line search (MGDA, Sener & Koltun 2018; away steps, Lacoste-Julien & Jaggi
    2015, for linear convergence when the answer lies on a face of the simplex). With
    ``g = M lambda``: the toward step moves to the vertex with the smallest ``g_t``, the
    away step moves off the used vertex with the largest ``g_a``, whichever promises
    more; the step is ``gamma = -d^T M lambda / d^T M d`` clipped to its feasible range.
    Stops when the duality gap ``l'Ml - min_t g_t`` is below ``tol * l'Ml``. Only
    ``active`` vectors (a ``(..., K)`` mask) take weight; a batch item with none gets
    all zeros. Start: equal weights on the active vectors.

    Examples:
        >>> min_norm_weights([[1.0, -1.0], [-1.0, 1.0]]).tolist()  # opposite vectors
        [0.5, 0.5]
        >>> min_norm_weights([[1.0, 0.0], [0.0, 4.0]]).round(3).tolist()
        [0.8, 0.2]
    """
    M = np.array(gram, dtype=float)
    if M.ndim < 2 or M.shape[-1] != M.shape[-2]:
        raise ValueError(f"gram must have shape (..., K, K), got {M.shape}")
    batch, k = M.shape[:-2], M.shape[-1]
    M = M.reshape(-1, k, k)
    act = (
        np.ones((M.shape[0], k), dtype=bool)
        if active is None
        else np.broadcast_to(np.asarray(active, dtype=bool), (*batch, k)).reshape(-1, k)
    )
    n_act = act.sum(axis=1, keepdims=True)
    lam = np.where(act, 1.0 / np.maximum(n_act, 1), 0.0)
    rows = np.flatnonzero(n_act[:, 0] > 1)
    diag = np.diagonal(M, axis1=1, axis2=2)
    for _ in range(max_iter):
        if rows.size == 0:
            break
        Ms, ls, r = M[rows], lam[rows], np.arange(rows.size)
        g = np.einsum("bij,bj->bi", Ms, ls)
        lml = np.einsum("bi,bi->b", ls, g)
        t = np.argmin(np.where(act[rows], g, np.inf), axis=1)
        a = np.argmax(np.where(ls > 0, g, -np.inf), axis=1)
        fw_gap = lml - g[r, t]
        away_gap = g[r, a] - lml
        toward = fw_gap >= away_gap
        v = np.where(toward, t, a)
        slope = np.where(toward, fw_gap, away_gap)  # -d'M lambda
        curv = lml - 2.0 * g[r, v] + diag[rows, v]  # d'M d
        la = ls[r, a]
        cap = np.where(toward, 1.0, la / np.maximum(1.0 - la, 1e-300))
        with np.errstate(divide="ignore", invalid="ignore"):
            gamma = np.where(curv > 0, np.minimum(slope / curv, cap), cap)
        done = fw_gap <= tol * np.maximum(np.abs(lml), 1e-300)
        gamma = np.where(done, 0.0, np.maximum(gamma, 0.0))
        sign = np.where(toward, 1.0, -1.0)
        ls *= (1.0 - sign * gamma)[:, None]
        ls[r, v] += sign * gamma
        np.maximum(ls, 0.0, out=ls)  # rounding at a dropped vertex
        lam[rows] = ls
        rows = rows[~done]
    return lam.reshape(*batch, k)


@register_combiner
class MinNorm(Combiner):
    """P-FAB / MGDA: the min-norm convex combination of the per-objective group z-scores.

    For each group g, ``Z_k`` is the vector of the (weighted, sign-corrected) z-scores of
    objective k over the group's rollouts (as in :class:`~moreward.pareto.Decoupled`);
    ``lambda_g = argmin_{lambda in simplex} |sum_k lambda_k Z_k|^2`` by Frank-Wolfe
    (:func:`min_norm_weights`), and ``A_i = sum_k lambda_gk Z_ik``. No weights to tune:
    objectives that pull in the same direction share weight, and the result is the
    compromise direction that does not decrease any objective's alignment.

    Reference: Factum-4B / CausalFact-60K, "Structured Causal Video Reasoning via
    Multi-Objective Alignment", arXiv:2604.04415 (P-FAB, Pareto-Frontier guided Advantage
    Balancing: an MGDA-style min-norm problem in standardised-reward space solved by
    Frank-Wolfe; reconstructed from summaries, see pareto.md section 1); MGDA: Désidéri
    2012, Sener & Koltun, NeurIPS 2018.

    Output: an advantage (group mean 0).

    Edge cases and failure modes: an objective constant in the group (z = 0) would make
    the min-norm point 0, so it is masked out of that group's simplex; a group where all
    objectives are constant gets 0. With K = 2 non-constant objectives the two vectors
    have equal norms and the answer is ``lambda = (1/2, 1/2)``, i.e. decoupled with equal
    weights; exactly anti-correlated objectives still give ``A = 0``. A missing value
    adds 0; a rollout with every value missing gets NaN.

    Args:
        weights: scale each objective's z-scores before the min-norm problem (default 1);
            a zero weight removes the objective.
        eps, ddof: of the group normalisation.
        max_iter, tol: of the Frank-Wolfe solver.
    """

    name: ClassVar[str] = "min_norm"

    def __init__(
        self,
        *,
        weights: Mapping[str, float] | Sequence[float] | None = None,
        eps: float = 1e-6,
        ddof: int = 1,
        max_iter: int = 100,
        tol: float = 1e-10,
    ) -> None:
        if max_iter < 1 or tol < 0:
            raise ConfigError("max_iter must be >= 1 and tol >= 0")
        self.weights = weights_setting(weights)
        self.eps = float(eps)
        self.ddof = int(ddof)
        self.max_iter = int(max_iter)
        self.tol = float(tol)

    def weights_per_group(
        self,
        R: Any,
        groups: Sequence[Hashable] | np.ndarray | None = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(lambda (S, K), Z (N, K), group codes (N,))`` for the batch."""
        M = as_matrix(R)
        n, k = M.shape
        codes = group_codes(groups, n)
        seg = Segments(codes)
        w = _signed_weights(self.weights, k, names, maximise)
        present = ~np.isnan(M)
        Z, constant = zscores(M, seg, present, eps=self.eps, ddof=self.ddof)
        Z = Z * w
        gram = seg.sum(Z[:, :, None] * Z[:, None, :])
        active = ~constant & (w != 0)
        lam = min_norm_weights(gram, active=active, max_iter=self.max_iter, tol=self.tol)
        return lam, Z, codes

    def __call__(
        self,
        R: Any,
        groups: Sequence[Hashable] | np.ndarray | None = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        M = as_matrix(R)
        n, k = M.shape
        if k == 0 or n == 0:
            group_codes(groups, n)
            return np.full(n, np.nan)
        lam, Z, codes = self.weights_per_group(M, groups, maximise=maximise, names=names)
        out = np.einsum("nk,nk->n", Z, lam[codes])
        out[np.isnan(M).all(axis=1)] = np.nan
        return out
