"""The pipeline: objectives -> reward matrix -> combiner -> one :class:`~moreward.core.Result` per sample.

Example:
    >>> from moreward import Pipeline, Sample
    >>> p = Pipeline.from_config({"objectives": {"em": {"type": "exact_match"}}})
    >>> [r.reward for r in p.score([Sample("Paris", reference="paris"), Sample("Rome", reference="paris")])]
    [1.0, 0.0]

Failure containment: an objective whose ``score_batch`` raises, or returns the wrong
number of scores, gives ``Verdict.ERROR`` (value ``None``) for that objective on
every sample of the call. Training never stops on it and never reads it as a 0.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from . import registry
from .config import FieldsConfig, PipelineConfig, load_config
from .core import BaseObjective, Objective, Result, Sample, Score
from .errors import ConfigError
from .pareto import DEFAULT_COMBINER, Combiner, get_combiner

__all__ = ["Pipeline", "Routed"]

DirectionLike = Literal["max", "min"] | bool


class _Ungrouped:
    """A group id of its own for a sample that has none, so it is never pooled with others."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"<ungrouped {self.index}>"


class Routed(BaseObjective):
    """Applies ``objective`` only to samples whose ``meta["data_source"]`` is in ``data_sources``;
    the others get ``SKIP`` (no value), so a mixed math/code/format batch is scored per domain,
    as verl's ``data_source`` routing and LongCat's per-domain rewards do."""

    def __init__(self, objective: Objective, data_sources: Sequence[str]) -> None:
        self.objective = objective
        self.data_sources = tuple(data_sources)
        self.name = getattr(objective, "name", type(objective).__name__)  # type: ignore[misc]

    def _applies(self, sample: Sample) -> bool:
        return sample.meta.get("data_source") in self.data_sources

    def score(self, sample: Sample) -> Score:
        return self.score_batch([sample])[0]

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        picked = [i for i, s in enumerate(samples) if self._applies(s)]
        out: list[Score | None] = [None] * len(samples)
        if picked:
            scores = _checked(self.name, self.objective, [samples[i] for i in picked])
            for i, sc in zip(picked, scores):
                out[i] = sc
        for i, s in enumerate(samples):
            if out[i] is None:
                out[i] = Score.skip(f"data_source {s.meta.get('data_source')!r} is not one of {list(self.data_sources)}")
        return out  # type: ignore[return-value]


class Pipeline:
    """Score samples on several objectives and combine them into one reward each.

    Args:
        objectives: objective name -> objective (anything with ``score_batch`` /
            ``ascore_batch``, usually a :class:`~moreward.core.BaseObjective`).
        combiner: a combiner name (see :func:`moreward.pareto.available_combiners`)
            or a :class:`~moreward.pareto.Combiner` instance.
        directions: objective name -> ``"max"`` / ``"min"`` (or ``True`` to maximise);
            objectives not named are maximised.
        fields: the JSONL field mapping used by :meth:`sample_from_row`.

    Samples are grouped by ``Sample.group``; a sample whose group is ``None`` is a
    group of its own (group-normalising combiners then give it no advantage).
    """

    def __init__(
        self,
        objectives: Mapping[str, Objective],
        *,
        combiner: str | Combiner = DEFAULT_COMBINER,
        directions: Mapping[str, DirectionLike] | None = None,
        fields: FieldsConfig | None = None,
    ) -> None:
        if not objectives:
            raise ConfigError("a pipeline needs at least one objective")
        for name, obj in objectives.items():
            if not callable(getattr(obj, "score_batch", None)):
                raise ConfigError(f"objective {name!r} has no score_batch method: {obj!r:.80}")
        self.objectives: dict[str, Objective] = dict(objectives)
        self.combiner: Combiner = get_combiner(combiner) if isinstance(combiner, str) else combiner
        directions = dict(directions or {})
        unknown = sorted(set(directions) - set(self.objectives))
        if unknown:
            raise ConfigError(f"directions name unknown objective(s) {unknown}; objectives: {list(self.objectives)}")
        self.maximise: tuple[bool, ...] = tuple(_is_max(directions.get(n, "max"), n) for n in self.objectives)
        self.fields = fields or FieldsConfig()
        self.config: PipelineConfig | None = None

    @property
    def names(self) -> list[str]:
        """Objective names, in column order of the reward matrix."""
        return list(self.objectives)

    @classmethod
    def from_config(cls, source: str | Path | Mapping[str, Any] | PipelineConfig) -> Pipeline:
        """Build a pipeline from a config file (TOML/YAML/JSON), a mapping, or a :class:`PipelineConfig`.

        Raises:
            ConfigError: naming the file, the key and the allowed values.
        """
        where = str(source) if isinstance(source, (str, Path)) else "config"
        cfg = load_config(source)
        objectives: dict[str, Objective] = {}
        for name, ocfg in cfg.objectives.items():
            try:
                obj = registry.get(ocfg.type, **ocfg.options)
            except ConfigError as exc:
                raise type(exc)(f"{where}: objectives.{name}: {exc}") from None
            objectives[name] = obj if ocfg.data_sources is None else cast(Objective, Routed(obj, ocfg.data_sources))
        try:
            combiner = get_combiner(cfg.combiner.method, **cfg.combiner.options)
        except (ConfigError, ValueError) as exc:
            raise ConfigError(f"{where}: combiner: {exc}") from None
        pipe = cls(
            objectives,
            combiner=combiner,
            directions={n: o.direction for n, o in cfg.objectives.items()},
            fields=cfg.fields,
        )
        pipe.config = cfg
        return pipe

    def sample_from_row(self, row: Mapping[str, Any]) -> Sample:
        """A :class:`Sample` from one input row, through the pipeline's field mapping."""
        return self.fields.to_sample(row)  # type: ignore[no-any-return]

    # -- scoring ---------------------------------------------------------------------------

    def score(self, samples: Sequence[Sample]) -> list[Result]:
        """Score ``samples`` on every objective and combine; one :class:`Result` per sample, in order."""
        samples = list(samples)
        columns = {name: _checked(name, obj, samples) for name, obj in self.objectives.items()}
        return self._combine(samples, columns)

    async def ascore(self, samples: Sequence[Sample]) -> list[Result]:
        """Async :meth:`score`: the objectives run concurrently."""
        samples = list(samples)
        names = list(self.objectives)
        outs = await asyncio.gather(
            *(_achecked(n, self.objectives[n], samples) for n in names)
        )
        return self._combine(samples, dict(zip(names, outs)))

    def matrix(self, columns: Mapping[str, Sequence[Score]]) -> np.ndarray:
        """The (N, K) reward matrix of the scores, ``NaN`` where a value is missing."""
        names = self.names
        n = len(next(iter(columns.values()))) if columns else 0
        out = np.full((n, len(names)), np.nan)
        for j, name in enumerate(names):
            for i, s in enumerate(columns[name]):
                if s.value is not None and math.isfinite(s.value):
                    out[i, j] = s.value
        return out

    def _combine(self, samples: list[Sample], columns: dict[str, list[Score]]) -> list[Result]:
        if not samples:
            return []
        R = self.matrix(columns)
        groups: list[Hashable] = [s.group if s.group is not None else _Ungrouped(i) for i, s in enumerate(samples)]
        rewards = np.asarray(self.combiner(R, groups, maximise=self.maximise, names=self.names), dtype=float)
        if rewards.shape != (len(samples),):
            raise RuntimeError(f"combiner {self.combiner!r} returned shape {rewards.shape} for {len(samples)} samples")
        names = self.names
        return [
            Result(
                reward=None if math.isnan(rewards[i]) else float(rewards[i]),
                components={n: columns[n][i] for n in names},
                raw={n: columns[n][i].value for n in names},
            )
            for i in range(len(samples))
        ]

    def __repr__(self) -> str:
        return f"Pipeline(objectives={self.names}, combiner={self.combiner!r})"


def _is_max(direction: DirectionLike, name: str) -> bool:
    if isinstance(direction, bool):
        return direction
    if direction in ("max", "min"):
        return direction == "max"
    raise ConfigError(f"direction of {name!r} must be 'max' or 'min', got {direction!r}")


def _fix_length(name: str, scores: Any, n: int) -> list[Score]:
    scores = list(scores) if scores is not None else []
    if len(scores) != n or not all(isinstance(s, Score) for s in scores):
        bad = f"returned {len(scores)} scores for {n} samples" if len(scores) != n else "returned a non-Score"
        return [Score.error(f"objective {name!r} {bad}")] * n
    return scores


def _checked(name: str, obj: Objective, samples: list[Sample]) -> list[Score]:
    try:
        scores = obj.score_batch(samples)
    except Exception as exc:
        return [Score.error(f"objective {name!r} raised {type(exc).__name__}: {exc}")] * len(samples)
    return _fix_length(name, scores, len(samples))


async def _achecked(name: str, obj: Objective, samples: list[Sample]) -> list[Score]:
    try:
        if callable(getattr(obj, "ascore_batch", None)):
            scores = await obj.ascore_batch(samples)
        else:
            scores = await asyncio.to_thread(obj.score_batch, samples)
    except Exception as exc:
        return [Score.error(f"objective {name!r} raised {type(exc).__name__}: {exc}")] * len(samples)
    return _fix_length(name, scores, len(samples))
