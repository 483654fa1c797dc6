"""The compiled (numba) exclusive-contribution kernel: exactness against brute force,
the numpy kernels and moocore, and the ``auto`` backend's dispatch to it."""

from __future__ import annotations

import subprocess
import sys

import moreward_pareto_ref as ref
import numpy as np
import pytest

from moreward.pareto import hv_contributions

numba = pytest.importorskip("numba")

import moreward.pareto._hvc_jit as jit  # noqa: E402
import moreward.pareto.hv as hv  # noqa: E402

needs_moocore = ref.needs_moocore


def _kernel(X: np.ndarray, g: np.ndarray, r: np.ndarray, prune_from: int) -> np.ndarray:
    """Contributions straight from :func:`hvc_segments` (rows grouped by ``g``)."""
    order = np.argsort(g, kind="stable")
    counts = np.bincount(g)
    starts = np.cumsum(counts) - counts
    Z = np.maximum(np.nan_to_num(X[order], nan=-np.inf), r) - r
    out = np.empty(len(X))
    out[order] = jit.hvc_segments(Z, starts, counts, prune_from)
    return out


def _groups(rng: np.random.Generator, k: int, n_groups: int, max_size: int, levels: int | None):
    """Unequal groups (one-point groups included), shuffled rows, ties and copies."""
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


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("levels", [2, 3, None])
@pytest.mark.parametrize("prune_from", [0, 1 << 30])
def test_kernel_equals_brute_force(k, levels, prune_from):
    rng = np.random.default_rng(1000 * k + (levels or 0) + (prune_from > 0))
    X, g = _groups(rng, k, 40, 6, levels)
    r = np.zeros(k) if levels else np.full(k, 0.2)  # points on / below the reference
    c = _kernel(X, g, r, prune_from)
    for gid in range(40):
        rows = g == gid
        assert np.allclose(c[rows], ref.hvc(X[rows], r), rtol=1e-9, atol=1e-12), gid


@pytest.mark.parametrize("k", [2, 3, 4])
def test_kernel_equals_grid_count_on_groups_of_16(k):
    rng = np.random.default_rng(77 + k)
    for levels in (3, 5, None):
        X, g = _groups(rng, k, 6, 16, levels)
        r = np.full(k, -0.5)
        c = _kernel(X, g, r, 0)
        assert np.allclose(c, _kernel(X, g, r, 1 << 30), rtol=1e-12, atol=1e-15)  # pruning changes nothing
        for gid in range(6):
            rows = g == gid
            assert np.allclose(c[rows], ref.hvc_grid(X[rows], r), rtol=1e-9, atol=1e-12)


def test_dominated_points_copies_and_single_points():
    # the dominated point shrinks its sole dominator's contribution; copies get 0
    c = jit.hvc_segments(np.array([[2.0, 2, 2, 2], [1, 1, 1, 1], [1, 3, 0.5, 1]]), [0], [3], 0)
    assert c.tolist() == [14.5, 0.0, 0.5]
    c = jit.hvc_segments(np.array([[2.0, 2, 2, 2], [2, 2, 2, 2], [1, 1, 1, 1]]), [0], [3], 0)
    assert c.tolist() == [0.0, 0.0, 0.0]
    c = jit.hvc_segments(np.array([[2.0, 3, 4], [0, 5, 5], [1, 1, 1]]), [0, 1, 2], [1, 1, 1], 0)
    assert c.tolist() == [24.0, 0.0, 1.0]  # a point on the reference has no volume
    assert jit.hvc_segments(np.zeros((0, 4)), [], [], 0).shape == (0,)
    c = jit.hvc_segments(np.ones((3, 2)), [0, 0, 1], [0, 1, 2], 0)  # an empty group
    assert c.tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="2 to 4"):
        jit.hvc_segments(np.ones((3, 5)), [0], [3], 0)


@pytest.mark.parametrize("G", [2, 8, 16, 64])
@pytest.mark.parametrize("levels", [3, None])
def test_four_objectives_equal_numpy_kernels(G, levels):
    rng = np.random.default_rng(G + (levels or 0))
    B = 6
    X = rng.random((B * G, 4)) if levels is None else rng.integers(0, levels, (B * G, 4)).astype(float)
    g = np.repeat(np.arange(B), G)
    r = np.full(4, -0.25)
    ours = hv_contributions(X, g, ref=r)
    assert np.allclose(ours, hv_contributions(X, g, ref=r, backend="numpy"), rtol=1e-9, atol=1e-12)
    if G <= 16:
        for b in range(B):
            rows = g == b
            assert np.allclose(ours[rows], ref.hvc_grid(X[rows], r), rtol=1e-9, atol=1e-12)


@needs_moocore
@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("G", [2, 8, 16, 64])
def test_equal_moocore(k, G):
    import moocore

    rng = np.random.default_rng(300 + 10 * k + G)
    for levels in (3, None):
        B = 8
        X = rng.random((B, G, k)) if levels is None else rng.integers(0, levels, (B, G, k)).astype(float)
        r = np.full(k, -0.1)
        ours = hv_contributions(X.reshape(-1, k), np.repeat(np.arange(B), G), ref=r)
        theirs = np.concatenate(
            [moocore.hv_contributions(x, ref=r, maximise=True, ignore_dominated=False) for x in X]
        )
        # moocore 0.3.2 returns 0 for some contributions below ~1e-8
        assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-7)


def test_missing_values_minimisation_and_labels_through_auto():
    rng = np.random.default_rng(12)
    X, g = _groups(rng, 4, 25, 12, 3)
    X[rng.random(X.shape) < 0.05] = np.nan  # missing: the reference value
    mx = [True, False, True, False]
    Xm = np.where(mx, X, -X)
    labels = np.array([f"prompt-{i}" for i in g], dtype=object)
    c = hv_contributions(Xm, labels, ref=np.zeros(4), maximise=mx)
    assert np.allclose(c, hv_contributions(Xm, labels, ref=np.zeros(4), maximise=mx, backend="numpy"))
    for gid in range(25):
        rows = g == gid
        assert np.allclose(c[rows], ref.hvc_grid(np.nan_to_num(X[rows], nan=0.0), np.zeros(4)), atol=1e-12)


# ----------------------------------------------------------------------- dispatch
@pytest.fixture
def kernel_calls(monkeypatch):
    """Counts the compiled kernel's calls; numpy kernels and moocore raise if used."""
    def forbidden(*args, **kwargs):
        raise AssertionError("auto should have used the compiled kernel")

    calls = ref.record_kernel(monkeypatch, jit)
    monkeypatch.setattr(hv, "_numpy_padded", forbidden)
    monkeypatch.setattr(hv, "_moocore", forbidden)
    return calls


@pytest.mark.parametrize("k", [2, 3, 4])
def test_auto_uses_the_compiled_kernel(k, kernel_calls):
    assert hv._jit_kernel() is jit.hvc_segments
    X = np.random.default_rng(k).random((16 * 30, k))
    g = np.repeat(np.arange(30), 16)
    c = hv_contributions(X, g, ref=np.zeros(k))
    assert kernel_calls == [(X.shape[0], k)]
    assert (c > 0).any()


def test_other_backends_and_sizes_do_not_use_it(monkeypatch):
    calls = ref.record_kernel(monkeypatch, jit)
    X = np.random.default_rng(0).random((20, 4))
    hv_contributions(X, ref=np.zeros(4), backend="numpy")
    hv_contributions(np.random.default_rng(0).random((20, 5)), ref=np.zeros(5))  # 5 objectives
    monkeypatch.setattr(hv, "_JIT_MAX", {**hv._JIT_MAX, 4: 19})  # groups larger than the cap
    hv_contributions(X, ref=np.zeros(4))
    assert calls == []


def test_without_numba_auto_is_unchanged(monkeypatch):
    rng = np.random.default_rng(3)
    X = rng.random((16 * 20, 4))
    g = np.repeat(np.arange(20), 16)
    with_jit = hv_contributions(X, g, ref=np.zeros(4))
    monkeypatch.setattr(hv, "_jit_kernel", lambda: None)
    assert np.allclose(hv_contributions(X, g, ref=np.zeros(4)), with_jit, rtol=1e-9, atol=1e-7)


def test_numba_missing_and_lazy_import():
    # numba blocked: the module imports, reports no numba, and auto falls back; the
    # kernel functions still run as plain Python (checked on a small case)
    code = """
import sys
sys.modules["numba"] = None
import numpy as np
import moreward.pareto as P
import moreward.pareto._hvc_jit as jit
import moreward.pareto.hv as hv
assert not jit.HAS_NUMBA and hv._jit_kernel() is None
X = np.array([[2.0, 2, 2, 2], [1, 1, 1, 1], [1, 3, 0.5, 1]])
assert P.hv_contributions(X, ref=np.zeros(4)).tolist() == [14.5, 0.0, 0.5]
assert jit.hvc_segments(X, [0], [3], 0).tolist() == [14.5, 0.0, 0.5]
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    # numba installed: importing moreward / moreward.pareto, or the numpy backend, never loads it
    code = """
import sys, numpy as np, moreward, moreward.pareto as P
P.hv_contributions(np.ones((3, 4)), ref=np.zeros(4), backend="numpy")
print("numba" in sys.modules)
P.hv_contributions(np.ones((3, 4)), ref=np.zeros(4))
print("numba" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
