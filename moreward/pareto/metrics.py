"""Quality indicators of a set of objective vectors against a reference front:
:func:`igd_plus` and :func:`spread` (hypervolume is in :mod:`.hv`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .combiners import as_matrix, as_maximise

__all__ = ["igd_plus", "spread"]


def _oriented(points: Any, maximise: bool | Sequence[bool], k: int | None = None) -> np.ndarray:
    X = as_matrix(points)
    if k is not None and X.shape[1] != k:
        if X.size == 0:
            return X.reshape(0, k)
        raise ValueError(f"points have {X.shape[1]} objectives, the reference front {k}")
    X = X[~np.isnan(X).any(axis=1)]
    return np.where(as_maximise(maximise, X.shape[1]), X, -X)


def igd_plus(points: Any, /, *, ref: Any, maximise: bool | Sequence[bool] = True) -> float:
    """Inverted generational distance plus (Ishibuchi et al., EMO 2015), Pareto-compliant.

    ``IGD+(A, Z) = mean_{z in Z} min_{a in A} sqrt(sum_k max(z_k - a_k, 0)^2)`` for
    maximised objectives: how far, on average, each reference point ``z`` is from being
    weakly dominated by the set ``A``. 0 when A weakly dominates the whole reference
    front; lower is better. Rows with a missing value are ignored; an empty ``points``
    gives ``inf``. Matches ``moocore.igd_plus``.

    Examples:
        >>> igd_plus([[1, 1]], ref=[[2, 0], [0, 2]])
        1.0
    """
    Z = _oriented(ref, maximise)
    A = _oriented(points, maximise, Z.shape[1])
    if Z.shape[0] == 0:
        return 0.0
    if A.shape[0] == 0:
        return float("inf")
    gap = np.maximum(Z[:, None, :] - A[None, :, :], 0.0)
    return float(np.sqrt((gap * gap).sum(axis=-1)).min(axis=1).mean())


def spread(points: Any, /, *, ref: Any = None, maximise: bool | Sequence[bool] = True) -> float:
    """Generalised spread Δ (Deb et al. 2002; Zhou et al. 2006 for K objectives).

    ``Δ = (sum_k d(e_k, A) + sum_{a in A} |d_a - mean d|) / (sum_k d(e_k, A) + |A| mean d)``
    where ``d_a`` is the Euclidean distance from ``a`` to its nearest other point of A and
    ``e_k`` the best point of the reference front ``ref`` in objective k (without ``ref``
    that term is 0). 0 for evenly spread points reaching the extremes; larger is worse.
    Distances are in the objectives' own units: scale them first if they differ.
    Fewer than two (distinct) points give NaN.

    Examples:
        >>> spread([[0, 2], [1, 1], [2, 0]])
        0.0
    """
    A = np.unique(_oriented(points, maximise), axis=0)
    if A.shape[0] < 2:
        return float("nan")
    diff = A[:, None, :] - A[None, :, :]
    dist = np.sqrt((diff * diff).sum(axis=-1))
    np.fill_diagonal(dist, np.inf)
    d = dist.min(axis=1)
    dbar = d.mean()
    ext = 0.0
    if ref is not None:
        Z = _oriented(ref, maximise, A.shape[1])
        if Z.shape[0]:
            E = Z[np.argmax(Z, axis=0)]  # best reference point in each objective
            de = E[:, None, :] - A[None, :, :]
            ext = float(np.sqrt((de * de).sum(axis=-1)).min(axis=1).sum())
    denom = ext + A.shape[0] * dbar
    return float((ext + np.abs(d - dbar).sum()) / denom) if denom > 0 else 0.0
