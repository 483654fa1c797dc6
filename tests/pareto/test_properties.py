"""Hypothesis properties of the combiners and the dominance functions.

- invariance to permuting the rollouts (within and across groups);
- rank-based (and group-scaled) methods: invariance to a positive affine rescaling of an
  objective;
- a rollout never scores above a rollout of its group that dominates it (pareto_rank,
  hv_contribution, tchebycheff with positive weights);
- inputs are left unchanged.
"""

from __future__ import annotations

import moreward_pareto_ref as ref
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from moreward.pareto import (
    HVContribution,
    ParetoRank,
    Tchebycheff,
    available_combiners,
    crowding_distance,
    get_combiner,
    hv_contributions,
    pareto_rank,
)

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def batches(draw, min_k=1, max_k=4, nan=True):
    """(R, groups, maximise): up to 4 groups of 1 to 6 rollouts, values in {0, ..., 4}
    (ties and duplicates), some missing, groups interleaved."""
    k = draw(st.integers(min_k, max_k))
    sizes = draw(st.lists(st.integers(1, 6), min_size=1, max_size=4))
    n = sum(sizes)
    values = draw(st.lists(st.integers(0, 4), min_size=n * k, max_size=n * k))
    R = np.array(values, dtype=float).reshape(n, k)
    if nan:
        holes = draw(st.lists(st.booleans(), min_size=n * k, max_size=n * k))
        R[np.array(holes).reshape(n, k) & (np.arange(n * k).reshape(n, k) % 5 == 0)] = np.nan
    groups = np.repeat(np.arange(len(sizes)), sizes)
    groups = groups[draw(st.permutations(range(n)))] if n > 1 else groups
    maximise = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    return R, groups, maximise


NAMES = sorted(available_combiners())


@SETTINGS
@given(batch=batches(), data=st.data(), name=st.sampled_from(NAMES))
def test_invariant_to_permuting_rollouts(batch, data, name):
    R, g, mx = batch
    perm = np.array(data.draw(st.permutations(range(len(R)))))
    out = get_combiner(name)(R, g, maximise=mx)
    again = get_combiner(name)(R[perm], g[perm], maximise=mx)
    # min_norm: up to the Frank-Wolfe tolerance (nearly parallel z-vectors leave the
    # split of lambda between them, not the min-norm point, loosely determined)
    tol = 1e-6 if name == "min_norm" else 1e-9
    assert np.allclose(again, out[perm], rtol=tol, atol=tol, equal_nan=True)


@SETTINGS
@given(batch=batches(), data=st.data())
def test_dominance_functions_invariant_to_permutation(batch, data):
    R, g, mx = batch
    perm = np.array(data.draw(st.permutations(range(len(R)))))
    assert (pareto_rank(R[perm], g[perm], maximise=mx) == pareto_rank(R, g, maximise=mx)[perm]).all()
    cd = crowding_distance(R, g, maximise=mx)
    assert np.allclose(crowding_distance(R[perm], g[perm], maximise=mx), cd[perm])
    c = hv_contributions(R, g, ref=np.full(R.shape[1], -1.0), maximise=True)
    assert np.allclose(hv_contributions(R[perm], g[perm], ref=np.full(R.shape[1], -1.0)), c[perm])


SCALE_FREE = [
    ParetoRank(),
    ParetoRank(tiebreak="none"),
    HVContribution(),
    Tchebycheff(),
    Tchebycheff(variant="smooth"),
    get_combiner("pbi"),
]


@SETTINGS
@given(
    batch=batches(),
    data=st.data(),
    scale=st.sampled_from([0.25, 0.5, 2.0, 3.0, 10.0]),
    shift=st.integers(-20, 20),
)
def test_rank_based_invariant_to_positive_affine_rescaling(batch, data, scale, shift):
    R, g, mx = batch
    j = data.draw(st.integers(0, R.shape[1] - 1))
    S = R.copy()
    S[:, j] = S[:, j] * scale + shift
    assert (pareto_rank(S, g, maximise=mx) == pareto_rank(R, g, maximise=mx)).all()
    for c in SCALE_FREE:
        assert np.allclose(
            c(S, g, maximise=mx), c(R, g, maximise=mx), rtol=1e-9, atol=1e-9, equal_nan=True
        ), c


def _dominating_pairs(R, g, mx):
    X = ref.orient(R, mx)
    for i in range(len(R)):
        for j in range(len(R)):
            if g[i] == g[j] and ref.dominates(X[i], X[j]):
                yield i, j


@SETTINGS
@given(batch=batches(), weights=st.lists(st.floats(0.1, 5.0), min_size=4, max_size=4))
def test_dominated_rollout_never_scores_higher(batch, weights):
    R, g, mx = batch
    k = R.shape[1]
    strict = [ParetoRank(), HVContribution(), HVContribution(ref=[-1.0 if m else 5.0 for m in mx])]
    # Tchebycheff: a missing value ties with the worst observed one, so only weakly
    weak = [Tchebycheff(weights=weights[:k], variant=v) for v in ("plain", "augmented", "smooth")]
    ranks = pareto_rank(R, g, maximise=mx)
    outs = [(c(R, g, maximise=mx), True) for c in strict] + [(c(R, g, maximise=mx), False) for c in weak]
    for i, j in _dominating_pairs(R, g, mx):
        assert ranks[i] < ranks[j]
        for out, is_strict in outs:
            if np.isnan(out[j]):
                continue
            assert out[i] > out[j] if is_strict else out[i] >= out[j] - 1e-12


@SETTINGS
@given(batch=batches(max_k=3))
def test_ranks_and_contributions_equal_brute_force(batch):
    R, g, mx = batch
    assert (pareto_rank(R, g, maximise=mx) == ref.ranks(R, g, mx)).all()
    r = np.where(mx, -1.0, 5.0)
    c = hv_contributions(R, g, ref=r, maximise=mx, backend="numpy")
    for gid in np.unique(g):
        rows = g == gid
        assert np.allclose(c[rows], ref.hvc(R[rows], r, mx), atol=1e-12)


@SETTINGS
@given(batch=batches(), name=st.sampled_from(NAMES))
def test_inputs_unchanged(batch, name):
    R, g, mx = batch
    R0, g0, mx0 = R.copy(), g.copy(), list(mx)
    get_combiner(name)(R, g, maximise=mx)
    get_combiner(name).diagnostics(R, g, maximise=mx)
    assert np.array_equal(R, R0, equal_nan=True) and (g == g0).all() and mx == mx0
