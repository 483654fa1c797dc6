"""verl reward functions from a pipeline (verl 0.9 "reward loop" and the legacy managers).

Register in the verl config (``pkg://`` imports the module normally; a file path
also works because this module uses absolute imports)::

    reward:
      custom_reward_function:
        path: pkg://moreward.integrations.verl
        name: compute_score              # or compute_score_async / compute_score_batch
        reward_kwargs:
          config: /path/to/pipeline.toml # or routes: {"openai/gsm8k": math.toml, "code*": code.toml, "*": default.toml}
          on_missing: raise              # or a number

verl's contract (``trainer/ppo/reward.py::get_custom_reward_fn`` and
``experimental/reward_loop/reward_manager/naive.py``): the function is called with
keywords ``data_source``, ``solution_str`` (the decoded response,
``skip_special_tokens=True``), ``ground_truth`` (``reward_model.ground_truth``),
``extra_info`` (the row's ``extra_info`` plus ``num_turns``,
``rollout_reward_scores``...) and the ``reward_kwargs``; a sync function runs in a
worker thread (``run_in_executor``), an ``async def`` is awaited. It returns a float
or a dict with ``score``; the other keys become ``reward_extra_info``, and the keys
of the first sample are used for all, so every sample must return the same keys
(verl#1031). The ``batch`` manager calls ``compute_score(data_sources=,
solution_strs=, ground_truths=, extra_infos=, **reward_kwargs) -> list``.

What comes back: ``{"score": reward, <every objective of every route>: value,
"moreward_valid": 1.0}``. A component that has no value, or that the sample's
route does not compute, is ``NaN`` (logged as missing, never as 0). When no
objective gives a value there is no reward: ``on_missing="raise"`` (default)
raises :class:`~moreward.integrations.MissingRewardError`, which verl's naive
manager propagates (the step fails loudly, naming the verdicts); a number
``on_missing=x`` gives ``score = x`` and ``moreward_valid = 0.0``.

Routing by ``data_source`` (as verl's ``default_compute_score`` and per-domain
reward schemes such as LongCat's do): ``routes`` maps a ``data_source`` (exact
name first, then ``fnmatch`` patterns in the order given, ``"*"`` last) to a
config; ``config`` alone is the route for every source. An unrouted source is a
:class:`~moreward.errors.ConfigError`.

Group-level combiners need the rollouts of a group together: use
:func:`compute_score_batch` (the ``batch`` manager), which groups by
``extra_info[group_key]`` (default ``"index"``, the prompt's row index in verl's
data recipes). :func:`compute_score` scores one sample at a time.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from moreward.core import Sample
from moreward.errors import ConfigError
from moreward.integrations._common import (
    VALID_KEY,
    OnMissing,
    _cache_key,
    _plain,
    as_pipeline,
    check_on_missing,
    component_floats,
    fill_reward,
    hashable,
)
from moreward.pareto.combiners import WeightedSum
from moreward.pipeline import Pipeline

__all__ = ["Router", "compute_score", "compute_score_async", "compute_score_batch", "get_router"]

logger = logging.getLogger(__name__)


class Router:
    """``data_source`` -> pipeline, with the fixed set of component keys every sample reports.

    Args:
        config: the pipeline (or config path/mapping) for every source not in ``routes``.
        routes: ``data_source`` or ``fnmatch`` pattern -> pipeline or config.
    """

    def __init__(self, config: Any = None, routes: Mapping[str, Any] | None = None) -> None:
        table: dict[str, Pipeline] = {}
        for pattern, source in (routes or {}).items():
            table[str(pattern)] = as_pipeline(source)
        if config is not None:
            table.setdefault("*", as_pipeline(config))
        if not table:
            raise ConfigError(
                "moreward verl: no pipeline configured; set reward.custom_reward_function.reward_kwargs.config "
                "(a config path) or reward_kwargs.routes ({data_source: config})"
            )
        self.routes = table
        names: list[str] = []
        for pipe in table.values():
            names.extend(n for n in pipe.names if n not in names)
        if "score" in names or VALID_KEY in names:
            raise ConfigError(f"objective names 'score' and {VALID_KEY!r} are reserved in verl's reward_extra_info")
        self.keys = names
        self._memo: dict[str, Pipeline] = {}

    def pipeline_for(self, data_source: Any) -> Pipeline:
        """The pipeline for ``data_source``.

        Raises:
            ConfigError: no route matches; the message lists the routes.
        """
        source = str(data_source)
        hit = self._memo.get(source)
        if hit is not None:
            return hit
        pipe = self.routes.get(source)
        if pipe is None:
            for pattern, candidate in self.routes.items():
                if pattern != "*" and fnmatch.fnmatchcase(source, pattern):
                    pipe = candidate
                    break
        if pipe is None:
            pipe = self.routes.get("*")
        if pipe is None:
            raise ConfigError(
                f"moreward verl: no route for data_source {source!r}; routes: {', '.join(map(repr, self.routes))} "
                "(add a '*' route or a config for the rest)"
            )
        self._memo[source] = pipe
        return pipe

    def output(self, result: Any, on_missing: OnMissing, where: str) -> dict[str, float]:
        """verl's dict for one result: ``score``, every component key, ``moreward_valid``."""
        score, valid = fill_reward(result, on_missing, where)
        out = {"score": score}
        out.update(component_floats(result, self.keys))
        out[VALID_KEY] = 1.0 if valid else 0.0
        return out


_routers: dict[str, Router] = {}
_routers_lock = threading.Lock()
_warned_per_sample = False


def _key(obj: Any) -> str:
    if obj is None:
        return "none"
    if isinstance(obj, Pipeline):
        return f"pipeline:{id(obj)}"
    if isinstance(obj, Mapping) and "objectives" not in obj:  # a routes table
        return json.dumps({str(k): _key(v) for k, v in obj.items()}, sort_keys=True)
    if isinstance(obj, Mapping):
        return json.dumps(_plain(obj), sort_keys=True, default=repr)
    return _cache_key(obj)


def get_router(config: Any = None, routes: Mapping[str, Any] | None = None) -> Router:
    """The :class:`Router` for these settings, built once per process (verl calls per sample)."""
    key = _key(config) + "|" + _key(routes)
    with _routers_lock:
        router = _routers.get(key)
        if router is None:
            router = _routers[key] = Router(config, routes)
        return router


def _sample(data_source: Any, solution_str: Any, ground_truth: Any, extra_info: Any, group_key: str | None) -> Sample:
    info = dict(extra_info) if isinstance(extra_info, Mapping) else {}
    meta = {**info, "data_source": data_source}
    prompt = info.get("prompt", info.get("question"))
    if prompt is not None and not isinstance(prompt, str):
        prompt = json.dumps(prompt, sort_keys=True, default=repr)
    group = hashable(info[group_key]) if group_key is not None and info.get(group_key) is not None else None
    text = solution_str if isinstance(solution_str, str) else str(solution_str)
    tokens = info.get("response_length")
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        tokens = None
    return Sample(text, reference=ground_truth, prompt=prompt, group=group, tokens=tokens, meta=meta)


def _warn_per_sample(router: Router) -> None:
    global _warned_per_sample
    if _warned_per_sample:
        return
    grouped = [p for p in router.routes.values() if not isinstance(p.combiner, WeightedSum)]
    if grouped:
        _warned_per_sample = True
        logger.warning(
            "moreward verl: compute_score scores one sample at a time, so the group-level combiner %r sees "
            "groups of one; use compute_score_batch with the batch reward manager",
            grouped[0].combiner,
        )


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    *,
    config: Any = None,
    routes: Mapping[str, Any] | None = None,
    on_missing: OnMissing | str = "raise",
    **kwargs: Any,
) -> dict[str, float]:
    """verl's per-sample ``compute_score``: ``{"score", <components>, "moreward_valid"}``.

    Args:
        data_source: the row's ``data_source``; selects the route.
        solution_str: the decoded response.
        ground_truth: ``reward_model.ground_truth``, the sample's reference.
        extra_info: the row's ``extra_info``; goes to ``Sample.meta`` (``prompt`` or
            ``question`` becomes ``Sample.prompt``, an int ``response_length`` the token count).
        config: the pipeline config (path or mapping) for every source (from ``reward_kwargs``).
        routes: ``data_source`` pattern -> config (from ``reward_kwargs``).
        on_missing: ``"raise"`` or the score to give when no objective has a value.
        **kwargs: other keywords verl passes (``reward_router_address``, ...) are ignored.

    Raises:
        MissingRewardError: no objective gave a value and ``on_missing="raise"``.
        ConfigError: bad config, no route for ``data_source``, or a bad ``on_missing``.
    """
    router = get_router(config, routes)
    _warn_per_sample(router)
    policy = check_on_missing(on_missing)
    pipe = router.pipeline_for(data_source)
    result = pipe.score([_sample(data_source, solution_str, ground_truth, extra_info, None)])[0]
    return router.output(result, policy, f"data_source={data_source!r}")


async def compute_score_async(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    *,
    config: Any = None,
    routes: Mapping[str, Any] | None = None,
    on_missing: OnMissing | str = "raise",
    **kwargs: Any,
) -> dict[str, float]:
    """The ``async def`` twin of :func:`compute_score`, awaited directly by verl's reward loop."""
    router = get_router(config, routes)
    _warn_per_sample(router)
    policy = check_on_missing(on_missing)
    pipe = router.pipeline_for(data_source)
    result = (await pipe.ascore([_sample(data_source, solution_str, ground_truth, extra_info, None)]))[0]
    return router.output(result, policy, f"data_source={data_source!r}")


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Mapping[str, Any] | None] | None = None,
    *,
    config: Any = None,
    routes: Mapping[str, Any] | None = None,
    on_missing: OnMissing | str = "raise",
    group_key: str | None = "index",
    **kwargs: Any,
) -> list[dict[str, float]]:
    """verl's ``batch`` manager function: one dict per sample, in order.

    Samples are scored together per route, so group-level combiners see whole groups
    (ids from ``extra_info[group_key]``; a sample without one is a group of its own).

    Raises:
        MissingRewardError: a sample has no reward and ``on_missing="raise"``.
        ValueError: the argument lists differ in length.
    """
    n = len(solution_strs)
    infos: Sequence[Any] = extra_infos if extra_infos is not None else [None] * n
    if not (len(data_sources) == len(ground_truths) == len(infos) == n):
        raise ValueError(
            f"compute_score_batch: {len(data_sources)} data_sources, {n} solution_strs, "
            f"{len(ground_truths)} ground_truths and {len(infos)} extra_infos"
        )
    router = get_router(config, routes)
    policy = check_on_missing(on_missing)
    by_route: dict[int, tuple[Pipeline, list[int]]] = {}
    for i, ds in enumerate(data_sources):
        pipe = router.pipeline_for(ds)
        by_route.setdefault(id(pipe), (pipe, []))[1].append(i)
    out: list[dict[str, float] | None] = [None] * n
    for pipe, idx in by_route.values():
        samples = [_sample(data_sources[i], solution_strs[i], ground_truths[i], infos[i], group_key) for i in idx]
        for i, result in zip(idx, pipe.score(samples)):
            out[i] = router.output(result, policy, f"sample {i} (data_source={data_sources[i]!r})")
    assert all(o is not None for o in out)
    return out  # type: ignore[return-value]
