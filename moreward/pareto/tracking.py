"""Tracking the Pareto front over training: :class:`FrontTracker` and :func:`plot_front`.

Record the objective vectors of an evaluation set (or of each checkpoint's mean) by
training step, then report, per step, the hypervolume against a *fixed* reference point
(comparable across steps), IGD+ against the reference front (by default the
non-dominated union of everything recorded) and the spread of the step's front.
:func:`plot_front` writes PNGs with matplotlib (the ``pareto`` extra, imported lazily).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..errors import missing_extra
from .combiners import as_matrix, as_maximise
from .dominance import is_nondominated
from .hv import hypervolume
from .metrics import igd_plus, spread

__all__ = ["FrontReport", "FrontTracker", "plot_front"]


class FrontReport(NamedTuple):
    """One step of :meth:`FrontTracker.report`."""

    step: Hashable
    n_points: int
    n_nondominated: int
    hypervolume: float
    igd_plus: float
    spread: float


class FrontTracker:
    """Objective vectors by training step or checkpoint, and the indicators of each.

    Args:
        ref: the fixed reference point (K,) for the hypervolume, in the objectives' own
            units and directions, e.g. 0 correctness, 0 format, length = the budget.
        maximise: per objective.
        names: objective names, for reports and plots.
        reference_front: the front IGD+ and the spread's extremes are measured against;
            by default the non-dominated points of everything recorded so far.

    Examples:
        >>> t = FrontTracker(ref=[0, 0], names=["acc", "brevity"])
        >>> t.record(0, [[0.2, 0.5], [0.4, 0.1]])
        >>> t.record(100, [[0.6, 0.5]])
        >>> [round(r.hypervolume, 2) for r in t.report()]
        [0.12, 0.3]
    """

    def __init__(
        self,
        *,
        ref: Sequence[float],
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
        reference_front: Any = None,
    ) -> None:
        self.ref = tuple(float(v) for v in ref)
        k = len(self.ref)
        self.maximise = tuple(bool(m) for m in as_maximise(maximise, k))
        self.names = tuple(names) if names is not None else tuple(f"objective {j}" for j in range(k))
        if len(self.names) != k:
            raise ValueError(f"{len(self.names)} names for {k} objectives")
        self.reference_front = None if reference_front is None else as_matrix(reference_front)
        self._records: dict[Hashable, np.ndarray] = {}

    @property
    def k(self) -> int:
        return len(self.ref)

    @property
    def steps(self) -> list[Hashable]:
        """The recorded steps, in the order first recorded."""
        return list(self._records)

    def record(self, step: Hashable, points: Any, /) -> None:
        """Add objective vectors (n, K), or one vector (K,), for ``step`` (appends)."""
        X = np.array(points, dtype=float, copy=True)
        X = X.reshape(1, -1) if X.ndim == 1 else X
        if X.ndim != 2 or X.shape[1] != self.k:
            raise ValueError(f"expected points with {self.k} objectives, got shape {np.shape(points)}")
        old = self._records.get(step)
        self._records[step] = X if old is None else np.vstack([old, X])

    def points(self, step: Hashable) -> np.ndarray:
        """All vectors recorded for ``step`` (a copy)."""
        return self._records[step].copy()

    def front(self, step: Hashable) -> np.ndarray:
        """The non-dominated vectors of ``step``."""
        X = self._records[step]
        X = X[~np.isnan(X).any(axis=1)]
        return X[is_nondominated(X, maximise=self.maximise)]

    def reference(self) -> np.ndarray:
        """The reference front: the given one, or the non-dominated union of all records."""
        if self.reference_front is not None:
            return self.reference_front.copy()
        if not self._records:
            return np.zeros((0, self.k))
        X = np.vstack(list(self._records.values()))
        X = X[~np.isnan(X).any(axis=1)]
        return X[is_nondominated(X, maximise=self.maximise)]

    def hypervolume(self, step: Hashable) -> float:
        """Hypervolume of ``step``'s vectors against the fixed reference point."""
        X = self._records[step]
        return hypervolume(X[~np.isnan(X).any(axis=1)], ref=self.ref, maximise=self.maximise)

    def report(self) -> list[FrontReport]:
        """One :class:`FrontReport` per step, in recording order."""
        Z = self.reference()
        rows = []
        for step in self._records:
            F = self.front(step)
            rows.append(
                FrontReport(
                    step=step,
                    n_points=int(self._records[step].shape[0]),
                    n_nondominated=int(F.shape[0]),
                    hypervolume=self.hypervolume(step),
                    igd_plus=igd_plus(F, ref=Z, maximise=self.maximise),
                    spread=spread(F, ref=Z, maximise=self.maximise),
                )
            )
        return rows

    def plot(self, directory: str | Path, /, *, prefix: str = "front") -> list[Path]:
        """Write the PNGs of :func:`plot_front` into ``directory``."""
        return plot_front(self, directory, prefix=prefix)

    def __repr__(self) -> str:
        return f"FrontTracker(ref={self.ref}, names={self.names}, steps={len(self._records)})"


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise missing_extra("matplotlib", "pareto") from None
    return matplotlib, Figure


def _step_values(steps: list[Hashable]) -> np.ndarray:
    """Numeric positions of the steps: the steps themselves if all are numbers."""
    if steps and all(
        isinstance(s, (int, float, np.integer, np.floating)) and not isinstance(s, bool) for s in steps
    ):
        return np.array(steps, dtype=float)
    return np.arange(len(steps), dtype=float)


def plot_front(
    tracker: FrontTracker,
    directory: str | Path,
    /,
    *,
    prefix: str = "front",
    axes: tuple[int, int] = (0, 1),
    labels: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write PNG plots of a :class:`FrontTracker` and return their paths.

    - ``{prefix}_scatter.png``: the recorded vectors of objectives ``axes`` coloured by
      step, each step's non-dominated front drawn as a line;
    - ``{prefix}_hypervolume.png``: hypervolume against the fixed reference point by step;
    - ``{prefix}_parallel.png`` (K >= 4): parallel coordinates of each step's front, each
      objective scaled to [0, 1] over all records (1 = best).

    Needs matplotlib (``pip install 'moreward[pareto]'``); raises
    :class:`~moreward.errors.MissingExtraError` otherwise. Uses matplotlib's
    object-oriented API (no pyplot, no global state).
    """
    _, Figure = _matplotlib()
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = tracker.steps
    if not steps:
        raise ValueError("nothing recorded")
    names = [(labels or {}).get(n, n) for n in tracker.names]
    pos = _step_values(steps)
    span = (pos.max() - pos.min()) or 1.0
    colour = [(p - pos.min()) / span for p in pos]
    written = []

    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    cmap = colormaps["viridis"]
    i, j = axes
    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    if tracker.k >= 2:
        for step, c in zip(steps, colour):
            X = tracker.points(step)
            ax.scatter(X[:, i], X[:, j], s=12, color=cmap(c), alpha=0.35, linewidths=0)
            F = tracker.front(step)
            F = F[np.argsort(F[:, i])]
            ax.plot(F[:, i], F[:, j], "-o", ms=3, color=cmap(c), lw=1)
        ax.set_xlabel(names[i])
        ax.set_ylabel(names[j])
    else:
        for p, step, c in zip(pos, steps, colour):
            X = tracker.points(step)
            ax.scatter(np.full(len(X), p), X[:, 0], s=12, color=cmap(c))
        ax.set_xlabel("step")
        ax.set_ylabel(names[0])
    fig.colorbar(ScalarMappable(Normalize(pos.min(), pos.max()), cmap=cmap), ax=ax, label="step")
    ax.set_title("objective vectors by step")
    written.append(out_dir / f"{prefix}_scatter.png")
    fig.savefig(written[-1], dpi=100, bbox_inches="tight")

    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    ax.plot(pos, [tracker.hypervolume(s) for s in steps], "-o", ms=3)
    ax.set_xlabel("step")
    ax.set_ylabel("hypervolume")
    ax.set_title(f"hypervolume, reference point {tracker.ref}")
    if len(pos) <= 12:
        ax.set_xticks(pos)
        ax.set_xticklabels([str(s) for s in steps], rotation=45, ha="right")
    written.append(out_dir / f"{prefix}_hypervolume.png")
    fig.savefig(written[-1], dpi=100, bbox_inches="tight")

    if tracker.k >= 4:
        allx = np.vstack([tracker.points(s) for s in steps])
        sign = np.where(tracker.maximise, 1.0, -1.0)
        lo, hi = np.nanmin(allx * sign, axis=0), np.nanmax(allx * sign, axis=0)
        width = np.where(hi > lo, hi - lo, 1.0)
        fig = Figure(figsize=(1.4 * tracker.k + 2, 4))
        ax = fig.add_subplot()
        xs = np.arange(tracker.k)
        for step, c in zip(steps, colour):
            for row in (tracker.front(step) * sign - lo) / width:
                ax.plot(xs, row, color=cmap(c), alpha=0.6, lw=1)
        ax.set_xticks(xs)
        ax.set_xticklabels(names, rotation=20, ha="right")
        ax.set_ylabel("scaled value (1 = best)")
        fig.colorbar(ScalarMappable(Normalize(pos.min(), pos.max()), cmap=cmap), ax=ax, label="step")
        ax.set_title("fronts, parallel coordinates")
        written.append(out_dir / f"{prefix}_parallel.png")
        fig.savefig(written[-1], dpi=100, bbox_inches="tight")
    return written
