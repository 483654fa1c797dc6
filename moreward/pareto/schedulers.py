"""Weight schedulers: objective weights that change over training, and :class:`Scheduled`,
the combiner that applies one to any weighted combiner.

A scheduler is called twice per batch: :meth:`WeightScheduler.weights_for` returns the
weights to combine this batch with (it may look at the batch), and
:meth:`WeightScheduler.observe` sees the combined rewards afterwards. ``history`` keeps
the weights used at each step (plot it: weight trajectories are a diagnostic).

- :class:`StaticWeights`: fixed weights.
- :class:`VarianceWeights`: ``w_k ∝ base_k * s_k^power`` from the in-group variance
  (DVAO, arXiv:2605.25604) or the coefficient of variation (SAW, arXiv:2606.07705).
- :class:`CorrelationWeights` (CTWA, arXiv:2602.06869): raise the weight of an objective
  whose correlation with the training signal falls below a target.
- :class:`HypervolumeWeights` (arXiv:2509.11452): scale the reward by the hypervolume
  contribution of the batch's mean objective vector to the front of past batches.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from ..errors import ConfigError
from ._segments import Segments
from .combiners import (
    Combiner,
    as_matrix,
    as_maximise,
    get_combiner,
    group_codes,
    register_combiner,
    resolve_weights,
    weights_setting,
)
from .dominance import is_nondominated
from .hv import hypervolume

__all__ = [
    "CorrelationWeights",
    "HypervolumeWeights",
    "Scheduled",
    "StaticWeights",
    "VarianceWeights",
    "WeightScheduler",
    "available_schedulers",
    "get_scheduler",
]

GroupsLike = Sequence[Hashable] | np.ndarray | None
WeightsLike = Mapping[str, float] | Sequence[float] | None

_SCHEDULERS: dict[str, type[WeightScheduler]] = {}


def _register(cls: type[WeightScheduler]) -> type[WeightScheduler]:
    _SCHEDULERS[cls.name] = cls
    return cls


def available_schedulers() -> list[str]:
    """Names accepted by :func:`get_scheduler` and :class:`Scheduled`."""
    return sorted(_SCHEDULERS)


def get_scheduler(name: str, /, **options: Any) -> WeightScheduler:
    """Build the scheduler called ``name``; :class:`~moreward.errors.ConfigError` if unknown."""
    cls = _SCHEDULERS.get(name)
    if cls is None:
        raise ConfigError(f"unknown weight scheduler {name!r}; allowed: {', '.join(available_schedulers())}")
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"weight scheduler {name!r}: {exc}") from exc


class WeightScheduler:
    """Base class. Subclasses set ``name`` and override :meth:`weights_for` and/or :meth:`observe`."""

    name: ClassVar[str] = "scheduler"

    def __init__(self, *, weights: WeightsLike = None) -> None:
        self.weights = weights_setting(weights)
        self.history: list[np.ndarray] = []

    def base(self, k: int, names: Sequence[str] | None) -> np.ndarray:
        """The configured (starting) weights as a length-K array."""
        return resolve_weights(self.weights, k, names)

    def weights_for(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        """The weights for this batch (recorded in ``history``)."""
        w = self.base(as_matrix(R).shape[1], names)
        self.history.append(w)
        return w

    def observe(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        rewards: Any,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> None:
        """See the batch's combined rewards (after combining)."""

    def __repr__(self) -> str:
        opts = {k: v for k, v in vars(self).items() if not k.startswith("_") and k != "history"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in opts.items())})"


@_register
class StaticWeights(WeightScheduler):
    """Fixed weights (the baseline)."""

    name: ClassVar[str] = "static"


def _oriented(R: Any, maximise: bool | Sequence[bool]) -> np.ndarray:
    M = as_matrix(R)
    return np.where(as_maximise(maximise, M.shape[1]), M, -M)


@_register
class VarianceWeights(WeightScheduler):
    """Weights from the spread of each objective within groups.

    ``s_k`` is, with ``mode="variance"``, the mean over groups of the within-group
    variance of objective k (DVAO: an objective whose rollouts differ carries signal);
    with ``mode="cv"``, the root of that over ``|mean_k| + eps``, a coefficient of
    variation (SAW). ``s`` is smoothed over steps with an exponential moving average
    (``momentum``), and ``w_k = K * base_k s_k^power / sum_j base_j s_j^power``
    (``power=-1`` gives inverse-variance weighting). When every ``s_k`` is 0 the base
    weights are used.
    """

    name: ClassVar[str] = "variance"

    def __init__(
        self,
        *,
        weights: WeightsLike = None,
        mode: Literal["variance", "cv"] = "variance",
        momentum: float = 0.9,
        power: float = 1.0,
        eps: float = 1e-8,
    ) -> None:
        if mode not in ("variance", "cv"):
            raise ConfigError(f"mode must be 'variance' or 'cv', got {mode!r}")
        if not 0 <= momentum < 1:
            raise ConfigError("momentum must be in [0, 1)")
        super().__init__(weights=weights)
        self.mode = mode
        self.momentum = float(momentum)
        self.power = float(power)
        self.eps = float(eps)
        self._stat: np.ndarray | None = None

    def statistic(self, R: Any, groups: GroupsLike = None, /) -> np.ndarray:
        """The per-objective statistic ``s_k`` of one batch (before smoothing)."""
        M = as_matrix(R)
        n, k = M.shape
        seg = Segments(group_codes(groups, n))
        present = ~np.isnan(M)
        cnt = seg.sum(present.astype(float))
        mean = seg.sum(np.where(present, M, 0.0)) / np.maximum(cnt, 1)
        dev = np.where(present, M - mean[seg.codes], 0.0)
        var = seg.sum(dev * dev) / np.maximum(cnt - 1, 1)
        use = cnt >= 2
        within = np.array([var[use[:, j], j].mean() if use[:, j].any() else 0.0 for j in range(k)])
        if self.mode == "variance":
            return within
        with np.errstate(invalid="ignore"):
            level = np.abs(np.nanmean(np.where(present, M, np.nan), axis=0)) if n else np.zeros(k)
        return np.sqrt(within) / (np.nan_to_num(level) + self.eps)

    def weights_for(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        s = self.statistic(R, groups)
        if self._stat is not None and self._stat.shape != s.shape:
            self._stat = None  # the objectives changed: start again
        self._stat = s if self._stat is None else self.momentum * self._stat + (1 - self.momentum) * s
        base = self.base(s.size, names)
        with np.errstate(divide="ignore"):
            raw = base * np.where(self._stat > 0, self._stat, 0.0) ** self.power
        raw = np.where(np.isfinite(raw), raw, 0.0)
        w = base if raw.sum() <= 0 else s.size * raw / raw.sum()
        self.history.append(w)
        return w


@_register
class CorrelationWeights(WeightScheduler):
    """CTWA: ``log w_k += eta * relu(target - EMA corr(r_k, A))``, then renormalised to the
    sum of the base weights.

    ``corr(r_k, A)`` is the Pearson correlation, over the batch, between objective k
    (sign-corrected to "higher is better") and the combined reward A. An objective that
    stops covarying with the training signal is not being optimised; raising its weight
    counters the interference of the others (arXiv:2602.06869). Weights start at the base.
    """

    name: ClassVar[str] = "ctwa"

    def __init__(
        self, *, weights: WeightsLike = None, eta: float = 0.1, target: float = 0.1, momentum: float = 0.9
    ) -> None:
        if eta < 0 or not 0 <= momentum < 1:
            raise ConfigError("eta must be >= 0 and momentum in [0, 1)")
        super().__init__(weights=weights)
        self.eta = float(eta)
        self.target = float(target)
        self.momentum = float(momentum)
        self._log_w: np.ndarray | None = None
        self._corr: np.ndarray | None = None

    def weights_for(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        base = self.base(as_matrix(R).shape[1], names)
        if self._log_w is not None and self._log_w.shape != base.shape:
            self._log_w = self._corr = None  # the objectives changed: start again
        if self._log_w is None:
            w = base
        else:
            w = np.exp(self._log_w)
            w = w * (base.sum() / w.sum())
        self.history.append(w)
        return w

    def observe(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        rewards: Any,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> None:
        X = _oriented(R, maximise)
        a = np.asarray(rewards, dtype=float).reshape(-1)
        k = X.shape[1]
        corr = np.zeros(k)
        for j in range(k):
            ok = ~np.isnan(X[:, j]) & ~np.isnan(a)
            x, y = X[ok, j], a[ok]
            if x.size >= 2 and x.std() > 0 and y.std() > 0:
                corr[j] = float(np.corrcoef(x, y)[0, 1])
        self._corr = corr if self._corr is None else self.momentum * self._corr + (1 - self.momentum) * corr
        if self._log_w is None:
            base = self.base(k, names)
            self._log_w = np.log(np.where(base > 0, base, 1e-12))
        self._log_w = self._log_w + self.eta * np.maximum(self.target - self._corr, 0.0)


@_register
class HypervolumeWeights(WeightScheduler):
    """Hypervolume-progress scaling (arXiv:2509.11452):
    ``w = base * (floor + gain * tanh(kappa * HVC_t))``.

    ``HVC_t`` is the hypervolume the batch's mean objective vector adds to the front of
    the means of earlier batches (against the fixed reference point ``ref``): batches
    that push the front out get a larger reward scale, stalled ones ``floor``.
    """

    name: ClassVar[str] = "hypervolume"

    def __init__(
        self,
        *,
        ref: Sequence[float],
        weights: WeightsLike = None,
        floor: float = 0.5,
        gain: float = 1.5,
        kappa: float = 1.0,
    ) -> None:
        super().__init__(weights=weights)
        self.ref = tuple(float(v) for v in ref)
        self.floor = float(floor)
        self.gain = float(gain)
        self.kappa = float(kappa)
        self._front: np.ndarray | None = None

    def weights_for(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        M = as_matrix(R)
        k = M.shape[1]
        if len(self.ref) != k:
            raise ValueError(f"ref has {len(self.ref)} values for {k} objectives")
        with np.errstate(invalid="ignore"):
            p = np.nanmean(M, axis=0) if M.shape[0] else np.full(k, np.nan)
        p = np.where(np.isnan(p), self.ref, p)
        front = np.zeros((0, k)) if self._front is None or self._front.shape[1] != k else self._front
        both = np.vstack([front, p])
        hvc = hypervolume(both, ref=self.ref, maximise=maximise) - hypervolume(
            front, ref=self.ref, maximise=maximise
        )
        self._front = both[is_nondominated(both, maximise=maximise, keep_weakly=False)]
        w = self.base(k, names) * (self.floor + self.gain * np.tanh(self.kappa * max(hvc, 0.0)))
        self.history.append(w)
        return w


@register_combiner
class Scheduled(Combiner):
    """Any weighted combiner with weights from a :class:`WeightScheduler`.

    ``Scheduled(combiner="decoupled", scheduler="ctwa", scheduler_options={"eta": 0.2})``.
    Each call asks the scheduler for this batch's weights, combines with them, and shows
    the scheduler the rewards. Stateful: keep one instance for the whole run. The
    output is that of the inner combiner.

    Args:
        combiner: the inner combiner's name (it must take ``weights``).
        scheduler: the scheduler's name (:func:`available_schedulers`).
        combiner_options, scheduler_options: their options (no ``weights`` for the
            combiner: the scheduler owns them).
    """

    name: ClassVar[str] = "scheduled"

    def __init__(
        self,
        *,
        combiner: str = "decoupled",
        scheduler: str = "variance",
        combiner_options: Mapping[str, Any] | None = None,
        scheduler_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.combiner = combiner
        self.scheduler = scheduler
        self.combiner_options = dict(combiner_options or {})
        self.scheduler_options = dict(scheduler_options or {})
        if "weights" in self.combiner_options:
            raise ConfigError("scheduled: give the weights to the scheduler (scheduler_options.weights)")
        get_combiner(combiner, weights=None, **self.combiner_options)  # fails early without `weights`
        self._scheduler = get_scheduler(scheduler, **self.scheduler_options)

    @property
    def weight_scheduler(self) -> WeightScheduler:
        """The scheduler instance, with its state and ``history``."""
        return self._scheduler

    def __call__(
        self,
        R: Any,
        groups: GroupsLike = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        M = as_matrix(R)
        if M.size == 0:  # no rollouts or no objectives: nothing to schedule
            group_codes(groups, M.shape[0])
            return np.full(M.shape[0], np.nan)
        w = self._scheduler.weights_for(M, groups, maximise=maximise, names=names)
        inner = get_combiner(self.combiner, weights=tuple(float(x) for x in w), **self.combiner_options)
        rewards = inner(M, groups, maximise=maximise, names=names)
        self._scheduler.observe(M, groups, rewards=rewards, maximise=maximise, names=names)
        return rewards
