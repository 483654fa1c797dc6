"""Private kernel: non-dominated sorting ranks of many groups, compiled with numba (an
optional dependency, part of the ``pareto`` extra).

Why compiled: the bitmask kernels of :mod:`.dominance` evaluate whole-array operations
over a padded batch (every pair of every group, then one peeling round per front of
the deepest group), and moocore is called once per group from a Python loop (~10 µs of
overhead per call). A compiled loop over the groups pays neither.

Values are maximised and NaN already replaced by ``-inf``. A row's rank (its front in
the peeling) is the length of the longest chain of strict dominators above it: one
more than the largest rank among its dominators, 0 when there are none. Both paths
rank the rows of a group in an order where every row comes after its dominators:

- sorted path (groups of up to :data:`_SMALL` rows, one objective, and two-objective
  groups larger than :data:`_BITS_MAX2`): sort the rows in decreasing lexicographic
  order. A row can then only be dominated by rows before it, and copies of a row are
  adjacent: a copy takes the rank of the row before it. With two objectives the rows
  before row j that dominate it are exactly those at least as good in objective 2;
  inside a front objective 2 increases along the sorted order, so each front needs
  only its last (largest) objective-2 value, and those do not increase from one front
  to the next: j's rank is the number of fronts whose value is >= j's, found by
  bisection (O(n log n)). With one or three and more objectives the fronts are searched
  from the deepest one down for a row at least as good in objectives 2..K (each front
  a linked list of its rows); O(n^2 K) at worst, with a branch per pair;
- bitmask path (the other groups): one pass of vectorised comparisons per row gives
  the bitmask of the rows at least as good in every objective (:func:`_weak`,
  ``n^2 K`` comparisons without branches, ``n^2 / 64`` words), and the rows are ranked
  in order of how many those are (:func:`_ranks_bits`).

The functions are plain Python (slow, but exact) when numba is not installed;
:mod:`.dominance` only dispatches here when it is, and imports this module lazily so that
importing :mod:`moreward.pareto` never imports numba.
"""

from __future__ import annotations

import numpy as np

from ._hvc_jit import HAS_NUMBA, _jit

__all__ = ["HAS_NUMBA", "rank_segments"]

#: runs of this many rows are sorted by insertion before merging
_RUN = 16
#: groups of up to this many rows take the sorted path (the bitmasks' fixed costs
#: dominate there); so do groups of one objective
_SMALL = 12
#: two-objective groups larger than this take the sorted path too (O(n log n) against
#: the bitmasks' O(n^2))
_BITS_MAX2 = 96


@_jit
def _before(Z: np.ndarray, a: int, b: int) -> bool:
    """Row ``a`` strictly before row ``b`` in decreasing lexicographic order."""
    for d in range(Z.shape[1]):
        x = Z[a, d]
        y = Z[b, d]
        if x != y:
            return x > y
    return False


@_jit
def _sort(Z: np.ndarray, idx: np.ndarray, tmp: np.ndarray, n: int) -> None:
    """Sort the row numbers ``idx[:n]`` in decreasing lexicographic order of the rows of
    ``Z``: insertion sort in runs of :data:`_RUN`, then bottom-up merges through ``tmp``."""
    for lo in range(0, n, _RUN):
        hi = min(lo + _RUN, n)
        for t in range(lo + 1, hi):
            v = idx[t]
            u = t
            while u > lo and _before(Z, v, idx[u - 1]):
                idx[u] = idx[u - 1]
                u -= 1
            idx[u] = v
    width = _RUN
    src = idx
    dst = tmp
    swapped = False
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            a = lo
            b = mid
            for t in range(lo, hi):
                if b >= hi or (a < mid and not _before(Z, src[b], src[a])):
                    dst[t] = src[a]
                    a += 1
                else:
                    dst[t] = src[b]
                    b += 1
        src, dst = dst, src
        swapped = not swapped
        width *= 2
    if swapped:
        idx[:n] = tmp[:n]


@_jit
def _same(Z: np.ndarray, a: int, b: int) -> bool:
    """Rows ``a`` and ``b`` equal in every objective."""
    for d in range(Z.shape[1]):
        if Z[a, d] != Z[b, d]:
            return False
    return True


@_jit
def _ranks2(Z: np.ndarray, idx: np.ndarray, n: int, last: np.ndarray, out: np.ndarray) -> None:
    """Two objectives, rows ``idx[:n]`` sorted: bisection on the fronts' last objective-2
    values ``last`` (non-increasing)."""
    fronts = 0
    r = 0
    for t in range(n):
        j = idx[t]
        if t == 0 or not _same(Z, idx[t - 1], j):
            v = Z[j, 1]
            lo = 0  # the number of fronts with last >= v
            hi = fronts
            while lo < hi:
                mid = (lo + hi) >> 1
                if last[mid] >= v:
                    lo = mid + 1
                else:
                    hi = mid
            r = lo
            last[r] = v
            if r == fronts:
                fronts += 1
        out[j] = r


@_jit
def _dominates(Z: np.ndarray, i: int, j: int) -> bool:
    """Row ``i`` at least as good as row ``j`` in objectives 2..K."""
    for d in range(1, Z.shape[1]):
        if Z[i, d] < Z[j, d]:
            return False
    return True


@_jit
def _ranks(
    Z: np.ndarray, idx: np.ndarray, n: int, head: np.ndarray, link: np.ndarray, out: np.ndarray
) -> None:
    """Any number of objectives, rows ``idx[:n]`` sorted: front ``f`` is the linked list
    ``head[f], link[head[f]], ...`` of sorted positions (-1 ends it)."""
    deepest = -1
    r = 0
    for t in range(n):
        j = idx[t]
        if t == 0 or not _same(Z, idx[t - 1], j):
            r = 0
            for f in range(deepest, -1, -1):
                u = head[f]
                while u >= 0 and not _dominates(Z, idx[u], j):
                    u = link[u]
                if u >= 0:
                    r = f + 1
                    break
            if r > deepest:
                deepest = r
                link[t] = -1
            else:
                link[t] = head[r]
            head[r] = t
        out[j] = r


@_jit
def _popcount(x: np.uint64) -> np.uint64:
    """Number of set bits of a word."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    x += x >> np.uint64(8)  # shifts and adds, not a multiply: no overflow in plain Python
    x += x >> np.uint64(16)
    x += x >> np.uint64(32)
    return x & np.uint64(0x7F)


@_jit
def _weak(Y: np.ndarray, n: int, ge: np.ndarray, cnt: np.ndarray, flag: np.ndarray) -> None:
    """``ge[j]``: bitmask of the members at least as good as member ``j`` in every
    objective (``j`` and its copies included); ``cnt[j]``: how many. ``Y`` (K, >= n) holds
    the members' objectives by rows; ``flag`` (>= n) is a work array. The comparisons run
    over contiguous rows of ``Y``, which numba vectorises."""
    K = Y.shape[0]
    W = (n + 63) >> 6
    for j in range(n):
        v = Y[0, j]
        for i in range(n):
            flag[i] = Y[0, i] >= v
        for d in range(1, K):
            v = Y[d, j]
            for i in range(n):
                flag[i] &= Y[d, i] >= v
        c = np.uint64(0)
        for w in range(W):
            m = np.uint64(0)
            base = 64 * w
            for b in range(min(64, n - base)):
                m |= np.uint64(flag[base + b]) << np.uint64(b)
            ge[j, w] = m
            c += _popcount(m)
        cnt[j] = c


@_jit
def _ranks_bits(
    Y: np.ndarray,
    n: int,
    rows: np.ndarray,
    ge: np.ndarray,
    cnt: np.ndarray,
    flag: np.ndarray,
    topo: np.ndarray,
    hist: np.ndarray,
    front: np.ndarray,
    rank: np.ndarray,
    out: np.ndarray,
) -> None:
    """Ranks of the ``n`` members (objectives ``Y``, rows ``rows``) from the bitmasks of
    :func:`_weak`.

    A strict dominator ``i`` of ``j`` has fewer members at least as good as itself
    (every one of them is at least as good as ``j``, and so is ``i``, but ``j`` is not
    at least as good as ``i``); copies have as many. So the members are taken in levels
    of equal ``cnt``, lowest first: the members of ``ge[j]`` in earlier levels are
    exactly ``j``'s strict dominators, already ranked, and those of its own level are
    ``j`` and its copies. ``front[f]`` is the bitmask of the members ranked ``f`` so
    far; ``j``'s rank is one more than the deepest front that meets ``ge[j]``.
    """
    W = (n + 63) >> 6
    _weak(Y, n, ge, cnt, flag)
    for c in range(n + 2):  # counting sort by cnt (1..n)
        hist[c] = 0
    for j in range(n):
        hist[cnt[j] + 1] += 1
    for c in range(n + 1):
        hist[c + 1] += hist[c]
    for j in range(n):
        topo[hist[cnt[j]]] = j
        hist[cnt[j]] += 1  # ends as the end of level cnt[j]
    deepest = -1
    t = 0
    while t < n:
        end = hist[cnt[topo[t]]]
        for u in range(t, end):  # the level: rank against the earlier levels only
            j = topo[u]
            r = 0
            for f in range(deepest, -1, -1):
                hit = False
                for w in range(W):
                    if ge[j, w] & front[f, w]:
                        hit = True
                if hit:
                    r = f + 1
                    break
            rank[u] = r
        for u in range(t, end):
            j = topo[u]
            r = rank[u]
            while deepest < r:
                deepest += 1
                for w in range(W):
                    front[deepest, w] = 0
            front[r, j >> 6] |= np.uint64(1) << np.uint64(j & 63)
            out[rows[j]] = r
        t = end


@_jit
def _on_bitmask_path(n: int, K: int, small: int, bits_max2: int) -> bool:
    """Whether a group of ``n`` rows and ``K`` objectives takes the bitmask path."""
    return n > small and (K >= 3 or (K == 2 and n <= bits_max2))


@_jit
def _kernel(
    Z: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    small: int,
    bits_max2: int,
    out: np.ndarray,
) -> None:
    """All groups: group ``s`` is the rows ``order[starts[s] : starts[s] + counts[s]]``.
    Groups of up to ``small`` rows, one-objective groups and two-objective groups of
    more than ``bits_max2`` rows take the sorted path; the others the bitmasks."""
    K = Z.shape[1]
    cap = 1  # the largest group, and the largest on the bitmask path (n^2 / 64 words)
    bcap = 1
    for s in range(counts.shape[0]):
        n = counts[s]
        cap = max(cap, n)
        if _on_bitmask_path(n, K, small, bits_max2):
            bcap = max(bcap, n)
    words = (bcap + 63) >> 6
    idx = np.empty(cap, dtype=np.int64)
    tmp = np.empty(cap, dtype=np.int64)
    head = np.empty(cap, dtype=np.int64)
    link = np.empty(cap, dtype=np.int64)
    last = np.empty(cap)
    Y = np.empty((K, bcap))
    ge = np.empty((bcap, words), dtype=np.uint64)
    front = np.empty((bcap, words), dtype=np.uint64)
    cnt = np.empty(bcap, dtype=np.int64)
    flag = np.empty(bcap, dtype=np.int64)
    hist = np.empty(bcap + 2, dtype=np.int64)
    rank = np.empty(bcap, dtype=np.int64)
    for s in range(counts.shape[0]):
        n = counts[s]
        lo = starts[s]
        for t in range(n):
            idx[t] = order[lo + t]
        if _on_bitmask_path(n, K, small, bits_max2):
            for t in range(n):
                for d in range(K):
                    Y[d, t] = Z[idx[t], d]
            _ranks_bits(Y, n, idx, ge, cnt, flag, tmp, hist, front, rank, out)
            continue
        _sort(Z, idx, tmp, n)
        if K == 2:
            _ranks2(Z, idx, n, last, out)
        else:
            _ranks(Z, idx, n, head, link, out)


def rank_segments(
    Z: np.ndarray,
    order: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    *,
    small: int | None = None,
    bits_max2: int | None = None,
) -> np.ndarray:
    """Ranks (N,) of the rows of ``Z`` (N, K), K >= 1, maximised and without NaN, within
    their groups: group ``s`` is the rows ``order[starts[s] : starts[s] + counts[s]]``.
    Every row must belong to exactly one group.

    ``small`` and ``bits_max2`` override :data:`_SMALL` and :data:`_BITS_MAX2` (tests
    use them to run either path on any group)."""
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] < 1:
        raise ValueError("rank_segments needs an (N, K) array with at least one objective")
    out = np.zeros(Z.shape[0], dtype=np.intp)
    if Z.shape[0]:
        _kernel(
            Z,
            np.asarray(order, dtype=np.int64),
            np.asarray(starts, dtype=np.int64),
            np.asarray(counts, dtype=np.int64),
            _SMALL if small is None else int(small),
            _BITS_MAX2 if bits_max2 is None else int(bits_max2),
            out,
        )
    return out
