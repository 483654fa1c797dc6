"""A PrimeIntellect ``verifiers`` ``Rubric`` from a pipeline.

The classic ``verifiers`` contract (0.1.x, ``verifiers.legacy`` in 0.3.x;
``rubrics/rubric.py``): ``Rubric(funcs, weights, parser)``; reward functions
receive only the arguments they name (``prompt``, ``completion``, ``answer``,
``state``, ``info``...; everything with ``**kwargs``). A function with plural
parameters (``prompts``, ``completions``, ``states``...) is a *group* function,
called once per group of rollouts of one prompt by ``score_group``;
``score_rollout`` accepts individual functions only. ``reward = sum(w_i * f_i)``
and ``metrics = {f.__name__: value}``. An exception is logged and scores 0.0.

:func:`build_rubric` gives a rubric with one weighted reward named ``moreward``
(the pipeline's combined reward) and one weight-0 metric per objective, plus
``moreward_missing`` (how many objectives had no value). With ``group=True``
(default) the functions are group functions, so the pipeline's combiner sees
the whole group; ``group=False`` gives individual functions for
``score_rollout``. The pipeline scores once per rollout (or group); the metrics
read its result from ``state["moreward"]``.

verifiers cannot skip a sample, so when no objective gives a value the reward
follows ``on_missing``: ``"raise"`` (default) raises
:class:`~moreward.integrations.MissingRewardError`, which verifiers logs at ERROR
and scores 0.0 (its own failure path); pass a number to choose the value. A
metric with no value reads 0.0 (weight 0, never trained on; ``moreward_missing``
counts it), since a NaN metric would turn the weighted sum into NaN.

verifiers 0.4 dropped ``Rubric`` for ``Task`` methods decorated with
``@vf.reward``; there, call :func:`ascore_rollout` inside the method.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from moreward.core import Result, Sample
from moreward.errors import MissingExtraError, MorewardError
from moreward.integrations._common import (
    OnMissing,
    PipelineSource,
    as_pipeline,
    check_on_missing,
    fill_reward,
)
from moreward.pipeline import Pipeline

__all__ = ["MISSING_METRIC", "STATE_KEY", "ascore_rollout", "build_rubric", "rubric_funcs", "sample_from_rollout"]

STATE_KEY = "moreward"
MISSING_METRIC = "moreward_missing"


def sample_from_rollout(
    prompt: Any, completion: Any, answer: Any = None, info: Mapping[str, Any] | None = None, group: Any = None
) -> Sample:
    """A :class:`Sample` from a verifiers rollout: chat completions are flattened, ``info`` goes to ``meta``."""
    if prompt is not None and not isinstance(prompt, str):
        prompt = json.dumps(prompt, sort_keys=True, default=repr)
    meta = dict(info) if isinstance(info, Mapping) else {}
    return Sample.from_messages(completion if completion is not None else "", answer, prompt=prompt, group=group, meta=meta)


def _store(state: Any, result: Result) -> None:
    if isinstance(state, dict):
        state[STATE_KEY] = {"reward": result.reward, "raw": dict(result.raw)}


def _cached(state: Any) -> dict[str, Any] | None:
    if isinstance(state, dict):
        got = state.get(STATE_KEY)
        if isinstance(got, dict) and "raw" in got:
            return got
    return None


def _metric_value(cached: dict[str, Any] | None, name: str) -> float:
    if cached is None:
        raise MorewardError(f"no moreward result in the state for metric {name!r}; the reward function runs first")
    if name == MISSING_METRIC:
        return float(sum(1 for v in cached["raw"].values() if v is None or not math.isfinite(v)))
    v = cached["raw"].get(name)
    return float(v) if v is not None and math.isfinite(v) else 0.0


class _Named:
    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__name__!r})"


class RolloutReward(_Named):
    """Individual reward function: the pipeline's reward for one rollout."""

    def __init__(self, pipeline: Pipeline, on_missing: OnMissing, name: str = "moreward") -> None:
        super().__init__(name)
        self.pipeline = pipeline
        self.on_missing = on_missing

    async def __call__(self, prompt: Any = None, completion: Any = None, answer: Any = None, state: Any = None, info: Any = None, **kwargs: Any) -> float:
        result = (await self.pipeline.ascore([sample_from_rollout(prompt, completion, answer, info)]))[0]
        _store(state, result)
        return fill_reward(result, self.on_missing, self.__name__)[0]


class RolloutMetric(_Named):
    """Individual metric function: one objective's value, read from ``state["moreward"]``."""

    def __call__(self, state: Any = None, **kwargs: Any) -> float:
        return _metric_value(_cached(state), self.__name__)


class GroupReward(_Named):
    """Group reward function: the pipeline's combined reward over one group of rollouts."""

    def __init__(self, pipeline: Pipeline, on_missing: OnMissing, name: str = "moreward") -> None:
        super().__init__(name)
        self.pipeline = pipeline
        self.on_missing = on_missing

    async def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        answers: Sequence[Any] | None = None,
        states: Sequence[Any] | None = None,
        infos: Sequence[Any] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        n = len(completions)
        answers = list(answers) if answers is not None else [None] * n
        infos = list(infos) if infos is not None else [None] * n
        samples = [sample_from_rollout(prompts[i], completions[i], answers[i], infos[i], group=0) for i in range(n)]
        results = await self.pipeline.ascore(samples)
        out = []
        for i, r in enumerate(results):
            if states is not None:
                _store(states[i], r)
            out.append(fill_reward(r, self.on_missing, f"{self.__name__} rollout {i}")[0])
        return out


class GroupMetric(_Named):
    """Group metric function: one objective's values, read from each ``state["moreward"]``."""

    def __call__(self, states: Sequence[Any], **kwargs: Any) -> list[float]:
        return [_metric_value(_cached(s), self.__name__) for s in states]


def rubric_funcs(
    pipeline: PipelineSource, *, group: bool = True, on_missing: OnMissing | str = "raise", name: str = "moreward"
) -> tuple[list[Any], list[float]]:
    """The functions and weights of :func:`build_rubric`: the reward (weight 1.0) first, then the metrics (0.0)."""
    pipe = as_pipeline(pipeline)
    policy = check_on_missing(on_missing)
    reward: Any = GroupReward(pipe, policy, name) if group else RolloutReward(pipe, policy, name)
    metric_cls = GroupMetric if group else RolloutMetric
    funcs = [reward, *(metric_cls(n) for n in pipe.names), metric_cls(MISSING_METRIC)]
    return funcs, [1.0] + [0.0] * (len(funcs) - 1)


def _rubric_class() -> Any:
    try:
        import verifiers
    except ImportError as exc:
        raise MissingExtraError(
            "verifiers is not installed; install PrimeIntellect's verifiers (pip install verifiers)"
        ) from exc
    cls: Any = getattr(verifiers, "Rubric", None)
    if cls is None:
        try:
            legacy = importlib.import_module("verifiers.legacy")
            cls = getattr(legacy, "Rubric", None)
        except ImportError:
            cls = None
    if cls is None:
        raise MissingExtraError(
            f"verifiers {getattr(verifiers, '__version__', '?')} has no classic Rubric (removed in 0.4); "
            "score inside a @vf.reward Task method with moreward.integrations.verifiers_env.ascore_rollout"
        )
    return cls


def build_rubric(
    pipeline: PipelineSource,
    *,
    group: bool = True,
    on_missing: OnMissing | str = "raise",
    parser: Any = None,
    name: str = "moreward",
) -> Any:
    """A ``verifiers.Rubric`` scoring with ``pipeline`` (see the module docstring).

    Args:
        pipeline: a pipeline, or a config path/mapping.
        group: group functions (``score_group``, group-level combiners) or individual ones (``score_rollout``).
        on_missing: ``"raise"`` or the reward to give when no objective has a value.
        parser: passed to ``Rubric``.
        name: the reward function's name (its metric key).

    Raises:
        MissingExtraError: ``verifiers`` is absent, or too new to have ``Rubric``.
    """
    funcs, weights = rubric_funcs(pipeline, group=group, on_missing=on_missing, name=name)
    cls = _rubric_class()
    return cls(funcs=funcs, weights=weights, parser=parser) if parser is not None else cls(funcs=funcs, weights=weights)


async def ascore_rollout(
    pipeline: PipelineSource,
    completion: Any,
    answer: Any = None,
    *,
    prompt: Any = None,
    info: Mapping[str, Any] | None = None,
) -> Result:
    """Score one rollout (for a verifiers 0.4 ``@vf.reward`` method): the full :class:`Result`.

    Example::

        @vf.reward(weight=1.0)
        async def reward(self, trace) -> float:
            result = await ascore_rollout(PIPE, trace.messages[-1]["content"], self.data.answer)
            if result.reward is None:
                raise vf.TaskError(str(result.components))
            return result.reward
    """
    pipe = as_pipeline(pipeline)
    return (await pipe.ascore([sample_from_rollout(prompt, completion, answer, info)]))[0]
