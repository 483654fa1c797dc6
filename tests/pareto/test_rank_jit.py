"""The compiled (numba) non-dominated sorting kernel: exactness of both of its paths
against brute force and moocore, and :func:`pareto_rank`'s dispatch to it."""

from __future__ import annotations

import subprocess
import sys

import moreward_pareto_ref as ref
import numpy as np
import pytest

from moreward.pareto import crowding_distance, pareto_rank

numba = pytest.importorskip("numba")

import moreward.pareto._rank_jit as jit  # noqa: E402
import moreward.pareto.dominance as dom  # noqa: E402

needs_moocore = ref.needs_moocore

#: (small, bits_max2): the default split, everything on the sorted path, everything
#: (but one objective) on the bitmask path
PATHS = {"default": (None, None), "sorted": (1 << 30, 0), "bitmask": (0, 1 << 30)}


def _kernel(X: np.ndarray, g: np.ndarray, path: str = "default") -> np.ndarray:
    """Ranks straight from :func:`rank_segments` (``X`` maximised, NaN as -inf)."""
    order = np.argsort(g, kind="stable")
    counts = np.bincount(g)
    starts = np.cumsum(counts) - counts
    Z = np.nan_to_num(X, nan=-np.inf, posinf=np.inf, neginf=-np.inf)
    small, bits_max2 = PATHS[path]
    return jit.rank_segments(Z, order, starts, counts, small=small, bits_max2=bits_max2)


def _groups(rng: np.random.Generator, k: int, n_groups: int, max_size: int, levels: int | None):
    """Unequal groups (a one-row group included), shuffled rows, ties and copies."""
    sizes = rng.integers(1, max_size + 1, size=n_groups)
    sizes[0] = 1
    g = np.repeat(np.arange(n_groups), sizes)
    rng.shuffle(g)
    if levels is None:
        X = rng.random((g.size, k))
    else:
        X = rng.integers(0, levels, size=(g.size, k)).astype(float)
    X[rng.random(g.size) < 0.1] = X[0]  # exact copies (X[0]'s group may get several)
    return X, g


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("levels", [2, 3, None])
def test_kernel_equals_brute_force(path, k, levels):
    rng = np.random.default_rng(100 * k + (levels or 0) + 7 * len(path))
    X, g = _groups(rng, k, 30, 20, levels)
    X[rng.random(X.shape) < 0.05] = np.nan  # missing: the worst value
    assert _kernel(X, g, path).tolist() == ref.ranks(X, g).tolist()


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("k", [2, 3, 4])
def test_kernel_on_multiword_groups(path, k):
    # groups of 63..130 rows: one to three bitmask words, and both sides of _BITS_MAX2
    rng = np.random.default_rng(50 + k)
    sizes = np.array([63, 64, 65, 96, 97, 130])
    g = np.repeat(np.arange(sizes.size), sizes)
    rng.shuffle(g)
    X = np.where(rng.random((g.size, k)) < 0.5, rng.integers(0, 4, (g.size, k)), rng.random((g.size, k)))
    X[rng.random(g.size) < 0.1] = X[3]
    assert _kernel(X, g, path).tolist() == ref.ranks(X, g).tolist()


@needs_moocore
@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_kernel_equals_moocore(path, k):
    import moocore

    rng = np.random.default_rng(200 + k)
    for size in (1, 2, 8, 12, 13, 16, 40, 64, 65, 96, 97, 200):
        for levels in (2, 4, None):
            B = 4
            X = rng.random((B, size, k)) if levels is None else rng.integers(0, levels, (B, size, k)).astype(float)
            if levels is None:
                X = np.round(X, 1)  # ties in every objective
            g = np.repeat(np.arange(B), size)
            want = np.concatenate([moocore.pareto_rank(x, maximise=True) for x in X])
            assert (_kernel(X.reshape(-1, k), g, path) == want).all(), (size, levels)


@needs_moocore
@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_pareto_rank_equals_moocore_with_minimisation_and_labels(k):
    import moocore

    rng = np.random.default_rng(300 + k)
    X, g = _groups(rng, k, 40, 70, 3)
    mx = [bool(b) for b in rng.random(k) < 0.5]
    labels = np.array([f"prompt-{i}" for i in g], dtype=object)
    ours = pareto_rank(X, labels, maximise=mx)
    for gid in range(40):
        rows = g == gid
        assert (ours[rows] == moocore.pareto_rank(X[rows], maximise=mx)).all(), gid


def test_discrete_data_like_the_benchmark():
    # binary, 3-level and 2-decimal objectives (pareto_bench --data discrete)
    rng = np.random.default_rng(5)
    for G in (8, 16, 64):
        B = 20
        cols = [rng.integers(0, 2, B * G), rng.integers(0, 3, B * G) / 2]
        cols += [np.round(rng.random(B * G), 2) for _ in range(2)]
        X = np.stack(cols, axis=-1)
        g = np.repeat(np.arange(B), G)
        for k in (2, 3, 4):
            assert pareto_rank(X[:, :k], g).tolist() == ref.ranks(X[:, :k], g).tolist()


def test_infinities_signed_zeros_and_empty_groups():
    X = np.array([[np.inf, 0.0], [1.0, -0.0], [np.inf, -np.inf], [-np.inf, -np.inf], [0.0, 0.0]])
    for path in PATHS:
        assert _kernel(X, np.zeros(5, dtype=np.intp), path).tolist() == ref.ranks(X).tolist() == [0, 1, 1, 3, 2]
    X3 = np.array([[1.0, 2, 3], [3, 2, 1], [1, 2, 3], [0, 0, 0]])
    # an empty group (counts 0) between two others
    out = jit.rank_segments(X3, np.array([0, 1, 2, 3]), np.array([0, 2, 2]), np.array([2, 0, 2]))
    assert out.tolist() == [0, 0, 0, 1]
    assert jit.rank_segments(np.zeros((0, 3)), np.zeros(0, np.intp), [], []).shape == (0,)
    with pytest.raises(ValueError, match="at least one objective"):
        jit.rank_segments(np.zeros((3, 0)), np.arange(3), [0], [3])


def test_popcount():
    for v in (0, 1, 2**63, 2**64 - 1, 0x8000000000000001, 12345678901234567):
        assert int(jit._popcount(np.uint64(v))) == bin(v).count("1")
        assert int(jit._popcount.py_func(np.uint64(v))) == bin(v).count("1")


# ----------------------------------------------------------------------- dispatch
@pytest.fixture
def kernel_calls(monkeypatch):
    """Records the compiled kernel's calls; the numpy path and moocore raise if used."""
    def forbidden(*args, **kwargs):
        raise AssertionError("pareto_rank should have used the compiled kernel")

    calls = ref.record_kernel(monkeypatch, jit)
    monkeypatch.setattr(dom, "_rank_padded", forbidden)
    monkeypatch.setattr(dom, "_moocore_for", forbidden)
    return calls


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_pareto_rank_uses_the_compiled_kernel(k, kernel_calls):
    assert dom._rank_kernel() is jit.rank_segments
    rng = np.random.default_rng(k)
    X = rng.random((64 * 30, k))
    g = np.repeat(np.arange(30), 64)
    r = pareto_rank(X, g)
    assert kernel_calls == [(X.shape[0], k)]
    assert r.tolist() == ref.ranks(X, g).tolist()
    crowding_distance(X, g)  # computes the ranks through pareto_rank
    assert len(kernel_calls) == 2


def test_two_objectives_use_it_at_any_group_size(kernel_calls, monkeypatch):
    monkeypatch.setattr(dom, "_JIT_MAX", 10)
    X = np.random.default_rng(0).random((50, 2))
    pareto_rank(X)
    assert kernel_calls == [(50, 2)]


def test_larger_groups_with_three_objectives_do_not_use_it(monkeypatch):
    calls = ref.record_kernel(monkeypatch, jit)
    monkeypatch.setattr(dom, "_JIT_MAX", 10)
    X = np.random.default_rng(1).integers(0, 3, (40, 3)).astype(float)
    g = np.repeat([0, 1], [11, 29])
    assert pareto_rank(X, g).tolist() == ref.ranks(X, g).tolist()
    assert calls == []


def test_without_the_kernel_pareto_rank_is_unchanged(monkeypatch):
    rng = np.random.default_rng(3)
    X, g = _groups(rng, 3, 50, 40, 3)
    X[rng.random(X.shape) < 0.05] = np.nan
    with_jit = pareto_rank(X, g, maximise=[True, False, True])
    monkeypatch.setattr(dom, "_rank_kernel", lambda: None)
    assert (pareto_rank(X, g, maximise=[True, False, True]) == with_jit).all()
    assert with_jit.tolist() == ref.ranks(X, g, [True, False, True]).tolist()


def test_numba_missing_and_lazy_import():
    # numba blocked: the module imports, reports no numba, pareto_rank falls back; the
    # kernel functions still run as plain Python (checked on a small case, both paths)
    code = """
import sys
sys.modules["numba"] = None
import numpy as np
import moreward.pareto as P
import moreward.pareto._rank_jit as jit
import moreward.pareto.dominance as dom
assert not jit.HAS_NUMBA and dom._rank_kernel() is None
X = np.array([[1.0, 0, 2], [0, 1, 2], [0, 0, 0], [1, 1, 2], [0, 0, 0], [-1, 0, 0]] * 3)
want = [1, 1, 2, 0, 2, 3] * 3
assert P.pareto_rank(X).tolist() == want
for small, bits in ((0, 1 << 30), (1 << 30, 0)):
    assert jit.rank_segments(X, np.arange(18), [0], [18], small=small, bits_max2=bits).tolist() == want
print("ok")
"""
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    # numba installed: importing moreward.pareto never loads it, the first ranking does
    code = """
import sys, numpy as np, moreward, moreward.pareto as P
print("numba" in sys.modules)
P.pareto_rank(np.ones((3, 2)))
print("numba" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
