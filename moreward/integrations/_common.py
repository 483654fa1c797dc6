"""Helpers shared by the trainer integrations and the reward server.

- Pipelines built from a config path or mapping are cached per process, so a
  trainer that calls a module-level reward function once per sample (verl,
  OpenRLHF) builds its pipeline once.
- Group ids: from a named column or from runs of identical prompts, with the
  whole-group check that group-level combiners need.
- The *missing reward* policy. TRL can skip a sample (``None``); verl, OpenRLHF
  and verifiers cannot, so ``on_missing`` decides what they get when no
  objective produced a value (every objective ``ERROR``/``TIMEOUT``/``SKIP``):
  ``"raise"`` (the default) raises :class:`MissingRewardError`, which names each
  objective's verdict and reason, or a float chosen by the user, reported
  alongside as ``moreward_valid = 0``. A missing reward is never a silent 0.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from moreward.core import Result
from moreward.errors import ConfigError, InputError, MorewardError
from moreward.pipeline import Pipeline

__all__ = [
    "VALID_KEY",
    "MissingRewardError",
    "OnMissing",
    "PipelineSource",
    "as_pipeline",
    "check_on_missing",
    "check_whole_groups",
    "component_floats",
    "describe",
    "fill_reward",
    "hashable",
    "prompt_groups",
]

OnMissing = Literal["raise"] | float
PipelineSource = Pipeline | str | Path | Mapping[str, Any]

VALID_KEY = "moreward_valid"
"""Key reported next to the components: 1.0 when the pipeline gave a reward, 0.0 when ``on_missing`` filled it."""


class MissingRewardError(MorewardError, RuntimeError):
    """No objective produced a value for a sample and the integration cannot express "skip".

    Raised under ``on_missing="raise"``; the message names each objective's verdict
    and reason so the failing verifier or its infrastructure can be found.
    """


_cache: dict[str, Pipeline] = {}
_cache_lock = threading.Lock()


def _cache_key(source: str | Path | Mapping[str, Any]) -> str:
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        try:
            stat = path.stat()
            return f"path:{path.resolve()}:{stat.st_mtime_ns}:{stat.st_size}"
        except OSError:
            return f"path:{path}"
    return "mapping:" + json.dumps(_plain(source), sort_keys=True, default=repr)


def _plain(obj: Any) -> Any:
    """Mappings and sequences (including OmegaConf containers) as plain dicts and lists."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) or (isinstance(obj, Sequence) and not isinstance(obj, (str, bytes))):
        return [_plain(v) for v in obj]
    return obj


def as_pipeline(source: PipelineSource) -> Pipeline:
    """A :class:`~moreward.pipeline.Pipeline` as is, or one built (once per process) from a config.

    Args:
        source: a pipeline, a config path (TOML/YAML/JSON) or a config mapping.

    Raises:
        ConfigError: the config is invalid; the message names the file and the key.
    """
    if isinstance(source, Pipeline):
        return source
    if not isinstance(source, (str, Path, Mapping)):
        raise ConfigError(f"expected a Pipeline, a config path or a config mapping, got {type(source).__name__}")
    key = _cache_key(source)
    with _cache_lock:
        pipe = _cache.get(key)
        if pipe is None:
            pipe = Pipeline.from_config(source if isinstance(source, (str, Path)) else _plain(source))
            _cache[key] = pipe
        return pipe


def check_on_missing(value: Any) -> OnMissing:
    """Validate an ``on_missing`` setting: ``"raise"`` or a finite number (a numeric string is accepted).

    Raises:
        ConfigError: any other value.
    """
    if isinstance(value, str):
        if value == "raise":
            return "raise"
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"on_missing must be 'raise' or a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"on_missing must be 'raise' or a finite number, got {value!r}")
    return float(value)


def describe(result: Result) -> str:
    """Each objective's verdict and reason, for error messages."""
    return "; ".join(f"{n}: {s.verdict.value}" + (f" ({s.reason})" if s.reason else "") for n, s in result.components.items())


def fill_reward(result: Result, on_missing: OnMissing, where: str) -> tuple[float, bool]:
    """The reward of ``result`` and whether it came from the pipeline (``True``) or from ``on_missing``.

    Raises:
        MissingRewardError: the reward is missing and ``on_missing == "raise"``.
    """
    reward = result.reward
    if reward is not None and math.isfinite(reward):
        return float(reward), True
    if on_missing == "raise":
        raise MissingRewardError(
            f"{where}: no objective gave a value, so there is no reward ({describe(result)}); "
            "pass on_missing=<float> to train on a fixed value instead"
        )
    return float(on_missing), False


def component_floats(result: Result | None, names: Sequence[str]) -> dict[str, float]:
    """``{name: value}`` for every name, ``NaN`` where the value is missing or the objective is absent."""
    out: dict[str, float] = {}
    for n in names:
        value = result.raw.get(n) if result is not None else None
        out[n] = float(value) if value is not None and math.isfinite(value) else math.nan
    return out


def hashable(value: Any) -> Hashable:
    """A group id from a column value: lists and dicts become their canonical JSON text."""
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, sort_keys=True, default=repr)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value  # type: ignore[no-any-return]


def prompt_groups(prompts: Sequence[Any], group_size: int | None = None) -> list[Hashable]:
    """Group ids from runs of identical consecutive prompts (TRL's sampler repeats a prompt contiguously).

    With ``group_size``, a run longer than ``group_size`` is cut into consecutive groups of
    that size, so a prompt that appears twice in a batch gives two groups.

    Raises:
        InputError: with ``group_size``, a run's length is not a multiple of it.
    """
    ids: list[Hashable] = []
    gid = -1
    prev: Any = object()
    run = 0
    for p in prompts:
        key = hashable(p)
        if key != prev or (group_size is not None and run == group_size):
            gid += 1
            run = 0
        prev = key
        run += 1
        ids.append(gid)
    return ids


def check_whole_groups(groups: Sequence[Hashable], group_size: int | None, where: str) -> None:
    """Raise unless every group of this call is whole.

    With ``group_size`` every group must hold exactly that many rollouts; without it,
    every group must hold the same number (which catches most split groups).

    Raises:
        InputError: naming the first incomplete group and how to fix the call.
    """
    counts = Counter(groups)
    if not counts:
        return
    hint = (
        "a group-level combiner needs every rollout of a group in one call. TRL scores each process's "
        "local slice (trl#3896): make per_device_train_batch_size a multiple of num_generations, or use "
        "reward_funcs() and let TRL sum the objectives"
    )
    if group_size is not None:
        for g, c in counts.items():
            if c != group_size:
                raise InputError(f"{where}: group {g!r} has {c} rollout(s) in this call, expected {group_size}; {hint}")
        return
    sizes = sorted(set(counts.values()))
    if len(sizes) > 1:
        g, c = min(counts.items(), key=lambda kv: kv[1])
        raise InputError(
            f"{where}: groups of unequal size in one call (sizes {sizes}; group {g!r} has {c}); {hint}. "
            "Pass group_size=num_generations to check exactly"
        )
