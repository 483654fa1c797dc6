"""Private kernel: exact exclusive hypervolume contributions for 2-4 objectives, compiled
with numba (an optional dependency, part of the ``pareto`` extra).

Why compiled: the numpy kernels (:mod:`.hv`, :mod:`._hvc4`) must evaluate every
(slice x point) cell of a padded batch as whole-array operations, active or not, and
moocore is called once per group from a Python loop (~10 µs of overhead per call). A
compiled loop over the groups can skip the inactive cells and the padding and pays no
per-group overhead.

The method per group (values shifted so that the reference is 0, all >= 0):

- drop the points strictly dominated by two or more others: their box lies inside two
  other boxes, where no point is exclusive, so no contribution changes;
- slice objective 4 at every level: slice ``n4`` holds the ``n4`` best points in
  objective 4 and is as thick as the gap below the ``n4``-th value (0 for tied levels,
  which are skipped); inside it, slice objective 3 the same way, adding the points one
  at a time in objective-3 order to a list kept sorted by objective 2;
- in each (objective 3, objective 4) slice, one sweep down objective 2 over the active
  points keeps the best and second-best objective 1 seen so far: the strip between
  them belongs to the best point alone, whatever else is active (the same sweep as
  :mod:`._hvc4`), so the 2-D exclusive areas of all points cost one pass.

That is one sweep step per active point per slice: about ``n^3 / 6`` steps (plus half
as many shifts for the insertions) for 4 objectives and ``n^2 / 2`` for 3, n the points
left after the pruning; 2 objectives need one sort and one sweep. Ties need no special
case: a tied level has zero thickness, and the sweep's result does not depend on the
order of points tied in objective 2 (their strips between them are empty).

The functions are plain Python (slow, but exact) when numba is not installed; :mod:`.hv`
only dispatches here when it is, and imports this module lazily so that importing
:mod:`moreward.pareto` never imports numba.
"""

from __future__ import annotations

from typing import Any

import numpy as np

numba: Any
try:
    import numba
except ImportError:  # the kernels stay plain Python; hv.py does not use them then
    numba = None

__all__ = ["HAS_NUMBA", "hvc_segments"]

HAS_NUMBA = numba is not None


def _jit(fn: Any) -> Any:
    """``numba.njit`` with an on-disk cache (compiled once per machine), or ``fn`` itself."""
    if numba is None:
        return fn
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)


@_jit
def _sweep(a1: np.ndarray, a2: np.ndarray, aid: np.ndarray, m: int, w: float, c: np.ndarray) -> None:
    """Add ``w`` times the 2-D exclusive areas of the ``m`` active points to ``c``.

    ``a1``/``a2`` hold objectives 1 and 2 of the active points sorted by objective 2
    (best first, ``a2[m] == 0``), ``aid`` their row numbers. Between the objective-2
    values of the j-th and (j+1)-th of them, objective 1 is covered by every point seen
    so far; the part above the second-best of those is covered by the best one alone.
    Branch-free (selects, min/max): which point is best is data-dependent, and a branch
    on it is mispredicted about half the time.
    """
    m1 = 0.0
    m2 = 0.0
    b = 0
    for j in range(m):
        v = a1[j]
        b = j if v > m1 else b
        m2 = max(m2, min(v, m1))
        m1 = max(m1, v)
        c[aid[b]] += w * ((m1 - m2) * (a2[j] - a2[j + 1]))


@_jit
def _slices3(
    y1: np.ndarray,
    y2: np.ndarray,
    y3: np.ndarray,
    o3: np.ndarray,
    member: np.ndarray,
    limit: int,
    w4: float,
    work: np.ndarray,
    aid: np.ndarray,
    c: np.ndarray,
) -> None:
    """Add ``w4`` times the 3-D exclusive volumes of the points ``p`` with
    ``member[p] < limit`` to ``c``: objective 3 is sliced at the values of those points
    (``o3`` orders all points by objective 3, best first). ``work`` (2, n + 1) and
    ``aid`` (n + 1,) hold the active points (:func:`_sweep`)."""
    a1 = work[0]
    a2 = work[1]
    m = 0
    prev = -1
    for t in range(o3.shape[0]):
        p = o3[t]
        if member[p] >= limit:
            continue
        if prev >= 0:
            g3 = y3[prev] - y3[p]
            if g3 > 0.0:  # the slice between prev's level and p's holds the m active points
                _sweep(a1, a2, aid, m, w4 * g3, c)
        v = y2[p]  # insert p, keeping the active points sorted by objective 2
        j = m
        while j > 0 and a2[j - 1] < v:
            a1[j] = a1[j - 1]
            a2[j] = a2[j - 1]
            aid[j] = aid[j - 1]
            j -= 1
        a1[j] = y1[p]
        a2[j] = v
        aid[j] = p
        m += 1
        a2[m] = 0.0
        prev = p
    if prev >= 0 and y3[prev] > 0.0:  # the last slice reaches down to the reference
        _sweep(a1, a2, aid, m, w4 * y3[prev], c)


@_jit
def _group(
    Y: np.ndarray, n: int, c: np.ndarray, work: np.ndarray, aid: np.ndarray, member: np.ndarray
) -> None:
    """Exclusive contributions ``c[:n]`` of the points ``Y[:, :n]`` (objectives by rows,
    K in 2..4), maximised with the reference at 0 and every value >= 0. ``work``
    (2, n + 1), ``aid`` and ``member`` (n + 1,) are work arrays."""
    K = Y.shape[0]
    y1 = Y[0, :n]
    y2 = Y[1, :n]
    if K == 2:
        o2 = np.argsort(y2)
        for j in range(n):
            p = o2[n - 1 - j]  # best first
            work[0, j] = y1[p]
            work[1, j] = y2[p]
            aid[j] = p
        work[1, n] = 0.0
        _sweep(work[0], work[1], aid, n, 1.0, c)
        return
    y3 = Y[2, :n]
    o3 = np.argsort(y3)[::-1]
    if K == 3:
        member[:n] = 0
        _slices3(y1, y2, y3, o3, member, 1, 1.0, work, aid, c)
        return
    y4 = Y[3, :n]
    o4 = np.argsort(y4)[::-1]
    for q in range(n):  # member[p]: p's position in objective-4 order
        member[o4[q]] = q
    for n4 in range(1, n + 1):
        lower = y4[o4[n4]] if n4 < n else 0.0
        g4 = y4[o4[n4 - 1]] - lower
        if g4 > 0.0:  # tied levels: the slice is empty
            _slices3(y1, y2, y3, o3, member, n4, g4, work, aid, c)


@_jit
def _prune(Z: np.ndarray, keep: np.ndarray, order: np.ndarray, total: np.ndarray) -> int:
    """Write to ``keep`` the rows of ``Z`` (n, K) strictly dominated by at most one other
    row, in the order of the sum of their values (best first); return how many.

    A strict dominator has a sum at least as large (float addition is monotone), so it
    comes in an earlier block of equal sums or in the row's own block. Only the rows
    already kept need checking in earlier blocks: of two or more dominators of a row, the
    best one is dominated by none, and the best of the others by at most that one, so
    both are kept. Rows of the row's own block (rare outside ties) are all checked.
    """
    n, K = Z.shape
    for j in range(n):
        acc = 0.0
        for d in range(K):
            acc += Z[j, d]
        total[j] = -acc
    order[:n] = np.argsort(total[:n])
    m = 0
    t = 0
    while t < n:
        u = t + 1  # the block of equal sums is order[t:u]
        while u < n and total[order[u]] == total[order[t]]:
            u += 1
        m_before = m
        for tj in range(t, u):
            j = order[tj]
            dominators = 0
            for ti in range(m_before + u - t):
                i = keep[ti] if ti < m_before else order[t + ti - m_before]
                ge = True
                gt = False
                for d in range(K):
                    a = Z[i, d]
                    b = Z[j, d]
                    if a < b:
                        ge = False
                        break
                    if a > b:
                        gt = True
                if ge and gt:
                    dominators += 1
                    if dominators > 1:
                        break
            if dominators <= 1:
                keep[m] = j
                m += 1
        t = u
    return m


@_jit
def _kernel(Z: np.ndarray, starts: np.ndarray, counts: np.ndarray, prune_from: int, out: np.ndarray) -> None:
    """All groups: rows ``starts[s] : starts[s] + counts[s]`` of ``Z`` form group ``s``;
    groups of ``prune_from`` rows or more are pruned first (:func:`_prune`)."""
    K = Z.shape[1]
    cap = 1
    for s in range(counts.shape[0]):
        cap = max(cap, counts[s])
    work = np.empty((2, cap + 1))
    aid = np.empty(cap + 1, dtype=np.int64)
    member = np.empty(cap + 1, dtype=np.int64)
    keep = np.empty(cap, dtype=np.int64)
    order = np.empty(cap, dtype=np.int64)
    total = np.empty(cap)
    Y = np.empty((K, cap))  # the kept rows, one objective per row (contiguous columns)
    c = np.empty(cap)
    for s in range(counts.shape[0]):
        n = counts[s]
        lo = starts[s]
        if n == 0:
            continue
        G = Z[lo : lo + n]
        if n >= prune_from:
            m = _prune(G, keep, order, total)
        else:
            m = n
            for j in range(n):
                keep[j] = j
        for t in range(m):
            for d in range(K):
                Y[d, t] = G[keep[t], d]
        c[:m] = 0.0
        _group(Y, m, c, work, aid, member)
        for t in range(m):  # rows not kept stay 0
            out[lo + keep[t]] = c[t]


def hvc_segments(Z: np.ndarray, starts: np.ndarray, counts: np.ndarray, prune_from: int = 0) -> np.ndarray:
    """Exclusive contributions (N,) of the rows of ``Z`` (N, K), K in 2..4, within their
    groups: group ``s`` is the rows ``starts[s] : starts[s] + counts[s]``.

    ``Z`` is maximised with the reference subtracted (the reference is 0) and clipped at
    0; rows at 0 in some objective have no volume and get 0.
    """
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    if Z.ndim != 2 or not 2 <= Z.shape[1] <= 4:
        raise ValueError("hvc_segments needs an (N, K) array with 2 to 4 objectives")
    out = np.zeros(Z.shape[0])
    if Z.shape[0]:
        _kernel(
            Z, np.asarray(starts, dtype=np.int64), np.asarray(counts, dtype=np.int64), int(prune_from), out
        )
    return out
