"""Exact hypervolume and exclusive (leave-one-out) hypervolume contributions.

- :func:`hypervolume` of one point set against a reference point;
- :func:`hv_contributions`: ``HV(S) - HV(S minus {i})`` for every rollout ``i`` of every group
  of a batch at once (moocore's ``hv_contributions(..., ignore_dominated=False)``).
  A dominated rollout, or a copy of another one, contributes 0; a rollout it alone
  dominates still shrinks its dominator's contribution.

Own, vectorised numpy algorithms, exact for any number of objectives:

- 2 objectives: sort by the first objective; the exclusive region of each staircase
  point is a rectangle minus the boxes of the points it alone dominates, which sit right
  after it in the sort order, so one pass of running maxima and sums gives all of them.
- K > 2 objectives: slice the space at every distinct value of objectives 3..K; inside
  a slice the active points are those at least as good in the sliced objectives, and the
  K-dimensional quantity is the slice-height-weighted sum of the 2-D one. The order of
  the 2-D pass does not change between slices, so every slice of every group runs in
  one batched pass: ``O(B * G^(K-1))`` work for B groups of G rollouts.
- 4-objective contributions: only the ``G (G + 1) / 2`` distinct slices, with a cheaper
  sweep inside them (:mod:`._hvc4`), about half the work of the generic slicing.

With ``backend="auto"`` and numba installed (the ``pareto`` extra), contributions of 2
to 4 objectives come from a compiled kernel (:mod:`._hvc_jit`: the slicing above, but
visiting only the active points of each slice, with no padding and one call for all
groups): 2.5-14 times a Python loop over moocore in ``benchmarks/pareto_bench.py``,
and 1.5-4 times the numpy kernels; for 4 objectives up to 256 rollouts per group,
beyond which moocore's sweep wins on large fronts. numba is imported on first use,
never by ``import moreward.pareto``, and compiles once per machine (cached on disk).

Otherwise, with ``backend="auto"`` moocore (the ``pareto`` extra) takes over, when
installed, where its sweep algorithms beat the slicing: 3 objectives beyond 256 points
per group (after dropping the points that cannot matter), 4 objectives beyond 8
(contributions: beyond 12), 5 beyond 6, more objectives always. Without moocore the
numpy kernels compute everything, exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np

from ._hvc4 import hvc4
from ._segments import Segments
from .combiners import as_matrix, as_maximise, group_codes

__all__ = ["hv_contributions", "hypervolume"]

Backend = Literal["auto", "numpy", "moocore"]

#: elements per temporary array in the batched kernels (memory bound, ~8 MB each)
_CHUNK = 1 << 20
#: with backend="auto", the numpy kernels run up to this many (slice x point) cells
#: per group; larger K >= 4 problems go to moocore when it is installed
_NUMPY_CELLS = {3: 256**2, 4: 8**3, 5: 6**4}
#: the same for exclusive contributions, where 4 objectives have their own kernel
#: (:mod:`._hvc4`): 2-3 times moocore's speed at 8 rollouts, level with it at 16
_NUMPY_CONTRIB_CELLS = {**_NUMPY_CELLS, 4: 12**3}
#: the dedicated 4-objective contribution kernel (:mod:`._hvc4`) is used up to this many
#: rows per group; it keeps (L, groups, L^2 / 2) arrays, so larger groups use the slicing
_HVC4_MAX = 64
#: groups of this many rollouts or more are first pruned to the rows that can matter
_PRUNE_FROM = 32
#: the compiled kernel (:mod:`._hvc_jit`) computes contributions of K objectives for
#: groups up to this size; it does ``O(n^3)`` work for 4 objectives (n the rows left
#: after pruning), which moocore's sweep beats on fronts of 512 rollouts
_JIT_MAX = {2: 1 << 62, 3: 1 << 62, 4: 256}
#: ... and prunes groups of this many rows or more inside the kernel first (measured:
#: below these sizes the pruning costs more than it saves); 2 objectives never need it
_JIT_PRUNE_FROM = {2: 1 << 62, 3: 32, 4: 16}


def _moocore() -> Any:
    """The moocore module, or None when the ``pareto`` extra is not installed."""
    try:
        import moocore
    except ImportError:
        return None
    return moocore


@functools.cache
def _jit_kernel() -> Any:
    """The compiled contribution kernel (:func:`._hvc_jit.hvc_segments`), or None when
    numba is not installed. Imported on first use: ``import moreward.pareto`` must not
    pay for importing numba (about 0.3 s)."""
    from . import _hvc_jit

    return _hvc_jit.hvc_segments if _hvc_jit.HAS_NUMBA else None


def _prepare(points: Any, ref: Any, maximise: bool | Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    """Points and reference oriented to maximisation, points clipped at the reference
    (which changes no hypervolume) and missing values (NaN) set to the reference."""
    X = as_matrix(points)
    k = X.shape[1]
    r = np.array(ref, dtype=float).reshape(-1)
    if r.shape != (k,):
        raise ValueError(f"ref has {r.size} values for {k} objectives")
    if np.isnan(r).any():
        raise ValueError("ref must not contain NaN")
    sign = np.where(as_maximise(maximise, k), 1.0, -1.0)
    X *= sign
    r = r * sign
    X[np.isnan(X)] = -np.inf
    infinite = np.argwhere(np.isposinf(X))
    if infinite.size:  # an infinite volume: the numpy kernels give NaN, moocore crashes
        row, col = (int(v) for v in infinite[0])
        raise ValueError(f"hypervolume needs finite values: row {row}, objective {col} is "
                         f"{'inf' if sign[col] > 0 else '-inf'} (the best possible value), so its volume is infinite")
    if not np.isfinite(r).all():
        raise ValueError(f"ref must be finite, got {r * sign}")
    np.maximum(X, r, out=X)
    return X, r


# --------------------------------------------------------------------------- kernels
# The 2-D passes step along axis 0 (the position in the sorted order) in Python; each
# step is a handful of ufunc calls over all groups and slices at once, on slices small
# enough to stay in cache. ``np.maximum.accumulate`` along a short axis is far slower.
def _widths(x1: np.ndarray, active: np.ndarray | None, r1: float, shape: tuple[int, ...]) -> np.ndarray:
    """x1 of each active point minus x1 of the next active one (``r1`` after the last);
    0 for inactive points. Rows are sorted by x1 descending."""
    L = x1.shape[0]
    width = np.empty((L, *shape))
    nxt = np.full(shape, r1)
    for t in range(L - 1, -1, -1):
        cur = np.where(active[t], x1[t], nxt) if active is not None else np.broadcast_to(x1[t], shape)
        np.subtract(cur, nxt, out=width[t])
        nxt = cur
    return width


#: below this many columns per step (few groups and slices, long sequences) the kernels
#: use whole-array ``ufunc.accumulate`` along axis 0 instead of stepping in Python
_LONG = 64


def _long_pass(
    x1: np.ndarray, x2: np.ndarray, active: np.ndarray | None, r1: float, r2: float, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Widths, active x2 and running max of x2, with whole-array accumulations."""
    L = x1.shape[0]
    x1a = np.broadcast_to(x1, (L, *shape)) if active is None else np.where(active, x1, r1)
    x2a = np.broadcast_to(x2, (L, *shape)) if active is None else np.where(active, x2, r2)
    nx1 = np.maximum.accumulate(x1a[::-1], axis=0)[::-1]  # x1 of the next active point
    width = np.empty_like(nx1)
    width[:-1] = nx1[:-1] - nx1[1:]
    width[-1] = nx1[-1] - r1
    return width, x2a, np.maximum.accumulate(x2a, axis=0)


def _hvc2d_long(
    x1: np.ndarray, x2: np.ndarray, active: np.ndarray | None, r1: float, r2: float, shape: tuple[int, ...]
) -> np.ndarray:
    """:func:`_hvc2d` for few columns: the same quantities, as whole-array operations."""
    L = x1.shape[0]
    width, x2a, m = _long_pass(x1, x2, active, r1, r2, shape)
    mprev = np.empty_like(m)
    mprev[0] = r2
    mprev[1:] = m[:-1]
    head = x2a > mprev
    covered = np.maximum.accumulate(np.where(head, mprev, x2a), axis=0)
    suffix = np.zeros((L + 1, *shape))
    suffix[:L] = np.cumsum((width * (m - covered))[::-1], axis=0)[::-1]
    idx = np.arange(L).reshape(-1, *([1] * len(shape)))
    later = np.minimum.accumulate(np.where(head, idx, L)[::-1], axis=0)[::-1]  # next head at or after
    nxt = np.full((L, *shape), L)
    nxt[:-1] = later[1:]
    return np.where(head, suffix[:L] - np.take_along_axis(suffix, nxt, axis=0), 0.0)


def _hv2d(x1: np.ndarray, x2: np.ndarray, active: np.ndarray | None, r1: float, r2: float) -> np.ndarray:
    """2-D hypervolume of the active points of each column, rows sorted by (x1 desc, x2 desc):
    the sum of the strip widths times the running max of x2."""
    shape = active.shape[1:] if active is not None else np.broadcast_shapes(x1.shape[1:], x2.shape[1:])
    if int(np.prod(shape)) < _LONG:
        width, _, m = _long_pass(x1, x2, active, r1, r2, shape)
        return (width * (m - r2)).sum(axis=0)
    width = _widths(x1, active, r1, shape)
    m = np.full(shape, r2)
    area = np.zeros(shape)
    for t in range(x1.shape[0]):
        np.maximum(m, np.where(active[t], x2[t], r2) if active is not None else x2[t], out=m)
        area += width[t] * (m - r2)
    return area


def _hvc2d(x1: np.ndarray, x2: np.ndarray, active: np.ndarray | None, r1: float, r2: float) -> np.ndarray:
    """2-D exclusive contributions of the active points (rows sorted as above).

    The staircase points ``s`` (x2 above every earlier x2; the first of several copies)
    own the rectangle from the next staircase point's x1 to their own and from the
    running max before them (``mprev_s``) to their own x2. The points after ``s`` up to
    the next staircase point are exactly those it alone dominates, and they cut their
    boxes out of the rectangle. At position t of the segment of ``s`` the running max of
    x2 is ``x2_s`` and the uncovered height is ``x2_s - max(cut points' x2 so far,
    mprev_s)``: one running max, of x2 over non-staircase points and of mprev over
    staircase points, gives it for every segment at once (earlier segments lie below
    ``mprev_s``). The contribution of ``s`` is the width-weighted sum over its segment.
    """
    L = x1.shape[0]
    shape = active.shape[1:] if active is not None else np.broadcast_shapes(x1.shape[1:], x2.shape[1:])
    if int(np.prod(shape)) < _LONG:
        return _hvc2d_long(x1, x2, active, r1, r2, shape)
    width = _widths(x1, active, r1, shape)
    term = np.empty((L, *shape))
    head = np.empty((L, *shape), dtype=bool)
    m = np.full(shape, r2)
    covered = np.full(shape, r2)
    for t in range(L):
        x2a = np.where(active[t], x2[t], r2) if active is not None else np.broadcast_to(x2[t], shape)
        h = np.greater(x2a, m, out=head[t])
        np.maximum(covered, np.where(h, m, x2a), out=covered)
        np.maximum(m, x2a, out=m)
        np.multiply(width[t], m - covered, out=term[t])
    acc = np.zeros(shape)
    for t in range(L - 1, -1, -1):  # segment sums, restarting at each staircase point
        acc += term[t]
        np.multiply(acc, head[t], out=term[t])
        np.copyto(acc, 0.0, where=head[t])
    return term


def _sort2(X: np.ndarray) -> np.ndarray:
    """Per row of the (S, L, K) batch, the order by (x1 desc, x2 desc)."""
    order = np.argsort(-X[..., 0], axis=-1)
    x1 = np.take_along_axis(X[..., 0], order, axis=-1)
    if np.all(x1[:, 1:] != x1[:, :-1]):  # no ties in x1: one sort does
        return order
    return np.lexsort((-X[..., 1], -X[..., 0]), axis=-1)


def _slices(
    ranks: list[np.ndarray], gaps: list[np.ndarray], t0: int, t1: int, L: int
) -> tuple[np.ndarray, np.ndarray]:
    """Active masks (L, S, T) and weights (S, T) of the slices ``t0:t1`` of objectives 3..K.

    Slice ``t = (t_3, ..., t_K)`` holds the points whose rank in each objective d (best
    first) is at most ``t_d``; its weight is the product of the gaps between the
    ``t_d``-th and the next value of objective d (the last gap ends at the reference).
    ``ranks[j]`` is (L, S), ``gaps[j]`` is (S, L).
    """
    ts = np.unravel_index(np.arange(t0, t1), (L,) * len(ranks))
    active = ranks[0][:, :, None] <= ts[0]
    weight = gaps[0][:, ts[0]]
    for j in range(1, len(ranks)):
        active &= ranks[j][:, :, None] <= ts[j]
        weight = weight * gaps[j][:, ts[j]]
    return active, weight


def _numpy_padded(X: np.ndarray, ref: np.ndarray, contributions: bool) -> np.ndarray:
    """Exclusive contributions (S, L) or hypervolumes (S,) of each padded row set.

    ``X`` is maximised and clipped at ``ref``; padding rows equal ``ref``.
    """
    S, L, K = X.shape
    if K == 1:
        x = X[..., 0]
        if not contributions:
            return x.max(axis=-1) - ref[0]
        top = np.sort(x, axis=-1)
        first = top[..., -1:]
        second = top[..., -2:-1] if L > 1 else np.full_like(first, ref[0])
        return np.where(x == first, first - np.maximum(second, ref[0]), 0.0)
    if contributions and K == 4 and L <= _HVC4_MAX:
        return hvc4(X, ref)
    order = _sort2(X)
    Xs = X.reshape(S * L, K)[order.T + np.arange(0, S * L, L)]  # (L, S, K), sorted on axis 0
    kernel = _hvc2d if contributions else _hv2d
    if K == 2:
        res = kernel(Xs[..., 0], Xs[..., 1], None, ref[0], ref[1])  # (L, S) or (S,)
    else:
        ranks, gaps = [], []
        for d in range(2, K):
            xd = Xs[..., d].T  # (S, L)
            by_d = np.argsort(-xd, axis=-1, kind="stable")
            levels = np.take_along_axis(xd, by_d, axis=-1)
            gaps.append(levels - np.concatenate([levels[:, 1:], np.full((S, 1), ref[d])], axis=1))
            rank = np.empty_like(by_d)
            np.put_along_axis(rank, by_d, np.broadcast_to(np.arange(L), by_d.shape), axis=-1)
            ranks.append(np.ascontiguousarray(rank.T))
        T = L ** (K - 2)
        res = np.zeros((L, S) if contributions else S)
        rows = max(1, _CHUNK // (T * L))
        tstep = T if rows > 1 else max(1, _CHUNK // L)
        for s0 in range(0, S, rows):
            sl = slice(s0, s0 + rows)
            x1, x2 = Xs[:, sl, 0, None], Xs[:, sl, 1, None]
            for t0 in range(0, T, tstep):
                active, weight = _slices(
                    [r[:, sl] for r in ranks], [g[sl] for g in gaps], t0, min(T, t0 + tstep), L
                )
                part = kernel(x1, x2, active, ref[0], ref[1])
                if contributions:
                    res[:, sl] += np.einsum("lst,st->ls", part, weight)
                else:
                    res[sl] += (part * weight).sum(axis=-1)
    if not contributions:
        return res
    out = np.empty((S, L))
    np.put_along_axis(out, order, res.T, axis=-1)
    return out


def _use_moocore(backend: Backend, k: int, L: int, contributions: bool = False) -> Any:
    """The moocore module where it should compute (size ``L`` sets of ``k`` objectives),
    else None; raises when moocore is asked for but not installed."""
    if backend == "numpy" or k < 3:
        return None
    mc = _moocore()
    if backend == "moocore":
        if mc is None:
            from ..errors import missing_extra

            raise missing_extra("moocore", "pareto")
        return mc
    cells = _NUMPY_CONTRIB_CELLS if contributions else _NUMPY_CELLS
    if mc is None or L ** (k - 1) <= cells.get(k, 0):
        return None
    return mc


# --------------------------------------------------------------------------- public
def hypervolume(
    points: Any,
    /,
    *,
    ref: Any,
    maximise: bool | Sequence[bool] = True,
    backend: Backend = "auto",
) -> float:
    """Hypervolume of ``points`` (n, K): the volume dominated by them and bounded by ``ref``.

    Points not strictly better than ``ref`` in every objective add nothing; a missing
    value (NaN) counts as the reference value. Exact: own algorithms for any K (2-D sort,
    3-D and up by slicing the non-dominated points, ``O(n^(K-1))``); with
    ``backend="auto"`` moocore takes large 3-D and 4+-D sets when installed.

    Examples:
        >>> hypervolume([[1, 2], [2, 1]], ref=[0, 0])
        3.0
        >>> hypervolume([[1, 2], [2, 1]], ref=[3, 3], maximise=False)
        3.0
    """
    X, r = _prepare(points, ref, maximise)
    n, k = X.shape
    if n == 0 or k == 0:
        return 0.0
    if n > 16 and k > 2:  # dominated points and copies add nothing
        from .dominance import is_nondominated

        X = X[is_nondominated(X, maximise=True)]
        n = X.shape[0]
    mc = _use_moocore(backend, k, n)
    if mc is not None:
        keep = (X > r).all(axis=1)
        return float(mc.hypervolume(X[keep], ref=r, maximise=True)) if keep.any() else 0.0
    return float(_numpy_padded(X[None], r, contributions=False)[0])


def hv_contributions(
    points: Any,
    groups: Sequence[Hashable] | np.ndarray | None = None,
    /,
    *,
    ref: Any,
    maximise: bool | Sequence[bool] = True,
    backend: Backend = "auto",
) -> np.ndarray:
    """Exclusive hypervolume contribution of every rollout within its group.

    ``c_i = HV(S_g) - HV(S_g minus {i})`` with ``S_g`` the rollouts of i's group and one
    ``ref`` for all groups. Dominated rollouts and copies get 0. Equal to moocore's
    ``hv_contributions(S_g, ref=ref, ignore_dominated=False)`` group by group.

    Args:
        points: (N, K) objective values; NaN counts as the reference value.
        groups: length-N group ids, or None for a single group.
        ref: (K,) reference point, in the objectives' own units and directions.
        backend: "auto" (the compiled kernel for 2-4 objectives when numba is
            installed; else own kernels, and moocore for large 4+ objective groups when
            installed), "numpy" (always the numpy kernels) or "moocore".

    Examples:
        >>> hv_contributions([[2, 2], [1, 1], [1, 3]], ref=[0, 0]).tolist()
        [2.0, 0.0, 1.0]
    """
    X, r = _prepare(points, ref, maximise)
    n, k = X.shape
    out = np.zeros(n)
    if n == 0 or k == 0:
        return out
    codes = group_codes(groups, n)
    jit = _jit_kernel() if backend == "auto" and k in _JIT_MAX else None
    if jit is not None:
        seg = Segments(codes)
        if int(seg.counts.max()) <= _JIT_MAX[k]:
            # the kernel takes the rows grouped, reference at 0; rows at the reference in
            # some objective need no filtering there (no volume, no effect on the others).
            # np.take: ``X[order]`` on a 2-column array is many times slower
            Z = X if seg.contiguous else np.take(X, seg.order, axis=0)
            Z -= r
            res = jit(Z, seg.starts, seg.counts, _JIT_PRUNE_FROM[k])
            if seg.contiguous:
                return res
            out[seg.order] = res
            return out
    # rows not strictly better than ref in every objective have no volume: 0, no effect
    rows = np.flatnonzero((X > r).all(axis=1))
    if k >= 3 and backend != "moocore" and rows.size:
        largest = int(np.bincount(codes[rows]).max())
        if _PRUNE_FROM <= largest <= 2048:
            rows = rows[_relevant(X[rows], codes[rows])]
    seg = Segments(codes[rows], int(codes.max()) + 1)
    Xr = X[rows]
    for pad in seg.padded():
        L = pad.index.shape[1]
        mc = _use_moocore(backend, k, L, contributions=True)
        if mc is None:
            out[rows[pad.index[pad.valid]]] = _numpy_padded(_gather(pad, Xr, r), r, True)[pad.valid]
            continue
        P = pad.gather(Xr, 0.0)
        if pad.valid.all():
            res = np.array([mc.hv_contributions(p, ref=r, maximise=True, ignore_dominated=False) for p in P])
        else:
            res = np.zeros(P.shape[:2])
            for s, size in enumerate(pad.valid.sum(axis=1).tolist()):  # members come first
                res[s, :size] = mc.hv_contributions(P[s, :size], ref=r, maximise=True, ignore_dominated=False)
        out[rows[pad.index[pad.valid]]] = res[pad.valid]
    return out


def _relevant(X: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Rows that can matter for any exclusive contribution: those strictly dominated by
    at most one other row of their group. (A row inside two other boxes lies where
    neither of them is exclusive, so dropping it changes nothing.)"""
    from .dominance import _dominators

    keep = np.zeros(X.shape[0], dtype=bool)
    for pad in Segments(codes).padded():
        dom, _ = _dominators(pad.gather(X, -np.inf), pad.valid)
        one = np.all(dom & (dom - np.uint64(1)) == 0, axis=-1) & ((dom != 0).sum(axis=-1) <= 1)
        pad.scatter(keep, one & pad.valid)
    return keep


def _gather(pad: Any, X: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The padded batch with padding rows at the reference point (they add nothing)."""
    G = pad.gather(X, 0.0)
    if not pad.valid.all():
        G[~pad.valid] = r
    return G
