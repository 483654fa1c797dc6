"""Hypervolume and exclusive contributions against inclusion-exclusion and moocore."""

from __future__ import annotations

import moreward_pareto_ref as ref
import numpy as np
import pytest

from moreward.errors import MissingExtraError
from moreward.pareto import hv_contributions, hypervolume

needs_moocore = ref.needs_moocore


def _cases(rng, k, n_max=7, count=25):
    for i in range(count):
        n = int(rng.integers(1, n_max + 1))
        if i % 2:
            X = rng.integers(0, 4, size=(n, k)).astype(float)  # ties and duplicates
        else:
            X = rng.random((n, k))
        r = np.full(k, -0.5) if i % 3 else np.zeros(k)  # some points on the reference
        yield X, r


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_hypervolume_and_contributions_equal_brute_force(k):
    rng = np.random.default_rng(100 + k)
    for X, r in _cases(rng, k):
        mx = [bool(b) for b in rng.random(k) < 0.5]
        Xm = np.where(mx, X, -X)  # same geometry, some objectives minimised
        rm = np.where(mx, r, -r)
        assert np.isclose(hypervolume(Xm, ref=rm, maximise=mx, backend="numpy"), ref.hv(X, r))
        c = hv_contributions(Xm, ref=rm, maximise=mx, backend="numpy")
        assert np.allclose(c, ref.hvc(X, r), rtol=1e-9, atol=1e-12)


def test_batched_contributions_equal_per_group_brute_force():
    rng = np.random.default_rng(5)
    for k in (2, 3):
        sizes = rng.integers(1, 8, size=12)
        g = np.repeat(np.arange(12), sizes)
        rng.shuffle(g)
        X = rng.integers(0, 3, size=(g.size, k)).astype(float)
        c = hv_contributions(X, g, ref=np.full(k, -1.0), backend="numpy")
        for gid in range(12):
            rows = g == gid
            assert np.allclose(c[rows], ref.hvc(X[rows], np.full(k, -1.0)))


def test_dominated_points_shrink_their_dominators_contribution():
    # moocore's default ignore_dominated=True is not leave-one-out; this is
    c = hv_contributions([[2, 2], [1, 1], [1, 3]], ref=[0, 0])
    assert c.tolist() == [2.0, 0.0, 1.0]
    assert hv_contributions([[2, 2], [2, 2]], ref=[0, 0]).tolist() == [0.0, 0.0]  # copies


def test_edge_cases():
    assert hypervolume(np.zeros((0, 2)), ref=[0, 0]) == 0.0
    assert hv_contributions(np.zeros((0, 3)), ref=[0, 0, 0]).shape == (0,)
    assert hypervolume([[3.0]], ref=[1.0]) == 2.0
    assert hv_contributions([[3.0], [2.0], [3.0]], ref=[0.0]).tolist() == [0.0, 0.0, 0.0]
    assert hv_contributions([[3.0], [2.0]], ref=[0.0]).tolist() == [1.0, 0.0]
    assert hypervolume([[1, 1], [-1, 5]], ref=[0, 0]) == 1.0  # worse than ref: nothing
    assert hypervolume([[np.nan, 1.0], [1.0, 1.0]], ref=[0, 0]) == 1.0  # missing = ref
    with pytest.raises(ValueError, match="ref has"):
        hypervolume([[1, 1]], ref=[0])


@needs_moocore
@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_equal_moocore(k):
    import moocore

    rng = np.random.default_rng(200 + k)
    for size in (1, 3, 8, 16, 33, 64):
        for levels in (3, None):
            X = rng.random((size, k)) if levels is None else rng.integers(0, levels, (size, k)).astype(float)
            r = np.full(k, -0.25)
            if size ** (k - 1) <= 40_000:
                ours = hv_contributions(X, ref=r, backend="numpy")
                theirs = moocore.hv_contributions(X, ref=r, maximise=True, ignore_dominated=False)
                # moocore 0.3.2 returns 0 for some contributions below ~1e-8
                assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-7)
                assert np.isclose(
                    hypervolume(X, ref=r, backend="numpy"), moocore.hypervolume(X, ref=r, maximise=True)
                )
            assert np.allclose(
                hv_contributions(X, ref=r), hv_contributions(X, ref=r, backend="moocore"), atol=1e-7
            )


def test_pruned_large_groups_equal_unpruned():
    # groups of 32+ rollouts drop the rows inside two other boxes first; compare to a
    # computation on a shuffled copy split into the same groups without them being large
    rng = np.random.default_rng(9)
    X = rng.integers(0, 6, size=(40, 3)).astype(float)
    c = hv_contributions(X, ref=[-1, -1, -1], backend="numpy")
    from moreward.pareto.hv import _numpy_padded

    full = _numpy_padded(np.maximum(X, -1.0)[None], np.full(3, -1.0), True)[0]
    assert np.allclose(c, full)


def test_missing_moocore_backend(monkeypatch):
    import moreward.pareto.hv as mod

    monkeypatch.setattr(mod, "_moocore", lambda: None)
    with pytest.raises(MissingExtraError, match="pareto"):
        hv_contributions(np.ones((3, 4)), ref=np.zeros(4), backend="moocore")
    # auto falls back to the exact numpy kernels
    X = np.random.default_rng(0).random((9, 4))
    assert np.allclose(hv_contributions(X, ref=np.zeros(4)), ref.hvc(X, np.zeros(4)))


# ----------------------------------------------------------------- 4-objective kernel
def _generic(X, g, r, monkeypatch):
    """Contributions from the generic slicing kernel (the 4-D kernel switched off)."""
    import moreward.pareto.hv as mod

    with monkeypatch.context() as m:
        m.setattr(mod, "_HVC4_MAX", 0)
        return hv_contributions(X, g, ref=r, backend="numpy")


def test_hvc4_equals_brute_force_with_ties_nan_reference_and_unequal_groups():
    rng = np.random.default_rng(44)
    sizes = rng.integers(1, 8, size=30)
    g = np.repeat(np.arange(sizes.size), sizes)
    rng.shuffle(g)
    X = rng.integers(0, 3, size=(g.size, 4)).astype(float)  # ties and duplicates
    X[rng.random(g.size) < 0.1] = X[0]  # more exact copies
    X[rng.random(X.shape) < 0.05] = np.nan  # missing values count as the reference
    r = np.full(4, 0.0)  # many points on the reference in some objective
    mx = [True, False, True, False]
    Xm = np.where(mx, X, -X)
    c = hv_contributions(Xm, g, ref=r, maximise=mx, backend="numpy")
    for gid in range(sizes.size):
        rows = g == gid
        assert np.allclose(c[rows], ref.hvc(np.nan_to_num(X[rows], nan=0.0), r), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("levels", [3, 6, None])
def test_hvc4_equals_generic_slicing(levels, monkeypatch):
    rng = np.random.default_rng(45 if levels is None else levels)
    sizes = rng.integers(1, 24, size=40)
    g = np.repeat(np.arange(sizes.size), sizes)
    rng.shuffle(g)
    X = rng.random((g.size, 4)) if levels is None else rng.integers(0, levels, (g.size, 4)).astype(float)
    X[rng.random(g.size) < 0.05] = np.nan
    r = np.full(4, -0.5)
    c = hv_contributions(X, g, ref=r, backend="numpy")
    assert np.allclose(c, _generic(X, g, r, monkeypatch), rtol=1e-9, atol=1e-12)
    assert (c >= 0).all()


def test_hvc4_chunks_equal_one_pass(monkeypatch):
    import moreward.pareto._hvc4 as k4

    rng = np.random.default_rng(46)
    X = rng.random((12 * 50, 4))
    g = np.repeat(np.arange(50), 12)
    whole = hv_contributions(X, g, ref=np.zeros(4), backend="numpy")
    monkeypatch.setattr(k4, "_CELLS", 1)  # one group per chunk
    assert np.allclose(hv_contributions(X, g, ref=np.zeros(4), backend="numpy"), whole, rtol=1e-12, atol=0)


@needs_moocore
def test_auto_backend_uses_hvc4_up_to_12_rollouts():
    from moreward.pareto.hv import _use_moocore

    assert _use_moocore("auto", 4, 12, contributions=True) is None
    assert _use_moocore("auto", 4, 13, contributions=True) is not None
    assert _use_moocore("auto", 4, 9) is not None  # hypervolume alone: generic slicing
