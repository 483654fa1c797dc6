"""Brute-force references for the pareto tests (registered by conftest.py as the module
``moreward_pareto_ref``: pytest runs in importlib mode, test modules are not importable)."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest


def installed(module):
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


HAS_MOOCORE = installed("moocore")
needs_moocore = pytest.mark.skipif(not HAS_MOOCORE, reason="moocore not installed")


def record_kernel(monkeypatch, module):
    """Wrap ``module._kernel`` (a compiled kernel's entry): the returned list receives
    the shape of its first argument at each call."""
    calls = []
    inner = module._kernel

    def spy(*args):
        calls.append(args[0].shape)
        return inner(*args)

    monkeypatch.setattr(module, "_kernel", spy)
    return calls


def orient(X, maximise=True):
    X = np.array(X, dtype=float)
    k = X.shape[1]
    mx = np.full(k, maximise) if isinstance(maximise, bool) else np.asarray(maximise, bool)
    X = np.where(mx, X, -X)
    X[np.isnan(X)] = -np.inf
    return X


def dominates(a, b):
    return bool(np.all(a >= b) and np.any(a > b))


def ranks(X, groups=None, maximise=True):
    """O(n^2) per peel: front 0 = rows no other row of the group dominates, and so on."""
    X = orient(X, maximise)
    n = len(X)
    g = np.zeros(n, int) if groups is None else np.asarray(groups)
    out = np.full(n, -1)
    for gid in dict.fromkeys(g.tolist()):
        idx = [i for i in range(n) if g[i] == gid]
        left, r = set(idx), 0
        while left:
            front = {j for j in left if not any(dominates(X[i], X[j]) for i in left if i != j)}
            for j in front:
                out[j] = r
            left -= front
            r += 1
    return out


def hv(X, ref, maximise=True):
    """Inclusion-exclusion over all subsets (small sets only)."""
    X = orient(X, maximise)
    r = orient(np.asarray(ref, float)[None], maximise)[0]
    X = np.maximum(X, r)
    total = 0.0
    for m in range(1, len(X) + 1):
        for T in itertools.combinations(range(len(X)), m):
            total += (-1) ** (m + 1) * np.prod(np.min(X[list(T)], axis=0) - r)
    return total


def hvc(X, ref, maximise=True):
    X = np.asarray(X, float)
    full = hv(X, ref, maximise)
    return np.array([full - hv(np.delete(X, i, 0), ref, maximise) for i in range(len(X))])


def crowding(X, groups=None, maximise=True):
    """Tie-aware crowding distance inside each (group, front), by definition."""
    Xo = orient(X, maximise)
    n, k = Xo.shape
    g = np.zeros(n, int) if groups is None else np.asarray(groups)
    rk = ranks(X, g, maximise)
    out = np.zeros(n)
    for i in range(n):
        members = [j for j in range(n) if g[j] == g[i] and rk[j] == rk[i]]
        total = 0.0
        for d in range(k):
            vals = [Xo[j, d] for j in members if np.isfinite(Xo[j, d])]
            v = Xo[i, d]
            if not np.isfinite(v) or not vals or max(vals) == min(vals):
                continue
            lower = [u for u in vals if u < v]
            higher = [u for u in vals if u > v]
            if not lower or not higher:
                total = np.inf
                continue
            total += (min(higher) - max(lower)) / (max(vals) - min(vals))
        out[i] = total
    return out


def min_norm_grid(gram, steps=600):
    """Best point of a fine grid on the 3-simplex."""
    a, b = np.meshgrid(np.arange(steps + 1), np.arange(steps + 1), indexing="ij")
    keep = a + b <= steps
    lam = np.stack([a[keep], b[keep], steps - a[keep] - b[keep]], axis=1) / steps
    vals = np.einsum("ni,ij,nj->n", lam, np.asarray(gram, float), lam)
    i = int(np.argmin(vals))
    return lam[i], float(vals[i])


def hvc_grid(X, ref):
    """Exclusive contributions by counting, cell by cell of the grid of all coordinate
    values, the points that dominate the cell (maximised; for up to ~24 points in 4-D).
    Independent of inclusion-exclusion and of every kernel; exact up to rounding."""
    X = np.maximum(np.asarray(X, float), ref) - np.asarray(ref, float)
    k = X.shape[1]
    widths, covers = [], []
    for d in range(k):
        levels = np.unique(np.concatenate([[0.0], X[:, d]]))
        widths.append(np.diff(levels))
        covers.append((X[:, d, None] >= levels[None, 1:]).astype(float))  # (n, cells_d)
    letters = "abcdefgh"[:k]
    count = np.einsum(",".join(f"p{c}" for c in letters) + "->" + letters, *covers)
    vol = np.einsum(",".join(letters) + "->" + letters, *widths) if k > 1 else widths[0]
    excl = np.where(np.isclose(count, 1.0), vol, 0.0)
    return np.einsum(letters + "," + ",".join(f"i{c}" for c in letters) + "->i", excl, *covers)
