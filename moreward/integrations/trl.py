"""TRL reward functions from a pipeline (``GRPOTrainer``, ``RLOOTrainer``).

TRL's contract (``grpo_trainer.py::_calculate_rewards``, trl 1.16): each reward
function is called with keyword arguments only::

    reward_func(prompts=..., completions=..., completion_ids=..., **reward_kwargs) -> list[float | None]

``reward_kwargs`` holds every dataset column except ``prompt``/``completion`` (one
value per completion) plus ``trainer_state``, ``log_extra(column, values)`` and
``log_metric(name, value)``. ``completions`` is ``list[str]`` or, for
conversational data, ``list[list[{"role": "assistant", "content": ...}]]``;
``completion_ids`` is ``list[list[int]]``, unpadded. The function must return
exactly ``len(prompts)`` values; ``None`` means "no reward for this sample from
this function" (NaN, dropped by TRL's ``nansum``). The metric name is the
function's ``__name__``, logged as ``rewards/{name}/mean|std``. Async callables
(``async def __call__``) are gathered concurrently on TRL's event loop. Rewards
must be picklable for ``experimental.async_grpo``.

Two ways to use a pipeline:

- :func:`reward_funcs` + :func:`reward_weights`: one reward function per objective,
  named after it, so TRL logs each objective; TRL sums them with the weights
  (``nansum``) and normalises per group. Right for ``weighted_sum`` pipelines and
  for TRL's ``multi_objective_aggregation="normalize_then_sum"`` (GDPO).
- :func:`combined_reward`: one function applying the pipeline's own combiner over
  the groups of the call (group ids from ``group_column`` or from runs of identical
  prompts). TRL calls it on each process's local slice (trl#3896), so it raises a
  clear error when a call does not hold whole groups.

An objective whose verdict is ``ERROR``/``TIMEOUT``/``SKIP`` (value ``None``)
gives ``None``, never a silent 0.

Example:
    >>> from moreward import Pipeline
    >>> from moreward.integrations.trl import reward_funcs, reward_weights
    >>> pipe = Pipeline.from_config({"objectives": {"em": {"type": "exact_match"}}})
    >>> fns = reward_funcs(pipe)
    >>> [f.__name__ for f in fns], reward_weights(pipe)
    (['em'], [1.0])
    >>> fns[0](prompts=["2+2?", "2+2?"], completions=["4", "5"], reference=["4", "4"])
    [1.0, 0.0]
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Hashable, Sequence
from typing import Any

from moreward.core import Sample, Score
from moreward.errors import InputError
from moreward.integrations._common import (
    PipelineSource,
    as_pipeline,
    check_whole_groups,
    hashable,
    prompt_groups,
)
from moreward.pareto.combiners import WeightedSum, resolve_weights
from moreward.pipeline import Pipeline

__all__ = [
    "AsyncCombinedReward",
    "AsyncObjectiveReward",
    "CombinedReward",
    "ObjectiveReward",
    "acombined_reward",
    "areward_funcs",
    "build_samples",
    "combined_reward",
    "reward_funcs",
    "reward_weights",
]

logger = logging.getLogger(__name__)

_RESERVED = frozenset({"trainer_state", "log_extra", "log_metric", "environments"})


def build_samples(
    prompts: Sequence[Any] | None,
    completions: Sequence[Any] | None,
    completion_ids: Sequence[Sequence[int]] | None = None,
    columns: dict[str, Any] | None = None,
    *,
    reference_column: str = "reference",
    group_column: str | None = None,
    group_size: int | None = None,
    where: str = "moreward",
) -> list[Sample]:
    """:class:`~moreward.core.Sample` objects from the arguments of one TRL reward call.

    Plain and conversational completions are accepted (messages are flattened by
    :meth:`Sample.from_messages`, tool calls kept in ``meta``). ``tokens`` is
    ``len(completion_ids[i])``. The reference is read from ``reference_column``;
    every per-sample dataset column goes to ``meta`` and ``trainer_state.global_step``
    to ``meta["step"]``. Group ids come from ``group_column``, else from runs of
    identical prompts (see :func:`~moreward.integrations._common.prompt_groups`).

    Raises:
        InputError: the lists disagree in length, the group column is absent, or a
            completion is neither a string nor a message list.
    """
    if completions is None:
        raise InputError(f"{where}: called without completions")
    n = len(completions)
    for label, seq in (("prompts", prompts), ("completion_ids", completion_ids)):
        if seq is not None and len(seq) != n:
            raise InputError(f"{where}: {label} has {len(seq)} entries for {n} completions")
    columns = columns or {}
    rows = {
        k: v for k, v in columns.items() if k not in _RESERVED and isinstance(v, (list, tuple)) and len(v) == n
    }
    groups: list[Hashable | None]
    if group_column is not None:
        if group_column not in rows:
            raise InputError(
                f"{where}: group column {group_column!r} is not among the per-sample columns of the call "
                f"({', '.join(sorted(rows)) or 'none'}); keep it in the dataset and remove_unused_columns=False"
            )
        groups = [hashable(v) for v in rows[group_column]]
    elif prompts is not None:
        groups = list(prompt_groups(prompts, group_size))
    else:
        groups = [None] * n
    refs = rows.get(reference_column)
    state = columns.get("trainer_state")
    step = getattr(state, "global_step", None)
    out: list[Sample] = []
    for i in range(n):
        meta = {k: v[i] for k, v in rows.items()}
        if step is not None:
            meta["step"] = step
        prompt = prompts[i] if prompts is not None else None
        if prompt is not None and not isinstance(prompt, str):
            prompt = json.dumps(prompt, sort_keys=True, default=repr)
        tokens = len(completion_ids[i]) if completion_ids is not None else None
        completion = completions[i]
        if not isinstance(completion, (str, list, tuple)):
            raise InputError(
                f"{where}: completions[{i}] must be a string or a list of messages, got {type(completion).__name__}"
            )
        out.append(
            Sample.from_messages(
                completion,
                refs[i] if refs is not None else None,
                prompt=prompt,
                group=groups[i],
                tokens=tokens,
                meta=meta,
            )
        )
    return out


def _value(score: Score) -> float | None:
    v = score.value
    return v if v is not None and math.isfinite(v) else None


class _Base:
    """What the TRL adapters share: turning a call into samples, and logging."""

    def __init__(
        self,
        pipeline: Pipeline,
        name: str,
        *,
        reference_column: str | None,
        group_column: str | None,
        group_size: int | None,
        log: bool,
    ) -> None:
        if group_size is not None and (isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1):
            raise InputError(f"group_size must be a positive int (num_generations), got {group_size!r}")
        self.pipeline = pipeline
        self.__name__ = name
        self.reference_column = reference_column or pipeline.fields.reference
        self.group_column = group_column
        self.group_size = group_size
        self.log = bool(log)
        self._warned = False

    def _samples(self, prompts: Any, completions: Any, completion_ids: Any, kwargs: dict[str, Any]) -> list[Sample]:
        if not self._warned and self.reference_column not in kwargs and completions:
            self._warned = True
            logger.warning(
                "%s: the call has no %r column, so references are None (objectives that need one will SKIP); "
                "columns present: %s",
                self.__name__,
                self.reference_column,
                ", ".join(sorted(k for k in kwargs if k not in _RESERVED)) or "none",
            )
        return build_samples(
            prompts,
            completions,
            completion_ids,
            kwargs,
            reference_column=self.reference_column,
            group_column=self.group_column,
            group_size=self.group_size,
            where=self.__name__,
        )

    def _log_scores(self, name: str, scores: Sequence[Score], kwargs: dict[str, Any]) -> None:
        if not self.log or not scores:
            return
        log_extra, log_metric = kwargs.get("log_extra"), kwargs.get("log_metric")
        if callable(log_extra):
            log_extra(f"{name}/verdict", [s.verdict.value for s in scores])
        if callable(log_metric):
            missing = sum(_value(s) is None for s in scores)
            log_metric(f"moreward/{name}/missing_frac", missing / len(scores))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.__name__!r}, pipeline={self.pipeline!r})"


class ObjectiveReward(_Base):
    """One objective of a pipeline as a TRL reward function, named after the objective.

    Returns the objective's value per completion (``None`` where it has none). The
    objective runs inside a one-objective pipeline, so an exception or a wrong-length
    answer from it becomes ``None`` for the call, not a crash and not a 0. With
    ``log=True`` the verdicts go to TRL's completions table (column
    ``{name}/verdict``) and the fraction of ``None`` to ``moreward/{name}/missing_frac``.
    """

    def __init__(
        self,
        pipeline: PipelineSource,
        name: str,
        *,
        reference_column: str | None = None,
        group_column: str | None = None,
        group_size: int | None = None,
        log: bool = True,
    ) -> None:
        pipe = as_pipeline(pipeline)
        if name not in pipe.objectives:
            raise InputError(f"unknown objective {name!r}; the pipeline has: {', '.join(pipe.names)}")
        single = Pipeline({name: pipe.objectives[name]}, combiner=WeightedSum(), fields=pipe.fields)
        super().__init__(
            single,
            name,
            reference_column=reference_column or pipe.fields.reference,
            group_column=group_column,
            group_size=group_size,
            log=log,
        )

    def __call__(
        self,
        prompts: list[Any] | None = None,
        completions: list[Any] | None = None,
        completion_ids: list[list[int]] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        samples = self._samples(prompts, completions, completion_ids, kwargs)
        scores = [r.components[self.__name__] for r in self.pipeline.score(samples)]
        self._log_scores(self.__name__, scores, kwargs)
        return [_value(s) for s in scores]


class AsyncObjectiveReward(ObjectiveReward):
    """The async twin of :class:`ObjectiveReward`: TRL (>= 0.27) gathers it with the other async rewards."""

    async def __call__(  # type: ignore[override]
        self,
        prompts: list[Any] | None = None,
        completions: list[Any] | None = None,
        completion_ids: list[list[int]] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        samples = self._samples(prompts, completions, completion_ids, kwargs)
        scores = [r.components[self.__name__] for r in await self.pipeline.ascore(samples)]
        self._log_scores(self.__name__, scores, kwargs)
        return [_value(s) for s in scores]


class CombinedReward(_Base):
    """The pipeline's combined reward as one TRL reward function.

    The combiner runs over the groups of the call: ids from ``group_column``, else
    runs of identical prompts. Every group must be whole (``group_size`` rollouts,
    or all groups of equal size when ``group_size`` is not given), otherwise
    :class:`~moreward.errors.InputError` explains how to fix the batch. With
    ``log=True`` each objective's mean value goes to ``log_metric`` as
    ``moreward/{objective}/mean`` (and its missing fraction), and its verdicts to
    the completions table. Combiners that already output advantages (group mean 0,
    unit scale, e.g. ``decoupled``, ``min_norm``) want ``GRPOConfig(scale_rewards="none")``
    so TRL does not scale them a second time.
    """

    def __init__(
        self,
        pipeline: PipelineSource,
        *,
        name: str = "moreward",
        reference_column: str | None = None,
        group_column: str | None = None,
        group_size: int | None = None,
        log: bool = True,
    ) -> None:
        pipe = as_pipeline(pipeline)
        super().__init__(
            pipe, name, reference_column=reference_column, group_column=group_column, group_size=group_size, log=log
        )

    def _prepare(self, prompts: Any, completions: Any, completion_ids: Any, kwargs: dict[str, Any]) -> list[Sample]:
        samples = self._samples(prompts, completions, completion_ids, kwargs)
        if prompts is not None or self.group_column is not None:
            check_whole_groups([s.group for s in samples], self.group_size, self.__name__)
        return samples

    def _finish(self, results: list[Any], kwargs: dict[str, Any]) -> list[float | None]:
        if self.log and results:
            log_metric = kwargs.get("log_metric")
            for name in self.pipeline.names:
                scores = [r.components[name] for r in results]
                self._log_scores(name, scores, kwargs)
                values = [v for v in map(_value, scores) if v is not None]
                if callable(log_metric) and values:
                    log_metric(f"moreward/{name}/mean", sum(values) / len(values))
        return [r.reward if r.reward is not None and math.isfinite(r.reward) else None for r in results]

    def __call__(
        self,
        prompts: list[Any] | None = None,
        completions: list[Any] | None = None,
        completion_ids: list[list[int]] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        samples = self._prepare(prompts, completions, completion_ids, kwargs)
        return self._finish(self.pipeline.score(samples), kwargs)


class AsyncCombinedReward(CombinedReward):
    """The async twin of :class:`CombinedReward`."""

    async def __call__(  # type: ignore[override]
        self,
        prompts: list[Any] | None = None,
        completions: list[Any] | None = None,
        completion_ids: list[list[int]] | None = None,
        **kwargs: Any,
    ) -> list[float | None]:
        samples = self._prepare(prompts, completions, completion_ids, kwargs)
        return self._finish(await self.pipeline.ascore(samples), kwargs)


def _warn_if_not_additive(pipe: Pipeline) -> None:
    if not isinstance(pipe.combiner, WeightedSum):
        logger.warning(
            "reward_funcs: TRL sums the per-objective rewards with reward_weights; the pipeline's combiner "
            "%r is not applied. Use combined_reward() to apply it over each group.",
            pipe.combiner,
        )


def reward_funcs(
    pipeline: PipelineSource,
    *,
    reference_column: str | None = None,
    group_column: str | None = None,
    group_size: int | None = None,
    log: bool = True,
) -> list[ObjectiveReward]:
    """One TRL reward function per objective, in the pipeline's order; pass :func:`reward_weights` along.

    Args:
        pipeline: a pipeline, or a config path/mapping.
        reference_column: the dataset column holding the reference (default: the
            pipeline's ``fields.reference``).
        group_column: a dataset column of group ids, for group-aware objectives; by
            default runs of identical prompts form the groups.
        group_size: ``num_generations``, to split repeated prompts into groups.
        log: log verdicts and missing fractions through TRL's ``log_extra``/``log_metric``.
    """
    pipe = as_pipeline(pipeline)
    _warn_if_not_additive(pipe)
    return [
        ObjectiveReward(
            pipe, n, reference_column=reference_column, group_column=group_column, group_size=group_size, log=log
        )
        for n in pipe.names
    ]


def areward_funcs(
    pipeline: PipelineSource,
    *,
    reference_column: str | None = None,
    group_column: str | None = None,
    group_size: int | None = None,
    log: bool = True,
) -> list[AsyncObjectiveReward]:
    """The async twins of :func:`reward_funcs` (same arguments)."""
    pipe = as_pipeline(pipeline)
    _warn_if_not_additive(pipe)
    return [
        AsyncObjectiveReward(
            pipe, n, reference_column=reference_column, group_column=group_column, group_size=group_size, log=log
        )
        for n in pipe.names
    ]


def reward_weights(pipeline: PipelineSource) -> list[float]:
    """``GRPOConfig.reward_weights`` matching :func:`reward_funcs`: the combiner's weights, negated for
    objectives to minimise (TRL always maximises the weighted ``nansum``); 1.0 where the combiner
    names no weight."""
    pipe = as_pipeline(pipeline)
    k = len(pipe.names)
    weights = resolve_weights(getattr(pipe.combiner, "weights", None), k, pipe.names)
    return [float(w) if m else -float(w) for w, m in zip(weights, pipe.maximise)]


def combined_reward(
    pipeline: PipelineSource,
    *,
    name: str = "moreward",
    reference_column: str | None = None,
    group_column: str | None = None,
    group_size: int | None = None,
    log: bool = True,
) -> CombinedReward:
    """The pipeline's combined reward as one TRL reward function (see :class:`CombinedReward`)."""
    return CombinedReward(
        pipeline, name=name, reference_column=reference_column, group_column=group_column, group_size=group_size, log=log
    )


def acombined_reward(
    pipeline: PipelineSource,
    *,
    name: str = "moreward",
    reference_column: str | None = None,
    group_column: str | None = None,
    group_size: int | None = None,
    log: bool = True,
) -> AsyncCombinedReward:
    """The async twin of :func:`combined_reward`."""
    return AsyncCombinedReward(
        pipeline, name=name, reference_column=reference_column, group_column=group_column, group_size=group_size, log=log
    )
