"""Schedules over the training step, and the ``scheduled`` objective that applies one.

A schedule maps a training step (an int, read from ``Sample.meta["step"]``) to a number:

* :class:`Constant`: the same value at every step.
* :class:`LinearWarmup`: ``start`` until ``delay``, then linear to ``end`` over
  ``warmup_steps`` steps, then ``end`` (a weight or a penalty ramped in; Kimi k1.5's
  "train without the length penalty first, then add it" is ``warmup_steps=0, delay=N``).
* :class:`Piecewise`: a value per stage, switching at given steps (Vision-R1's
  progressive thinking suppression: 4K tokens, then 8K, then 16K).
* :class:`Alternating`: in every window of ``period`` steps, ``first`` for the first
  ``ratio * period`` steps and ``second`` for the rest (Parallel-R1's alternating reward:
  accuracy only for 8 steps of every 10, the parallel-thinking reward for 2).

:class:`Scheduled` (registry name ``scheduled``) wraps another objective and either
multiplies its value by the schedule (a weight) or sets one of its options from the
schedule (``param="max_tokens"`` turns ``dapo_overlong`` into staged length limits).

Example:
    >>> Piecewise(boundaries=[100, 200], values=[4096, 8192, 16384])(150)
    8192.0
    >>> [Alternating(period=10, ratio=0.8)(s) for s in (0, 7, 8, 9, 10)]
    [0.0, 0.0, 1.0, 1.0, 0.0]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ..core import BaseObjective, Sample, Score
from ..errors import ConfigError
from ..registry import register
from ._common import build_objective, check_int, check_number, read_step

__all__ = [
    "Alternating",
    "Constant",
    "LinearWarmup",
    "Piecewise",
    "Schedule",
    "Scheduled",
    "make_schedule",
]


class Schedule:
    """Base of the schedules: ``schedule(step) -> float``; picklable, comparable, with a readable repr."""

    kind: ClassVar[str] = "schedule"

    def __call__(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def values(self) -> tuple[float, ...] | None:
        """Every value the schedule can take, when that is a finite set; ``None`` otherwise."""
        return None

    def to_dict(self) -> dict[str, Any]:
        """The config mapping that :func:`make_schedule` turns back into this schedule."""
        return {"kind": self.kind, **vars(self)}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({opts})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self), repr(self)))


class Constant(Schedule):
    """``value`` at every step.

    Example:
        >>> Constant(0.5)(10**6)
        0.5
    """

    kind: ClassVar[str] = "constant"

    def __init__(self, value: float = 1.0) -> None:
        self.value = check_number("value", value)

    def __call__(self, step: int) -> float:
        return self.value

    def values(self) -> tuple[float, ...]:
        return (self.value,)


class LinearWarmup(Schedule):
    r"""``start`` until step ``delay``, then linear to ``end`` over ``warmup_steps`` steps.

    .. math::
        v(s) = \mathrm{start} + (\mathrm{end} - \mathrm{start})\cdot
        \mathrm{clip}\!\left(\frac{s - \mathrm{delay}}{\mathrm{warmup\_steps}},\ 0,\ 1\right)

    ``warmup_steps=0`` jumps from ``start`` to ``end`` at ``delay``.

    Example:
        >>> w = LinearWarmup(warmup_steps=100)
        >>> [w(s) for s in (0, 50, 100, 500)]
        [0.0, 0.5, 1.0, 1.0]
    """

    kind: ClassVar[str] = "linear_warmup"

    def __init__(self, warmup_steps: int, *, start: float = 0.0, end: float = 1.0, delay: int = 0) -> None:
        self.warmup_steps = check_int("warmup_steps", warmup_steps, minimum=0)
        self.start = check_number("start", start)
        self.end = check_number("end", end)
        self.delay = check_int("delay", delay, minimum=0)

    def __call__(self, step: int) -> float:
        if step < self.delay:
            return self.start
        if self.warmup_steps == 0 or step >= self.delay + self.warmup_steps:
            return self.end
        frac = (step - self.delay) / self.warmup_steps
        return self.start + (self.end - self.start) * frac

    def values(self) -> tuple[float, ...] | None:
        return (self.start, self.end) if self.warmup_steps <= 1 else None


class Piecewise(Schedule):
    """A value per stage: ``values[0]`` before ``boundaries[0]``, ``values[i]`` from
    ``boundaries[i-1]`` (inclusive) to ``boundaries[i]``, ``values[-1]`` from the last boundary on.

    Example (Vision-R1's staged limits: 4K for 100 steps, then 8K):
        >>> p = Piecewise(boundaries=[100], values=[4096, 8192])
        >>> [p(s) for s in (0, 99, 100)]
        [4096.0, 4096.0, 8192.0]
    """

    kind: ClassVar[str] = "piecewise"

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
        if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, Sequence):
            raise ConfigError(f"boundaries must be a list of steps, got {boundaries!r}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ConfigError(f"values must be a list of numbers, got {values!r}")
        b = [check_int(f"boundaries[{i}]", x, minimum=0) for i, x in enumerate(boundaries)]
        v = [check_number(f"values[{i}]", x) for i, x in enumerate(values)]
        if len(v) != len(b) + 1:
            raise ConfigError(f"piecewise needs one more value than boundaries: got {len(v)} values for {len(b)} boundaries")
        if any(y <= x for x, y in itertools.pairwise(b)):
            raise ConfigError(f"boundaries must be strictly increasing, got {b}")
        self.boundaries = b
        self.values_ = v

    def __call__(self, step: int) -> float:
        i = 0
        for b in self.boundaries:
            if step >= b:
                i += 1
            else:
                break
        return self.values_[i]

    def values(self) -> tuple[float, ...]:
        return tuple(self.values_)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "boundaries": list(self.boundaries), "values": list(self.values_)}

    def __repr__(self) -> str:
        return f"Piecewise(boundaries={self.boundaries!r}, values={self.values_!r})"


class Alternating(Schedule):
    """Alternating windows: within every window of ``period`` steps (counted from
    ``offset``), the first ``round(ratio * period)`` steps get ``first`` and the rest
    ``second``. Steps before ``offset`` get ``first``.

    Parallel-R1 (Zheng et al. 2025, arXiv 2509.07980) alternates, in every 10 steps,
    8 steps of accuracy-only reward and 2 of the parallel-thinking reward: the defaults.

    Example:
        >>> a = Alternating()
        >>> [a(s) for s in range(10)]
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    """

    kind: ClassVar[str] = "alternating"

    def __init__(
        self, period: int = 10, ratio: float = 0.8, *, first: float = 0.0, second: float = 1.0, offset: int = 0
    ) -> None:
        self.period = check_int("period", period, minimum=1)
        self.ratio = check_number("ratio", ratio, minimum=0, maximum=1)
        self.first = check_number("first", first)
        self.second = check_number("second", second)
        self.offset = check_int("offset", offset, minimum=0)

    @property
    def first_steps(self) -> int:
        """How many steps of each window get ``first``."""
        return math.floor(self.ratio * self.period + 0.5)

    def __call__(self, step: int) -> float:
        if step < self.offset:
            return self.first
        return self.first if (step - self.offset) % self.period < self.first_steps else self.second

    def values(self) -> tuple[float, ...]:
        return (self.first, self.second)


_KINDS: dict[str, type[Schedule]] = {c.kind: c for c in (Constant, LinearWarmup, Piecewise, Alternating)}


def make_schedule(spec: Schedule | Mapping[str, Any] | float) -> Schedule:
    """A schedule from a :class:`Schedule`, a number (a :class:`Constant`), or a config
    mapping ``{"kind": "linear_warmup", "warmup_steps": 100, ...}``.

    Raises:
        ConfigError: an unknown kind or option, naming the allowed ones.

    Example:
        >>> make_schedule({"kind": "piecewise", "boundaries": [100], "values": [4096, 8192]})
        Piecewise(boundaries=[100], values=[4096.0, 8192.0])
    """
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Constant(spec)
    if not isinstance(spec, Mapping):
        raise ConfigError(f"a schedule must be a number or a mapping with a 'kind' key, got {spec!r:.80}")
    opts = dict(spec)
    kind = opts.pop("kind", None)
    if kind not in _KINDS:
        raise ConfigError(f"schedule kind={kind!r} is not allowed; allowed: {', '.join(_KINDS)}")
    cls = _KINDS[kind]
    import inspect

    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = [k for k in opts if k not in allowed]
    if unknown:
        raise ConfigError(
            f"schedule {kind!r}: unknown option(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}"
        )
    try:
        return cls(**opts)
    except TypeError as exc:
        raise ConfigError(f"schedule {kind!r}: {exc}") from None


@register("scheduled")
class Scheduled(BaseObjective):
    """Apply a schedule over the training step to another objective.

    The step is read from ``Sample.meta[step_key]`` (``default_step`` when absent; with
    no default a sample without a step gets ``Verdict.ERROR`` and no value).

    * ``param=None``: the value is the inner value times ``schedule(step)`` (a weight);
      the verdict and reason are the inner objective's.
    * ``param="<option>"``: the inner objective is built with that option set to
      ``schedule(step)`` (integral values are passed as ints), one instance per value,
      built once and reused. ``objective`` must then be a config mapping.

    Samples of different steps in one batch are scored step by step, so a group-aware
    inner objective still sees whole groups. ``details`` add ``step`` and ``weight`` (or
    the option's name and value) to the inner details.

    Args:
        objective: the inner objective, or its config ``{"type": "kimi_length", ...}``.
        schedule: a :class:`Schedule`, a number, or ``{"kind": ..., ...}`` (see :func:`make_schedule`).
        param: the inner option the schedule sets, or ``None`` to scale the value.
        step_key: the ``meta`` key holding the training step.
        default_step: the step of samples that have none; ``None`` makes a missing step an error.

    Example:
        >>> obj = Scheduled({"type": "dapo_overlong", "buffer": 10}, {"kind": "piecewise", "boundaries": [100],
        ...                 "values": [40, 80]}, param="max_tokens")
        >>> [obj.score(Sample("", tokens=50, meta={"step": s})).value for s in (0, 100)]
        [-1.0, 0.0]
    """

    name: ClassVar[str] = "scheduled"

    def __init__(
        self,
        objective: Any,
        schedule: Any,
        *,
        param: str | None = None,
        step_key: str = "step",
        default_step: int | None = None,
    ) -> None:
        self.schedule = make_schedule(schedule)
        if param is not None and (not isinstance(param, str) or not param.isidentifier()):
            raise ConfigError(f"param must be an option name or null, got {param!r}")
        if not isinstance(step_key, str) or not step_key:
            raise ConfigError(f"step_key must be a non-empty string, got {step_key!r}")
        self.param = param
        self.step_key = step_key
        self.default_step = None if default_step is None else check_int("default_step", default_step)
        if param is None:
            self.objective = build_objective(objective, "objective")
            self._by_value: dict[Any, Any] = {}
        else:
            if not isinstance(objective, Mapping):
                raise ConfigError("with param set, objective must be a config mapping {'type': ..., ...}")
            if param in objective:
                raise ConfigError(f"objective sets {param!r} itself; the schedule sets it, remove it from the objective")
            self.objective = dict(objective)
            self._by_value = {}
            # Build every value the schedule can take now, so a bad option fails at construction.
            known = self.schedule.values()
            probes = known if known is not None else (self.schedule(0), self.schedule(2**62))
            for v in probes:
                self._inner_for(v)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(vars(self))
        if self.param is not None:
            state["_by_value"] = {}
        return state

    def _inner_for(self, value: float) -> Any:
        key = int(value) if float(value).is_integer() else value
        inner = self._by_value.get(key)
        if inner is None:
            inner = build_objective({**self.objective, self.param: key}, "objective")
            self._by_value[key] = inner
        return inner

    def score(self, sample: Sample) -> Score:
        return self.score_batch([sample])[0]

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        samples = list(samples)
        out: list[Score | None] = [None] * len(samples)
        by_step: dict[int, list[int]] = {}
        for i, s in enumerate(samples):
            step = read_step(s, self.step_key, self.default_step)
            if step is None:
                out[i] = Score.error(f"no training step: meta[{self.step_key!r}] is missing and default_step is not set")
            else:
                by_step.setdefault(step, []).append(i)
        for step, idx in by_step.items():
            value = self.schedule(step)
            part = [samples[i] for i in idx]
            if self.param is None:
                scores = self.objective.score_batch(part)
                for i, sc in zip(idx, scores):
                    v = None if sc.value is None else sc.value * value + 0.0
                    out[i] = Score(v, sc.verdict, sc.reason, {**sc.details, "step": step, "weight": value})
            else:
                inner = self._inner_for(value)
                scores = inner.score_batch(part)
                key = int(value) if float(value).is_integer() else value
                for i, sc in zip(idx, scores):
                    out[i] = Score(sc.value, sc.verdict, sc.reason, {**sc.details, "step": step, self.param: key})
        return out  # type: ignore[return-value]
