"""Benchmark: batched Pareto ranks and exclusive hypervolume contributions.

B groups (default 512) of G rollouts (8, 16, 64) with K objectives (2, 3, 4):

- ``pareto_rank``: moreward's batched :func:`moreward.pareto.pareto_rank` against a Python
  loop calling ``moocore.pareto_rank`` per group and a loop calling pymoo's
  ``NonDominatedSorting().do(..., return_rank=True)`` per group;
- ``hv_contribution``: :func:`moreward.pareto.hv_contributions` (``backend="auto"``, and
  the own numpy kernels alone) against a loop calling
  ``moocore.hv_contributions(..., ignore_dominated=False)`` per group. With numba
  installed, "auto" runs the compiled kernel for 2-4 objectives, and ``pareto_rank`` its
  compiled kernel; their one-off cost (import numba, compile or load the on-disk cache)
  is printed above the table and kept out of the timings, like every function's first
  call.

Every run checks that the results agree (ranks identical; contributions equal to 1e-9
relative, 1e-7 absolute: moocore 0.3.2 returns 0 for some exclusive contributions
below about 1e-8 that brute force confirms are positive, the "max |diff|" column).
Times are the best of ``--repeats`` interleaved runs, in milliseconds for the whole batch; "x" is
the moocore loop's time over moreward's.

Usage::

    python benchmarks/pareto_bench.py [--groups 512] [--repeats 7] [--data uniform|discrete]
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from moreward.pareto import hv_contributions, pareto_rank


def timed(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, tuple[float, Any]]:
    """Best time (ms) and result of each function; the functions run in interleaved
    rounds so that a burst of load on a shared machine hits them alike."""
    results = {name: fn() for name, fn in fns.items()}  # warm-up
    best = dict.fromkeys(fns, np.inf)
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: (best[name] * 1e3, results[name]) for name in fns}


def make_data(rng: np.random.Generator, B: int, G: int, K: int, kind: str) -> np.ndarray:
    if kind == "uniform":
        return rng.random((B, G, K))
    # discrete: binary accuracy, 3-level format, then continuous scores (ties, duplicates)
    cols = [rng.integers(0, 2, (B, G)), rng.integers(0, 3, (B, G)) / 2]
    cols += [np.round(rng.random((B, G)), 2) for _ in range(K - 2)]
    return np.stack(cols[:K], axis=-1).astype(float)


def run_case(X: np.ndarray, repeats: int, moocore: Any, nds: Any) -> tuple[list[str], bool]:
    """Time and cross-check one (B, G, K) batch; the table cells and whether all agree."""
    B, G, K = X.shape
    R = X.reshape(B * G, K)
    groups = np.repeat(np.arange(B), G)
    ref = np.full(K, -0.1)
    all_ok = True
    cells: list[str] = [str(K), str(G)]
    fns: dict[str, Callable[[], Any]] = {"rank": lambda: pareto_rank(R, groups)}
    if moocore is not None:
        fns["rank_mc"] = lambda: np.concatenate([moocore.pareto_rank(x, maximise=True) for x in X])
    if nds is not None:
        fns["rank_pm"] = lambda: np.concatenate([nds.do(-x, return_rank=True)[1] for x in X])
    fns["hvc"] = lambda: hv_contributions(R, groups, ref=ref)
    numpy_ok = G ** (K - 1) <= 16**3
    if numpy_ok:
        fns["hvc_np"] = lambda: hv_contributions(R, groups, ref=ref, backend="numpy")
    if moocore is not None:
        fns["hvc_mc"] = lambda: np.concatenate(
            [moocore.hv_contributions(x, ref=ref, maximise=True, ignore_dominated=False) for x in X]
        )
    res = timed(fns, repeats)
    t_ours, ranks = res["rank"]
    cells.append(f"{t_ours:.2f}")
    for key in ("rank_mc", "rank_pm"):
        if key in res:
            t, other = res[key]
            ok = bool(np.array_equal(ranks, other))
            all_ok &= ok
            cells += [f"{t:.2f}", f"{t / t_ours:.1f}" + ("" if ok else " MISMATCH")]
        else:
            cells += ["-", "-"]
    t_hv, hvc = res["hvc"]
    cells.append(f"{t_hv:.2f}")
    if numpy_ok:
        all_ok &= bool(np.allclose(res["hvc_np"][1], hvc, rtol=1e-9, atol=1e-7))
        cells.append(f"{res['hvc_np'][0]:.2f}")
    else:
        cells.append("(slow)")
    if moocore is not None:
        t_mc, mc = res["hvc_mc"]
        ok = bool(np.allclose(hvc, mc, rtol=1e-9, atol=1e-7))
        all_ok &= ok
        cells += [
            f"{t_mc:.2f}",
            f"{t_mc / t_hv:.1f}" + ("" if ok else " MISMATCH"),
            f"{np.abs(hvc - mc).max():.1e}",
        ]
    else:
        cells += ["-", "-", "-"]
    return cells, all_ok


def jit_first_call() -> str:
    """Time the first call of the compiled contribution and rank kernels (import, compile or
    cache load)."""
    from moreward.pareto import hv

    t0 = time.perf_counter()
    kernel = hv._jit_kernel()
    if kernel is None:
        return "numba not installed: hv_contributions and pareto_rank use the numpy kernels and moocore"
    hv_contributions(np.ones((2, 4)), ref=np.zeros(4))
    seconds = time.perf_counter() - t0
    from moreward.pareto import _hvc_jit

    stats = _hvc_jit._kernel.stats
    how = "compiled" if sum(stats.cache_misses.values()) else "loaded from numba's on-disk cache"
    t0 = time.perf_counter()
    pareto_rank(np.ones((2, 2)))
    rank_seconds = time.perf_counter() - t0
    from moreward.pareto import _rank_jit

    rank_how = "compiled" if sum(_rank_jit._kernel.stats.cache_misses.values()) else "loaded from the cache"
    return (
        f"compiled HVC kernel, first call (import numba + {how}): {seconds:.2f} s; "
        f"rank kernel ({rank_how}): {rank_seconds:.2f} s; outside the timings"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--groups", type=int, default=512)
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 64])
    ap.add_argument("--objectives", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--data", choices=["uniform", "discrete"], default="uniform")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    has_moocore = importlib.util.find_spec("moocore") is not None
    has_pymoo = importlib.util.find_spec("pymoo") is not None
    moocore = nds = None
    if has_moocore:
        import moocore
    if has_pymoo:
        from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

        nds = NonDominatedSorting()
    versions = [f"numpy {np.__version__}"]
    if has_moocore:
        versions.append(f"moocore {moocore.__version__}")
    if has_pymoo:
        import pymoo

        versions.append(f"pymoo {pymoo.__version__}")
    if importlib.util.find_spec("numba") is not None:
        import numba

        versions.append(f"numba {numba.__version__}")
    print(f"# pareto_bench: B={args.groups} groups, data={args.data}, best of {args.repeats}")
    print(f"# {platform.python_implementation()} {platform.python_version()}, {', '.join(versions)}, "
          f"{platform.machine()}")  # fmt: skip
    print(f"# {jit_first_call()}")
    print()
    print(
        "| K | G | rank: moreward ms | moocore loop ms | x | pymoo loop ms | x "
        "| HVC: moreward ms | numpy-only ms | moocore loop ms | x | max abs diff |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(args.seed)
    all_ok = True
    for K in args.objectives:
        for G in args.sizes:
            X = make_data(rng, args.groups, G, K, args.data)
            cells, ok = run_case(
                X, args.repeats, moocore if has_moocore else None, nds if has_pymoo else None
            )
            all_ok &= ok
            print("| " + " | ".join(cells) + " |", flush=True)
    print()
    print("results agree" if all_ok else "RESULTS DIFFER (see MISMATCH)")


if __name__ == "__main__":
    main()
