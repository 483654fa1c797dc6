"""fuzz_config: the engine of ``moreward check --fuzz CONFIG``."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from moreward import BaseObjective, ConfigError, Sample, Score, Verdict, registry
from moreward.pareto import Combiner, register_combiner
from moreward.testing import FuzzReport, fuzz_config

CONFIG = r"""
[objectives.answer]
type = "exact_match"
extract = "answer_tag"

[objectives.format]
type = "regex"
pattern = '^<think>.+</think>\s*<answer>.+</answer>$'
mode = "fullmatch"
flags = "s"

[combiner]
method = "weighted_sum"
weights = { answer = 1.0, format = 0.5 }
"""


@registry.register("testing_fuzz_wild")
class Wild(BaseObjective):
    """Infinite on long completions."""

    name: ClassVar[str] = "testing_fuzz_wild"

    def score(self, sample: Sample) -> Score:
        return Score(float("inf") if len(sample.completion) > 3 else 0.5, Verdict.PARTIAL)


@register_combiner
class Explodes(Combiner):
    """Infinite rewards."""

    name: ClassVar[str] = "testing_fuzz_explodes"

    def __call__(self, R, groups=None, /, *, maximise=True, names=None):  # type: ignore[no-untyped-def]
        return np.full(len(R), np.inf)


def test_a_sound_config_passes(tmp_path: Path) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text(CONFIG)
    report = fuzz_config(path, max_examples=10, bounds={"answer": (0, 1)})
    assert isinstance(report, FuzzReport) and report.ok and report.failed == 0
    assert set(report.objectives) == {"answer", "format"}
    text = str(report)
    lines = text.splitlines()
    assert lines[0] == f"moreward fuzz: {path} (10 examples per property, seed 0)"
    assert "answer = exact_match(extract='answer_tag'): ok (" in text
    assert "values in [0, 1] or None" in text and "values finite or None" in text
    assert (
        "ok    pipeline       weighted_sum: one result per sample, rewards finite or None, deterministic"
        in text
    )
    assert lines[-1].startswith("fuzz: all checks passed in ")


def test_failures_are_reported_not_raised() -> None:
    cfg = {
        "objectives": {"wild": {"type": "testing_fuzz_wild"}},
        "combiner": {"method": "testing_fuzz_explodes"},
    }
    report = fuzz_config(cfg, max_examples=10)
    assert not report.ok and not report.pipeline.ok
    assert [r.name for r in report.objectives["wild"].failures] == ["bounds"]
    assert (
        report.pipeline.message
        == "testing_fuzz_explodes: sample 0: reward inf is not finite (raw {'wild': 0.5})"
    )
    assert len(report.pipeline.example) == 1  # shrunk to the smallest batch
    assert str(report).splitlines()[-1].startswith("fuzz: 2 of 7 checks failed in ")
    assert str(report).splitlines()[0] == "moreward fuzz: config (10 examples per property, seed 0)"


def test_bad_input() -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read the config"):
        fuzz_config("nope.toml")
    with pytest.raises(ValueError, match=r"bounds name unknown objective\(s\) \['nope'\]"):
        fuzz_config({"objectives": {"em": {"type": "exact_match"}}}, bounds={"nope": (0, 1)})
