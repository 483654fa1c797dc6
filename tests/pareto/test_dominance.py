"""Non-dominated sorting, non-dominance and crowding against brute force and moocore."""

from __future__ import annotations

import moreward_pareto_ref as ref
import numpy as np
import pytest

from moreward.pareto import crowding_distance, is_nondominated, pareto_rank

needs_moocore = ref.needs_moocore


def _random_batch(rng, n_groups, max_size, k, levels=3):
    """Groups of unequal sizes, small integer values: many ties and duplicates."""
    sizes = rng.integers(1, max_size + 1, size=n_groups)
    groups = np.repeat(np.arange(n_groups), sizes)
    rng.shuffle(groups)  # groups interleaved, not contiguous
    X = rng.integers(0, levels, size=(groups.size, k)).astype(float)
    return X, groups


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_ranks_equal_brute_force_with_ties_and_duplicates(k):
    rng = np.random.default_rng(k)
    for _ in range(15):
        X, g = _random_batch(rng, n_groups=4, max_size=12, k=k)
        mx = [bool(b) for b in rng.random(k) < 0.5]
        assert pareto_rank(X, g, maximise=mx).tolist() == ref.ranks(X, g, mx).tolist()


def test_ranks_multiword_groups_and_continuous_values():
    rng = np.random.default_rng(7)
    X = rng.random((150, 2))  # one group of 150 > 64: three bitmask words
    X[100:] = X[:50]  # duplicates
    assert pareto_rank(X).tolist() == ref.ranks(X).tolist()
    X, g = _random_batch(rng, n_groups=3, max_size=70, k=3, levels=5)
    assert pareto_rank(X, g).tolist() == ref.ranks(X, g).tolist()


@needs_moocore
@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_ranks_equal_moocore(k):
    import moocore

    rng = np.random.default_rng(10 + k)
    for size in (1, 2, 8, 16, 40, 64, 65, 100):
        for levels in (2, 4, None):
            X = rng.random((size, k)) if levels is None else rng.integers(0, levels, (size, k)).astype(float)
            mx = [bool(b) for b in rng.random(k) < 0.5]
            assert (pareto_rank(X, maximise=mx) == moocore.pareto_rank(X, maximise=mx)).all()
            for kw in (False, True):
                ours = is_nondominated(X, maximise=mx, keep_weakly=kw)
                assert (ours == moocore.is_nondominated(X, maximise=mx, keep_weakly=kw)).all()


@needs_moocore
def test_batched_ranks_equal_moocore_per_group():
    import moocore

    rng = np.random.default_rng(3)
    X, g = _random_batch(rng, n_groups=60, max_size=20, k=3, levels=4)
    ours = pareto_rank(X, g)
    for gid in np.unique(g):
        rows = g == gid
        assert (ours[rows] == moocore.pareto_rank(X[rows], maximise=True)).all()


def test_rank_edge_cases():
    assert pareto_rank(np.zeros((0, 3))).shape == (0,)
    assert pareto_rank(np.zeros((4, 0))).tolist() == [0, 0, 0, 0]
    assert pareto_rank([[1.0, 2.0]]).tolist() == [0]
    assert pareto_rank([[1.0, 1.0]] * 3).tolist() == [0, 0, 0]  # all equal
    assert pareto_rank([[3.0], [1.0], [3.0], [2.0]]).tolist() == [0, 2, 0, 1]  # one objective
    assert pareto_rank([3.0, 1.0, 2.0], maximise=False).tolist() == [2, 0, 1]  # 1-D is one objective
    # a group of one rollout is non-dominated whatever the others are
    assert pareto_rank([[0, 0], [5, 5], [1, 1]], ["a", "b", "b"]).tolist() == [0, 0, 1]


def test_nan_is_the_worst_value():
    X = np.array([[1.0, np.nan], [1.0, 0.0], [0.0, 5.0], [np.nan, np.nan]])
    # row 0 is dominated through its missing objective, never dominates through it
    assert pareto_rank(X).tolist() == [1, 0, 0, 2]
    assert pareto_rank(X).tolist() == ref.ranks(X).tolist()


def test_groups_given_as_strings_and_any_order():
    X = np.array([[1, 0], [0, 0], [0, 1], [0, 0]], float)
    a = pareto_rank(X, ["x", "y", "x", "y"])
    b = pareto_rank(X, np.array([7, 3, 7, 3]))
    assert a.tolist() == b.tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize("k", [1, 2, 3])
def test_crowding_equals_definition(k):
    rng = np.random.default_rng(20 + k)
    for _ in range(10):
        X, g = _random_batch(rng, n_groups=3, max_size=10, k=k, levels=4)
        X[rng.random(X.shape) < 0.1] = np.nan
        ours, want = crowding_distance(X, g), ref.crowding(X, g)
        assert np.array_equal(np.isinf(ours), np.isinf(want))
        assert np.allclose(ours[np.isfinite(want)], want[np.isfinite(want)])


def test_crowding_gives_duplicates_equal_distances():
    X = np.array([[0, 3], [1, 2], [1, 2], [2, 1], [3, 0]], float)
    cd = crowding_distance(X)
    assert cd[1] == cd[2] and np.isinf(cd[0]) and np.isinf(cd[4])
    assert np.isclose(cd[3], (3 - 1) / 3 + (2 - 0) / 3)  # nearest distinct values on each side


def test_large_groups_match_the_bitmask_kernels(monkeypatch):
    import moreward.pareto.dominance as mod

    rng = np.random.default_rng(11)
    X = rng.integers(0, 30, size=(300, 3)).astype(float)
    want_r, want_nd = pareto_rank(X), is_nondominated(X)
    monkeypatch.setattr(mod, "_BITMASK_MAX", 100)  # moocore (when installed) for > 100
    assert (pareto_rank(X) == want_r).all() and (is_nondominated(X) == want_nd).all()
    assert (want_r == ref.ranks(X)).all()
