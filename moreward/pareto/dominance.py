"""Pareto dominance inside groups of rollouts: :func:`is_nondominated`,
:func:`pareto_rank` (non-dominated sorting) and :func:`crowding_distance`.

The functions follow moocore's conventions (data positional-only, options keyword-only,
``maximise: bool | Sequence[bool]``, 0-based ranks, duplicates share a rank) with two
differences: ``maximise`` defaults to ``True`` (rewards are maximised), and an optional
``groups`` argument ranks every group of a batch at once.

Missing values (``NaN``) count as the worst value of their objective: a rollout with a
missing objective can be dominated through it but never dominates through it.

How it is fast: for each group and objective the rollouts are sorted once; a cumulative
bitwise OR over the sorted order gives, for each rollout, the set of rollouts at least
as good in that objective as a bitmask (one ``uint64`` word per 64 rollouts). The AND of
those sets over the objectives is the set of weak dominators, so the whole
``B x G x G x K`` dominance tensor of a batch costs ``B x K`` sorts and ``B x G x K``
word operations. Fronts are then peeled with a few word operations per front.

With numba installed (the ``pareto`` extra), :func:`pareto_rank` runs a compiled kernel
instead (:mod:`._rank_jit`: one loop over the groups, with no padding and no whole-batch
temporaries), for any group size with one or two objectives and for groups of up to
:data:`_JIT_MAX` rollouts with more; numba is imported on its first call.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from ._segments import Segments, dense_codes
from .combiners import as_matrix, as_maximise, group_codes

__all__ = ["crowding_distance", "is_nondominated", "pareto_rank"]

GroupsLike = Sequence[Hashable] | np.ndarray | None


def _prepare(R: Any, maximise: bool | Sequence[bool]) -> np.ndarray:
    """(N, K) float copy, oriented so that every objective is maximised; NaN -> -inf."""
    X = as_matrix(R)
    mx = as_maximise(maximise, X.shape[1])
    if not mx.all():
        X[:, ~mx] *= -1.0
    nan = np.isnan(X)
    if nan.any():
        X[nan] = -np.inf
    return X


def _onehot(L: int) -> np.ndarray:
    """(L, W) uint64: bit ``i`` set in row ``i``."""
    W = max(1, (L + 63) // 64)
    idx = np.arange(L)
    out = np.zeros((L, W), dtype=np.uint64)
    out[idx, idx // 64] = np.left_shift(np.uint64(1), (idx % 64).astype(np.uint64))
    return out


def _bits(mask: np.ndarray) -> np.ndarray:
    """(..., L) bool -> (..., W) uint64 bitmask of the set members (bit i = member i)."""
    L = mask.shape[-1]
    W = max(1, (L + 63) // 64)
    packed = np.packbits(mask, axis=-1, bitorder="little")
    if packed.shape[-1] != 8 * W:
        pad = np.zeros((*packed.shape[:-1], 8 * W - packed.shape[-1]), dtype=np.uint8)
        packed = np.concatenate([packed, pad], axis=-1)
    return np.ascontiguousarray(packed).view("<u8")


#: up to this group size the dominance bitmasks come from all pairwise comparisons
#: (S x L x L x K booleans); above it from one sort per objective (S x K x L log L).
_PAIRWISE_MAX = 12


def _dominators(X: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a padded batch ``X`` (S, L, K), maximised: per member ``j`` the bitmask of
    members that strictly dominate ``j`` and the bitmask of members equal to ``j``
    (itself included). Padding never dominates. Shapes (S, L, W)."""
    S, L, K = X.shape
    validbits = _bits(valid)[:, None, :]
    if L <= _PAIRWISE_MAX:
        # ge[s, j, i]: member i is at least as good as member j in every objective
        ge = X[:, None, :, 0] >= X[:, :, None, 0]
        eq = X[:, None, :, 0] == X[:, :, None, 0]
        for k in range(1, K):
            a, b = X[:, None, :, k], X[:, :, None, k]
            ge &= a >= b
            eq &= a == b
        ge &= ~eq
        return _bits(ge) & validbits, _bits(eq) & validbits
    Xt = np.ascontiguousarray(X.transpose(0, 2, 1))  # (S, K, L)
    # flat positions: row r = (s, k) of the sorted order, best first (ties handled as blocks)
    base = (np.arange(S * K) * L)[:, None]
    order = np.argsort(Xt, axis=-1)[..., ::-1].reshape(S * K, L)
    flat = order + base
    sv = Xt.reshape(-1)[flat]
    onehot = _onehot(L)
    W = onehot.shape[1]
    bits = onehot[order]  # (S*K, L, W)
    cum = np.bitwise_or.accumulate(bits, axis=1).reshape(-1, W)  # (S*K*L, W)
    new_block = np.ones((S * K, L), dtype=bool)
    np.not_equal(sv[:, 1:], sv[:, :-1], out=new_block[:, 1:])
    ge = np.empty_like(cum)
    if new_block.all():  # no ties: >= is the prefix, = is the member itself
        ge[flat.reshape(-1)] = cum
        weak = np.bitwise_and.reduce(ge.reshape(S, K, L, W), axis=1)
        equal = onehot[None] & validbits
        return weak & ~equal & validbits, equal
    # tie blocks (runs of equal values in a sorted row): the members at least as good
    # as a member are the prefix up to the end of its block; equal ones, its block
    new_block[:, 0] = True
    first = new_block.reshape(-1)
    starts = np.flatnonzero(first)
    block = np.cumsum(first) - 1  # block id of each sorted position
    block_bits = np.bitwise_or.reduceat(bits.reshape(-1, W), starts, axis=0)
    before = cum[np.maximum(starts - 1, 0)]
    before[starts % L == 0] = 0  # a block at the start of its row has nothing before it
    eq = np.empty_like(cum)
    ge[flat.reshape(-1)] = (before | block_bits)[block]
    eq[flat.reshape(-1)] = block_bits[block]
    weak = np.bitwise_and.reduce(ge.reshape(S, K, L, W), axis=1)  # (S, L, W)
    equal = np.bitwise_and.reduce(eq.reshape(S, K, L, W), axis=1)
    return weak & ~equal & validbits, equal & validbits


def _peel(dom: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Front index (0 = non-dominated) of each valid member; -1 on padding.

    A member's rank is the number of peeling rounds it survives: in each round the
    members that no remaining member dominates leave.
    """
    S, L, W = dom.shape
    rank = np.zeros((S, L), dtype=np.intp)
    rows = np.arange(S)  # the groups still being peeled
    remaining = valid.copy()
    count = np.zeros((S, L), dtype=np.intp)  # rounds survived, for ``rows``
    one_word = W == 1
    if one_word:
        dom = dom[..., 0]
    while rows.size:
        alive = _bits(remaining)
        if one_word:
            blocked = (dom & alive) != 0
        else:
            blocked = (dom & alive[:, None, :]).any(axis=-1)
        remaining &= blocked
        count += remaining
        todo = remaining.any(axis=1)
        if not todo.all():
            rank[rows[~todo]] = count[~todo]
            rows, remaining, dom, count = rows[todo], remaining[todo], dom[todo], count[todo]
    rank[~valid] = -1
    return rank


#: groups larger than this go to moocore when it is installed (the bitmasks take
#: O(G^2 K / 64) memory; moocore's sweep algorithms are O(G log G) for K = 2 and 3)
_BITMASK_MAX = 2048


def _moocore_for(L: int) -> Any:
    if L <= _BITMASK_MAX:
        return None
    from .hv import _moocore

    return _moocore()


def _rank_padded(X: np.ndarray, valid: np.ndarray) -> np.ndarray:
    mc = _moocore_for(X.shape[1])
    if mc is not None:
        out = np.full(valid.shape, -1, dtype=np.intp)
        for s, size in enumerate(valid.sum(axis=1).tolist()):  # members come first
            out[s, :size] = mc.pareto_rank(X[s, :size], maximise=True)
        return out
    dom, _ = _dominators(X, valid)
    return _peel(dom, valid)


@functools.cache
def _rank_kernel() -> Any:
    """The compiled rank kernel (:func:`._rank_jit.rank_segments`), or None when numba is
    not installed. Imported on first use: ``import moreward.pareto`` must not pay for
    importing numba."""
    from . import _rank_jit

    return _rank_jit.rank_segments if _rank_jit.HAS_NUMBA else None


#: with 3 or more objectives the compiled kernel is O(G^2 K) per group (moocore's sweeps
#: are O(G log G) for K = 3): a batch with a larger group takes the paths above
_JIT_MAX = 2048


def pareto_rank(
    R: Any, groups: GroupsLike = None, /, *, maximise: bool | Sequence[bool] = True
) -> np.ndarray:
    """Non-dominated sorting of the rollouts of each group.

    Args:
        R: (N, K) objective values; ``NaN`` (missing) is the worst value of its objective.
        groups: length-N group ids; ``None`` ranks all rows together.
        maximise: whether each objective is maximised (``True`` by default, unlike moocore).

    Returns:
        (N,) int array: 0 for the rollouts no other rollout of their group dominates, 1
        for those dominated only by rank-0 rollouts, and so on. Duplicates share a rank.
        Equal to ``moocore.pareto_rank`` applied to each group.

    Examples:
        >>> pareto_rank([[1, 0], [0, 1], [0, 0], [1, 1]], [0, 0, 0, 1]).tolist()
        [0, 0, 1, 0]
    """
    X = _prepare(R, maximise)
    n = X.shape[0]
    out = np.zeros(n, dtype=np.intp)
    if n == 0 or X.shape[1] == 0:
        return out
    seg = Segments(group_codes(groups, n))
    kernel = _rank_kernel()
    if kernel is not None and (X.shape[1] <= 2 or int(seg.counts.max()) <= _JIT_MAX):
        ranks: np.ndarray = kernel(X, seg.order, seg.starts, seg.counts)
        return ranks
    for pad in seg.padded():
        pad.scatter(out, _rank_padded(pad.gather(X, -np.inf), pad.valid))
    return out


def is_nondominated(
    points: Any,
    groups: GroupsLike = None,
    /,
    *,
    maximise: bool | Sequence[bool] = True,
    keep_weakly: bool = False,
) -> np.ndarray:
    """Which rows no other row of their group dominates.

    With ``keep_weakly=False`` (moocore's default) only the first of several identical
    non-dominated rows is kept; with ``True`` all of them are.

    Examples:
        >>> is_nondominated([[1, 2], [2, 1], [1, 2], [0, 0]]).tolist()
        [True, True, False, False]
        >>> is_nondominated([[1, 2], [2, 1], [1, 2], [0, 0]], keep_weakly=True).tolist()
        [True, True, True, False]
    """
    X = _prepare(points, maximise)
    n = X.shape[0]
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    if X.shape[1] == 0:
        out[:] = True
        return out
    seg = Segments(group_codes(groups, n))
    for pad in seg.padded():
        mc = _moocore_for(pad.index.shape[1])
        if mc is not None:
            for row, ok in zip(pad.index, pad.valid):
                out[row[ok]] = mc.is_nondominated(X[row[ok]], maximise=True, keep_weakly=keep_weakly)
            continue
        dom, equal = _dominators(pad.gather(X, -np.inf), pad.valid)
        nd = ~dom.any(axis=-1) & pad.valid
        if not keep_weakly:  # drop later copies of a non-dominated row
            L = pad.index.shape[1]
            below = _bits(np.tri(L, L, -1, dtype=bool))  # bits of the members before each one
            nd &= ~(equal & below[None]).any(axis=-1)
        pad.scatter(out, nd)
    return out


def _crowding_padded(X: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Tie-aware crowding distance inside each padded segment (one front)."""
    L = X.shape[1]
    part = valid[..., None] & np.isfinite(X)
    Vt = np.ascontiguousarray(np.where(part, X, np.inf).transpose(0, 2, 1))  # (S, K, L)
    order = np.argsort(Vt, axis=-1, kind="stable")
    sv = np.take_along_axis(Vt, order, axis=-1)
    cnt = part.sum(axis=1)[..., None]  # (S, K, 1)
    idx = np.arange(L)
    new_block = np.ones(sv.shape, dtype=bool)
    new_block[..., 1:] = sv[..., 1:] != sv[..., :-1]
    start = np.maximum.accumulate(np.where(new_block, idx, 0), axis=-1)
    last = np.ones(sv.shape, dtype=bool)
    last[..., :-1] = new_block[..., 1:]
    end = np.minimum.accumulate(np.where(last, idx, L)[..., ::-1], axis=-1)[..., ::-1]
    prev = np.take_along_axis(sv, np.maximum(start - 1, 0), axis=-1)
    nxt = np.take_along_axis(sv, np.minimum(end + 1, L - 1), axis=-1)
    lo = sv[..., :1]
    hi = np.take_along_axis(sv, np.maximum(cnt - 1, 0), axis=-1)
    with np.errstate(invalid="ignore"):
        rng = hi - lo
        ok = (rng > 0) & np.isfinite(rng)
        term = (nxt - prev) / np.where(ok, rng, 1.0)
    term = np.where((start == 0) | (end + 1 >= cnt), np.inf, term)
    term = np.where(ok & (idx < cnt), term, 0.0)
    cd = np.empty_like(term)
    np.put_along_axis(cd, order, term, axis=-1)
    return cd.sum(axis=1)


def crowding_distance(
    R: Any,
    groups: GroupsLike = None,
    /,
    *,
    maximise: bool | Sequence[bool] = True,
    ranks: np.ndarray | None = None,
) -> np.ndarray:
    """NSGA-II crowding distance of each rollout inside its front of its group.

    ``cd_i = sum_k (next_k - prev_k) / (max_k - min_k)`` where ``prev_k``/``next_k`` are the
    nearest *distinct* values of objective k below and above rollout i in its front and
    the range is taken over the front, so duplicates get equal distances, the result does
    not depend on the order of the rows, and it is invariant to positive affine rescaling
    of an objective. The extremes of an objective get ``inf``; an objective constant over
    the front, or missing for the rollout, adds 0.

    Args:
        ranks: the :func:`pareto_rank` of the rows, if already computed.
    """
    X = _prepare(R, maximise)
    n, k = X.shape
    out = np.zeros(n)
    if n == 0 or k == 0:
        return out
    codes = group_codes(groups, n)
    if ranks is None:
        ranks = pareto_rank(X, codes)
    seg = Segments(dense_codes(codes, np.asarray(ranks)))
    for pad in seg.padded():
        pad.scatter(out, _crowding_padded(pad.gather(X, -np.inf), pad.valid))
    return out
