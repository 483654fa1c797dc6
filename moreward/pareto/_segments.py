"""Private helpers: rows split into segments (groups of rollouts, or the fronts inside a
group), segment reductions, and padded ``(S, L, K)`` batches for the vectorised kernels.

Nothing here loops over segments in Python: reductions use ``np.add.reduceat`` on rows
sorted by segment, and padding gathers rows through an index array. Segments of very
different sizes are padded in a few size classes (powers of two), so one large group
does not inflate the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["Padded", "Segments", "dense_codes"]


@dataclass(frozen=True)
class Padded:
    """One size class of segments as a padded batch.

    ``index[s, l]`` is the row of the ``l``-th member of the ``s``-th segment of this
    class; ``valid`` is False on padding (where ``index`` is 0).
    """

    segments: np.ndarray  # (S,) segment codes in this class
    index: np.ndarray  # (S, L) row indices
    valid: np.ndarray  # (S, L) bool
    _identity: bool = False  # index is arange(N).reshape(S, L)

    def gather(self, values: np.ndarray, fill: float) -> np.ndarray:
        """``values[index]`` with ``fill`` on padding; shape ``(S, L) + values.shape[1:]``."""
        if self._identity:
            return values.reshape(*self.index.shape, *values.shape[1:]).copy()
        out = values[self.index]
        if not self.valid.all():
            out[~self.valid] = fill
        return out

    def scatter(self, out: np.ndarray, values: np.ndarray) -> None:
        """Write the per-member ``values`` (S, L, ...) back into ``out`` by row."""
        if self._identity:
            out[...] = values.reshape(out.shape)
        elif self.valid.all():
            out[self.index.ravel()] = values.reshape((-1, *values.shape[2:]))
        else:
            out[self.index[self.valid]] = values[self.valid]


class Segments:
    """Rows 0..N-1 split into segments by dense integer ``codes`` (0..S-1)."""

    def __init__(self, codes: np.ndarray, n_segments: int | None = None) -> None:
        codes = np.asarray(codes, dtype=np.intp)
        self.codes = codes
        self.n = codes.size
        self.n_segments = int(codes.max()) + 1 if n_segments is None and codes.size else int(n_segments or 0)
        self.counts = np.bincount(codes, minlength=self.n_segments)
        self.contiguous = bool(codes.size < 2 or np.all(codes[1:] >= codes[:-1]))
        self.order = np.arange(self.n) if self.contiguous else np.argsort(codes, kind="stable")
        ends = np.cumsum(self.counts)
        self.starts = ends - self.counts

    # -- reductions over the rows of each segment ------------------------------------
    def _sorted(self, values: np.ndarray) -> np.ndarray:
        return values if self.contiguous else values[self.order]

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Per-segment sum of ``values`` (N, ...) -> (S, ...); empty segments give 0."""
        out = np.zeros((self.n_segments, *values.shape[1:]), dtype=np.result_type(values, float))
        nonempty = self.counts > 0
        if self.n:
            out[nonempty] = np.add.reduceat(self._sorted(values), self.starts[nonempty], axis=0)
        return out

    def max(self, values: np.ndarray, empty: float = -np.inf) -> np.ndarray:
        out = np.full((self.n_segments, *values.shape[1:]), empty, dtype=float)
        nonempty = self.counts > 0
        if self.n:
            out[nonempty] = np.maximum.reduceat(self._sorted(values), self.starts[nonempty], axis=0)
        return out

    def min(self, values: np.ndarray, empty: float = np.inf) -> np.ndarray:
        out = np.full((self.n_segments, *values.shape[1:]), empty, dtype=float)
        nonempty = self.counts > 0
        if self.n:
            out[nonempty] = np.minimum.reduceat(self._sorted(values), self.starts[nonempty], axis=0)
        return out

    # -- padded batches ----------------------------------------------------------------
    def padded(self) -> Iterator[Padded]:
        """The non-empty segments as padded batches, one per size class."""
        counts = self.counts
        nonempty = np.flatnonzero(counts)
        if nonempty.size == 0:
            return
        sizes = counts[nonempty]
        if self.contiguous and sizes.min() == sizes.max() and nonempty.size == self.n_segments:
            L = int(sizes[0])
            index = np.arange(self.n).reshape(-1, L)
            yield Padded(nonempty, index, np.ones(index.shape, dtype=bool), True)
            return
        size_class = np.ceil(np.log2(sizes)).astype(np.intp)
        for c in np.unique(size_class):
            segs = nonempty[size_class == c]
            n_members = counts[segs]
            L = int(n_members.max())
            pos = np.arange(L)
            valid = pos < n_members[:, None]
            sorted_rows = np.where(valid, self.starts[segs][:, None] + pos, 0)
            index = self.order[sorted_rows]
            yield Padded(segs, np.where(valid, index, 0), valid)


def dense_codes(*keys: np.ndarray) -> np.ndarray:
    """Dense codes 0..S-1 for the tuples ``(keys[0][i], keys[1][i], ...)`` of integer keys."""
    if keys[0].size == 0:
        return np.zeros(0, dtype=np.intp)
    combined = np.zeros(keys[0].shape, dtype=np.int64)
    for key in keys:
        key = np.asarray(key, dtype=np.int64)
        combined = combined * (int(key.max()) + 1) + key
    _, inverse = np.unique(combined, return_inverse=True)
    return inverse.astype(np.intp).reshape(-1)
