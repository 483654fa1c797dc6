"""PNG plots for ``moreward summary --plot``: a histogram per objective and the Pareto front scatter.

matplotlib is the optional ``[pareto]`` extra; it is imported here only, with the
non-interactive Agg backend so plotting works without a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import missing_extra
from .analysis import Summary

__all__ = ["front_2d", "plot_summary"]

MAX_SCATTER_POINTS = 20_000  # beyond this the scatter is subsampled (the front is always drawn whole)


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise missing_extra("matplotlib", "pareto") from exc
    return plt


def front_2d(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the points no other point dominates (both maximised), in O(n log n)."""
    order = np.lexsort((-y, -x))  # x descending, then y descending
    front = []
    best_y = -np.inf
    for i in order:
        if y[i] > best_y:
            front.append(i)
            best_y = y[i]
    return np.array(front, dtype=int)


def plot_summary(
    summary: Summary,
    matrix: np.ndarray,
    names: Sequence[str],
    out_dir: str | Path,
    *,
    maximise: Sequence[bool] | None = None,
    pair: tuple[str, str] | None = None,
) -> list[Path]:
    """Write ``hist_<objective>.png`` for each objective and ``front.png`` (the two objectives of
    ``pair``, by default the first two that vary); returns the paths written."""
    plt = _pyplot()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, st in summary.objectives.items():
        fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
        vals = np.asarray(st.values, dtype=float)
        if vals.size:
            ax.hist(vals, bins=min(40, max(5, len(np.unique(vals)))), color="#4C72B0", edgecolor="white")
        ax.set_title(f"{name}  (n={st.n}, missing={st.n - vals.size})")
        ax.set_xlabel("value")
        ax.set_ylabel("rollouts")
        fig.tight_layout()
        path = out / f"hist_{_safe(name)}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    if matrix.shape[1] >= 2:
        front = _front_plot(plt, matrix, list(names), out, maximise, pair)
        if front is not None:
            written.append(front)
    return written


def _front_plot(
    plt: Any, M: np.ndarray, names: list[str], out: Path, maximise: Sequence[bool] | None, pair: tuple[str, str] | None
) -> Path | None:
    if pair is None:
        # The two objectives that vary and share the most rows with a value: routed objectives
        # (math only on math rows, ...) rarely overlap, and a pair without rows draws nothing.
        present = ~np.isnan(M)
        varying = [j for j in range(M.shape[1]) if np.unique(M[present[:, j], j]).size > 1]
        candidates: list[tuple[int, int]] = [(a, b) for i, a in enumerate(varying) for b in varying[i + 1 :]]
        if not candidates:
            candidates = [(0, 1)]
        best = max(candidates, key=lambda ab: (int((present[:, ab[0]] & present[:, ab[1]]).sum()), -ab[0], -ab[1]))
        cols = [best[0], best[1]]
    else:
        cols = [names.index(pair[0]), names.index(pair[1])]
    ok = ~np.isnan(M[:, cols]).any(axis=1)
    pts = M[ok][:, cols]
    if pts.shape[0] == 0:
        return None
    signs = np.ones(2) if maximise is None else np.where([maximise[c] for c in cols], 1.0, -1.0)
    front = front_2d(pts[:, 0] * signs[0], pts[:, 1] * signs[1])
    rng = np.random.default_rng(0)
    shown = pts if len(pts) <= MAX_SCATTER_POINTS else pts[rng.choice(len(pts), MAX_SCATTER_POINTS, replace=False)]
    # Jitter only the drawing, so binary objectives do not collapse onto four dots.
    span = np.ptp(pts, axis=0)
    jitter = rng.normal(0.0, 0.01, shown.shape) * np.where(span > 0, span, 1.0)
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    ax.scatter(shown[:, 0] + jitter[:, 0], shown[:, 1] + jitter[:, 1], s=6, alpha=0.35, color="#8C8C8C", label="rollouts")
    f = pts[front]
    f = f[np.argsort(f[:, 0])]
    ax.plot(f[:, 0], f[:, 1], "o-", color="#C44E52", ms=5, label=f"Pareto front ({len(front)})")
    ax.set_xlabel(f"{names[cols[0]]} ({'max' if signs[0] > 0 else 'min'})")
    ax.set_ylabel(f"{names[cols[1]]} ({'max' if signs[1] > 0 else 'min'})")
    ax.set_title(f"Pareto front over {len(pts)} rollouts")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    path = out / "front.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
