"""Combiners: turn the reward matrix ``R`` (N rollouts x K objectives) of a batch into
one reward per rollout.

Every combiner is a picklable callable class that keeps its settings::

    combiner(R, groups=None, /, *, maximise=True, names=None) -> np.ndarray  # shape (N,)

- ``R``: float array (N, K); ``NaN`` marks a missing value (the objective returned
  ``None`` for that rollout: "do not train on it").
- ``groups``: length-N group ids (any hashable), or ``None`` for one group.
- ``maximise``: ``bool | Sequence[bool]``, one per objective.
- ``names``: the objective names of the K columns, used to resolve ``weights``
  given as a mapping.

The result is ``NaN`` where no reward can be given (every objective missing).
Inputs are never mutated. ``combiner.diagnostics(R, groups, ...)`` returns the
:class:`~moreward.pareto.diagnostics.Diagnostics` of a batch (distinct rewards per
group, share of non-dominated rollouts, share of zero-variance objectives).

The combiners (``available_combiners()``), each in its own module:

=================  ==========================================================  ==========
name               what                                                        output
=================  ==========================================================  ==========
weighted_sum       ``sum_k w_k r_k`` (here)                                    reward
decoupled          per-objective group z-scores, weighted (MO-GRPO / GDPO)     advantage
gated              conditional / lexicographic sums (AVAR, DDCA)               reward
tchebycheff        (augmented / smooth) weighted Tchebycheff on group-scaled   reward
pbi                penalty boundary intersection on group-scaled objectives    reward
min_norm           Frank-Wolfe min-norm point of the z-scores (P-FAB, MGDA)    advantage
pareto_rank        non-dominated sorting in the group, crowding tie-break     reward
hv_contribution    exclusive hypervolume contribution in the group's front     reward
scheduled          any weighted combiner with a weight scheduler               either
=================  ==========================================================  ==========

"advantage" outputs already have group mean 0 and unit scale per objective: feed them to
the trainer without a second group normalisation (TRL ``scale_rewards="none"``, verl
``norm_adv_by_std_in_grpo=False``), or the per-group z-scoring undoes what they fix.
"reward" outputs are meant to be group-normalised by the trainer as usual.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ConfigError

__all__ = [
    "DEFAULT_COMBINER",
    "Combiner",
    "WeightedSum",
    "as_matrix",
    "as_maximise",
    "available_combiners",
    "get_combiner",
    "group_codes",
    "register_combiner",
    "resolve_weights",
    "weights_setting",
]

DEFAULT_COMBINER = "decoupled"

_COMBINERS: dict[str, type[Combiner]] = {}


def register_combiner(cls: type[Combiner]) -> type[Combiner]:
    """Class decorator: make ``cls`` available by its ``name`` to :func:`get_combiner`."""
    _COMBINERS[cls.name] = cls
    return cls


def available_combiners() -> list[str]:
    """Names accepted by :func:`get_combiner` and by ``[combiner] method`` in a config."""
    return sorted(_COMBINERS)


def get_combiner(method: str = DEFAULT_COMBINER, /, **options: Any) -> Combiner:
    """Build the combiner called ``method`` with ``options``.

    Raises:
        ConfigError: unknown method (the message lists the allowed ones) or bad options.
    """
    cls = _COMBINERS.get(method)
    if cls is None:
        raise ConfigError(f"unknown combiner method {method!r}; allowed: {', '.join(available_combiners())}")
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"combiner {method!r}: {exc}") from exc


def as_matrix(R: Any) -> np.ndarray:
    """``R`` as a float (N, K) array copy; a 1-D input is one objective."""
    arr = np.array(R, dtype=float, copy=True)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"R must be a 2-D array (rollouts x objectives), got shape {arr.shape}")
    return arr


def as_maximise(maximise: bool | Sequence[bool], k: int) -> np.ndarray:
    """One boolean per objective."""
    if isinstance(maximise, (bool, np.bool_)):
        return np.full(k, bool(maximise))
    arr = np.asarray(list(maximise), dtype=bool)
    if arr.shape != (k,):
        raise ValueError(f"maximise has {arr.size} values for {k} objectives")
    return arr


def resolve_weights(
    weights: Mapping[str, float] | Sequence[float] | None, k: int, names: Sequence[str] | None
) -> np.ndarray:
    """Weights as a length-K array: a mapping is resolved through ``names`` (missing names weigh 1)."""
    if weights is None:
        return np.ones(k)
    if isinstance(weights, Mapping):
        if names is None:
            raise ValueError("weights given by name need the objective names")
        unknown = set(weights) - set(names)
        if unknown:
            raise ConfigError(
                f"weights name unknown objective(s) {', '.join(sorted(map(repr, unknown)))}; "
                f"objectives: {', '.join(names)}"
            )
        return np.array([float(weights.get(n, 1.0)) for n in names])
    arr = np.asarray(list(weights), dtype=float)
    if arr.shape != (k,):
        raise ValueError(f"{arr.size} weights for {k} objectives")
    return arr


def weights_setting(
    weights: Mapping[str, float] | Sequence[float] | None,
) -> dict[str, float] | tuple[float, ...] | None:
    """A ``weights`` option in the stored form: a dict by name, a tuple, or None."""
    if isinstance(weights, Mapping):
        return {str(k): float(v) for k, v in weights.items()}
    if weights is not None:
        return tuple(float(w) for w in weights)
    return None


def group_codes(groups: Sequence[Hashable] | np.ndarray | None, n: int) -> np.ndarray:
    """Dense integer codes 0..G-1 for the group ids (all zeros when ``groups`` is None)."""
    if groups is None:
        return np.zeros(n, dtype=np.intp)
    if isinstance(groups, np.ndarray) and groups.ndim == 1 and groups.dtype.kind in "biuUS":
        # vectorised path, same codes (first-appearance order) as the generic one
        if groups.size != n:
            raise ValueError(f"groups has {groups.size} entries for {n} rollouts")
        if n == 0:
            return np.zeros(0, dtype=np.intp)
        if groups.dtype.kind in "biu" and np.all(groups[1:] >= groups[:-1]):
            codes = np.zeros(n, dtype=np.intp)
            np.cumsum(groups[1:] != groups[:-1], out=codes[1:])
            return codes
        _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
        remap = np.empty(first.size, dtype=np.intp)
        remap[np.argsort(first, kind="stable")] = np.arange(first.size)
        return remap[inverse.reshape(-1)]
    ids = list(groups)
    if len(ids) != n:
        raise ValueError(f"groups has {len(ids)} entries for {n} rollouts")
    index: dict[Hashable, int] = {}
    return np.fromiter((index.setdefault(g, len(index)) for g in ids), dtype=np.intp, count=n)


class Combiner:
    """Base class of the combiners. Subclasses set ``name`` and implement ``__call__``."""

    name: ClassVar[str] = "combiner"

    def __call__(
        self,
        R: Any,
        groups: Sequence[Hashable] | np.ndarray | None = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def diagnostics(
        self,
        R: Any,
        groups: Sequence[Hashable] | np.ndarray | None = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> Any:
        """Combine ``R`` and describe the batch: a :class:`~moreward.pareto.diagnostics.Diagnostics`
        with the mean number of distinct rewards per group, the share of non-dominated
        rollouts and the share of zero-variance (group, objective) pairs."""
        from .diagnostics import diagnose

        rewards = self(R, groups, maximise=maximise, names=names)
        return diagnose(R, rewards, groups, maximise=maximise)

    def settings(self) -> dict[str, Any]:
        """The options this combiner was built with."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.settings().items())})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.settings() == other.settings()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]


@register_combiner
class WeightedSum(Combiner):
    """``r_i = sum_k w_k * s_k * R_ik`` with ``s_k = +1`` to maximise, ``-1`` to minimise.

    A missing value (``NaN``) contributes nothing; a rollout with every value missing
    gets ``NaN`` (no reward). Groups are ignored.
    """

    name: ClassVar[str] = "weighted_sum"

    def __init__(self, *, weights: Mapping[str, float] | Sequence[float] | None = None) -> None:
        self.weights = weights_setting(weights)

    def __call__(
        self,
        R: Any,
        groups: Sequence[Hashable] | np.ndarray | None = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        M = as_matrix(R)
        n, k = M.shape
        if groups is not None:
            group_codes(groups, n)  # validates the length
        if k == 0:
            return np.full(n, np.nan)
        w = resolve_weights(self.weights, k, names) * np.where(as_maximise(maximise, k), 1.0, -1.0)
        missing = np.isnan(M)
        out = np.where(missing, 0.0, M) @ w
        out[missing.all(axis=1)] = np.nan
        return out
