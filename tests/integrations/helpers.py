"""Objectives and combiners shared by the integration tests (module level, so they pickle)."""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

import numpy as np

from moreward import BaseObjective, Pipeline, Sample, Score
from moreward.pareto.combiners import Combiner, WeightedSum, group_codes
from moreward.verifiers.text import ExactMatch, RegexMatch


class TokenLength(BaseObjective):
    """``tokens / scale``; SKIP when the token count is unknown."""

    name: ClassVar[str] = "token_length"

    def __init__(self, scale: float = 8.0) -> None:
        self.scale = scale

    def score(self, sample: Sample) -> Score:
        if sample.tokens is None:
            return Score.skip("no token count")
        return Score(sample.tokens / self.scale, "partial", "tokens / scale")


class Broken(BaseObjective):
    """Always an infrastructure failure (``ERROR``, no value)."""

    name: ClassVar[str] = "broken"

    def score(self, sample: Sample) -> Score:
        raise RuntimeError("backend down")


class SlowOn(BaseObjective):
    """Sleeps ``delay`` seconds when the completion contains ``marker``; 1.0 otherwise instantly."""

    name: ClassVar[str] = "slow_on"

    def __init__(self, marker: str = "SLOW", delay: float = 1.0) -> None:
        self.marker = marker
        self.delay = delay

    def score(self, sample: Sample) -> Score:
        if self.marker in sample.completion:
            time.sleep(self.delay)
        return Score.from_bool(True, "done")


class GroupMeanCentered(Combiner):
    """Sum of the objectives minus its group mean (a group-level combiner for the tests)."""

    name: ClassVar[str] = "group_mean_centered_test"

    def __call__(
        self,
        R: Any,
        groups: Sequence[Hashable] | np.ndarray | None = None,
        /,
        *,
        maximise: bool | Sequence[bool] = True,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        M = np.asarray(R, dtype=float)
        total = np.where(np.isnan(M), 0.0, M).sum(axis=1)
        total[np.isnan(M).all(axis=1)] = np.nan
        codes = group_codes(groups, len(total))
        out = np.full(len(total), np.nan)
        for g in np.unique(codes):
            idx = codes == g
            vals = total[idx]
            if np.isnan(vals).all():
                continue
            out[idx] = vals - np.nanmean(vals)
        return out


def em_regex_pipeline(**kwargs: Any) -> Pipeline:
    """``em`` (exact match against the reference) and ``fmt`` (an ``<answer>`` tag present)."""
    if kwargs.get("combiner") is None:
        kwargs["combiner"] = WeightedSum()
    return Pipeline({"em": ExactMatch(extract="answer_tag"), "fmt": RegexMatch(r"<answer>.*</answer>", flags="s")}, **kwargs)


def pipeline(objectives: dict[str, Any], **kwargs: Any) -> Pipeline:
    """A pipeline with an explicit weighted_sum combiner unless another is given."""
    kwargs.setdefault("combiner", WeightedSum())
    return Pipeline(objectives, **kwargs)


CONFIG_TOML = """
[objectives.em]
type = "exact_match"
extract = "answer_tag"

[objectives.fmt]
type = "regex"
pattern = "<answer>.*</answer>"
flags = "s"

[combiner]
method = "weighted_sum"
weights = { em = 1.0, fmt = 0.5 }
"""
