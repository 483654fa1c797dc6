"""Pipeline: end-to-end scoring, combination, directions, failure containment, async."""

from __future__ import annotations

import asyncio
import math
import pickle

import numpy as np
import pytest

from moreward import BaseObjective, ConfigError, Pipeline, Sample, Score, Verdict
from moreward.pareto import WeightedSum
from moreward.verifiers.text import ExactMatch, RegexMatch


class Length(BaseObjective):
    name = "length"

    def score(self, sample: Sample) -> Score:
        return Score(float(len(sample.completion)), Verdict.PARTIAL, "characters")


class Raises(BaseObjective):
    name = "raises"

    def score_batch(self, samples):
        raise RuntimeError("backend down")


class WrongLength(BaseObjective):
    name = "wrong_length"

    def score_batch(self, samples):
        return [Score.from_bool(True)]


class SkipsOdd(BaseObjective):
    name = "skips_odd"

    def score(self, sample: Sample) -> Score:
        return Score.skip("odd") if len(sample.completion) % 2 else Score.from_bool(True)


SAMPLES = [
    Sample("<answer>4</answer>", reference="4", group="q1"),
    Sample("<answer>5</answer>", reference="4", group="q1"),
    Sample("no tags", reference="4", group="q2"),
]


def test_end_to_end_from_config():
    pipe = Pipeline.from_config(
        {
            "objectives": {
                "acc": {"type": "exact_match", "extract": "answer_tag"},
                "fmt": {"type": "regex", "pattern": r"^<answer>.*</answer>$", "mode": "fullmatch"},
            },
            "combiner": {"method": "weighted_sum", "weights": {"acc": 1.0, "fmt": 0.5}},
        }
    )
    results = pipe.score(SAMPLES)
    assert [r.reward for r in results] == [1.5, 0.5, 0.0]
    assert results[0].raw == {"acc": 1.0, "fmt": 1.0}
    assert results[2].components["acc"].verdict is Verdict.INVALID
    assert pipe.score([]) == []


def test_directions_minimise():
    pipe = Pipeline({"em": ExactMatch(), "len": Length()}, combiner=WeightedSum(weights={"len": 0.1}), directions={"len": "min"})
    r = pipe.score([Sample("ab", reference="ab"), Sample("abcd", reference="ab")])
    assert r[0].reward == pytest.approx(1.0 - 0.2)
    assert r[1].reward == pytest.approx(-0.4)
    with pytest.raises(ConfigError, match="unknown objective"):
        Pipeline({"em": ExactMatch()}, directions={"nope": "min"})
    with pytest.raises(ConfigError, match="'max' or 'min'"):
        Pipeline({"em": ExactMatch()}, directions={"em": "up"})  # type: ignore[dict-item]


def test_failures_are_contained_never_zero():
    pipe = Pipeline({"em": ExactMatch(extract="answer_tag"), "bad": Raises(), "short": WrongLength()}, combiner="weighted_sum")
    results = pipe.score(SAMPLES)
    for r in results:
        assert r.components["bad"].verdict is Verdict.ERROR and r.components["bad"].value is None
        assert "backend down" in r.components["bad"].reason
        assert r.components["short"].verdict is Verdict.ERROR
        assert "returned 1 scores for 3 samples" in r.components["short"].reason
        assert r.raw["bad"] is None
    assert [r.reward for r in results] == [1.0, 0.0, 0.0]


def test_all_missing_gives_no_reward():
    pipe = Pipeline({"s": SkipsOdd()}, combiner="weighted_sum")
    r = pipe.score([Sample("a"), Sample("ab")])
    assert r[0].reward is None and r[1].reward == 1.0


def test_matrix_has_nan_for_missing():
    pipe = Pipeline({"s": SkipsOdd(), "len": Length()})
    cols = {"s": SkipsOdd().score_batch([Sample("a")]), "len": Length().score_batch([Sample("a")])}
    m = pipe.matrix(cols)
    assert m.shape == (1, 2) and math.isnan(m[0, 0]) and m[0, 1] == 1.0


def test_async_matches_sync():
    pipe = Pipeline({"em": ExactMatch(extract="answer_tag"), "fmt": RegexMatch("<answer>")})
    assert asyncio.run(pipe.ascore(SAMPLES)) == pipe.score(SAMPLES)


def test_groups_reach_the_combiner():
    seen = {}

    class Spy(WeightedSum):
        name = "spy"

        def __call__(self, R, groups=None, /, *, maximise=True, names=None):
            seen["groups"] = list(groups)
            seen["names"] = names
            seen["maximise"] = maximise
            return super().__call__(R, groups, maximise=maximise, names=names)

    pipe = Pipeline({"em": ExactMatch()}, combiner=Spy())
    pipe.score([Sample("a", group="g"), Sample("b"), Sample("c", group="g"), Sample("d")])
    g = seen["groups"]
    assert g[0] == g[2] == "g" and g[1] != g[3] and len({repr(x) for x in g}) == 3
    assert seen["names"] == ["em"] and seen["maximise"] == (True,)


def test_bad_combiner_output_is_an_error():
    class Broken(WeightedSum):
        def __call__(self, R, groups=None, /, *, maximise=True, names=None):
            return np.zeros(1)

    with pytest.raises(RuntimeError, match="shape"):
        Pipeline({"em": ExactMatch()}, combiner=Broken()).score(SAMPLES)


def test_default_combiner_is_decoupled():
    from moreward.pareto import DEFAULT_COMBINER, Decoupled

    assert DEFAULT_COMBINER == "decoupled"
    pipe = Pipeline({"em": ExactMatch()})
    assert isinstance(pipe.combiner, Decoupled)
    r = pipe.score([Sample("a", reference="a", group=1), Sample("b", reference="a", group=1), Sample("c", reference="c")])
    assert r[0].reward > 0 > r[1].reward  # normalised within the group
    assert r[2].reward == 0.0  # a group of one carries no advantage


def test_pipeline_rejects_non_objectives():
    with pytest.raises(ConfigError, match="at least one"):
        Pipeline({})
    with pytest.raises(ConfigError, match="no score_batch"):
        Pipeline({"x": object()})  # type: ignore[dict-item]


def test_pipeline_pickles():
    pipe = Pipeline.from_config({"objectives": {"em": {"type": "exact_match"}}})
    clone = pickle.loads(pickle.dumps(pipe))
    assert clone.score(SAMPLES) == pipe.score(SAMPLES)


def test_sample_from_row_uses_fields():
    pipe = Pipeline.from_config({"fields": {"completion": "response"}, "objectives": {"em": {"type": "exact_match"}}})
    assert pipe.sample_from_row({"response": "x", "reference": "x"}).completion == "x"


def test_data_source_routing():
    pipe = Pipeline.from_config(
        {
            "objectives": {
                "em": {"type": "exact_match", "data_sources": ["trivia"]},
                "rx": {"type": "regex", "pattern": r"\d", "data_sources": ["math", "trivia"]},
            }
        }
    )
    samples = [
        Sample("Paris 1", reference="paris 1", meta={"data_source": "trivia"}),
        Sample("42", reference="x", meta={"data_source": "math"}),
        Sample("none", reference="x"),
    ]
    r = pipe.score(samples)
    assert r[0].raw == {"em": 1.0, "rx": 1.0}
    assert r[1].components["em"].verdict is Verdict.SKIP and r[1].raw["rx"] == 1.0
    assert "'math' is not one of ['trivia']" in r[1].components["em"].reason
    assert r[2].reward is None and all(c.verdict is Verdict.SKIP for c in r[2].components.values())
    assert pickle.loads(pickle.dumps(pipe)).score(samples) == r
