"""assert_score and the score fixture's PipelineScorer, used directly."""

from __future__ import annotations

import re

import pytest

from moreward import ConfigError, Pipeline, Result, Sample, Score, Verdict
from moreward.testing import PipelineScorer, ScoreAssertionError, assert_score
from moreward.verifiers.text import ExactMatch

PIPE = {
    "objectives": {"answer": {"type": "exact_match", "extract": "answer_tag"}},
    "combiner": {"method": "weighted_sum", "weights": {"answer": 2.0}},
}


def test_each_expectation_kind_passes_and_returns_the_score() -> None:
    em = ExactMatch(extract="answer_tag")
    s = assert_score(
        em, "<answer>Paris</answer>", "paris", value=1.0, verdict="pass", min=1, max=1, reason="equal"
    )
    assert isinstance(s, Score) and s.passed
    assert_score("exact_match", "Rome", "Paris", value=0.001, tol=0.01)
    assert_score(
        {"type": "exact_match", "extract": "answer_tag"}, "Paris", "Paris", verdict=[Verdict.INVALID, "fail"]
    )
    assert_score(em, Sample("<answer>x</answer>", reference="x"), max=1.0)
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<answer>x</answer>"}]
    assert_score(em, messages, "x", value=1)
    assert_score(em, "x", None, verdict="skip")


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"value": 1.0}, "value 0 is not 1 (tol 1e-09)"),
        ({"min": 0.5}, "value 0 is not in [0.5, inf]"),
        ({"max": -1}, "value 0 is not in [-inf, -1]"),
        ({"verdict": ["pass", "partial"]}, "verdict fail is not pass or partial"),
        ({"reason": "^equal"}, "reason 'normalised strings differ' does not match '^equal'"),
    ],
)
def test_failures_show_value_verdict_reason_and_extracted(kwargs: dict, problem: str) -> None:
    with pytest.raises(ScoreAssertionError) as info:
        assert_score(
            {"type": "exact_match", "extract": "answer_tag"}, "<answer>Rome</answer>", "Paris", **kwargs
        )
    text = str(info.value)
    assert text.splitlines()[0] == f"exact_match(extract='answer_tag'): {problem}"
    for line in ("  value:     0", "  verdict:   fail", "  reason:    normalised strings differ", "  extracted: 'Rome'",
                 "  completion: '<answer>Rome</answer>'", "  reference:  'Paris'"):  # fmt: skip
        assert line in text.splitlines()
    assert isinstance(info.value, AssertionError)


def test_none_values() -> None:
    with pytest.raises(ScoreAssertionError, match=re.escape("value is None, expected [0, inf]")):
        assert_score("exact_match", "x", None, min=0)
    with pytest.raises(ScoreAssertionError, match="value is None, expected 1"):
        assert_score("exact_match", "x", None, value=1)


def test_pipelines() -> None:
    pipe = Pipeline.from_config(PIPE)
    r = assert_score(pipe, "<answer>4</answer>", "4", value=2.0)
    assert isinstance(r, Result) and r.components["answer"].passed
    with pytest.raises(ScoreAssertionError) as info:
        assert_score(pipe, "<answer>5</answer>", "4", min=1)
    assert "answer: 0 (fail) normalised strings differ; extracted '5'" in str(info.value)
    with pytest.raises(TypeError, match="no verdict or reason"):
        assert_score(pipe, "x", "4", verdict="pass")


def test_misuse() -> None:
    with pytest.raises(TypeError, match="give at least one of value, min, max, verdict or reason"):
        assert_score("exact_match", "x", "x")
    with pytest.raises(TypeError, match="reference inside the Sample"):
        assert_score("exact_match", Sample("x"), "x", value=1)
    with pytest.raises(TypeError, match="expected an objective"):
        assert_score(42, "x", value=1)
    with pytest.raises(TypeError, match="needs a 'type'"):
        assert_score({"extract": "full"}, "x", value=1)
    with pytest.raises(ConfigError, match="unknown objective type 'exact_mach'"):
        assert_score("exact_mach", "x", value=1)
    with pytest.raises(ValueError, match="'pas' is not a verdict"):
        assert_score("exact_match", "x", verdict="pas")
    with pytest.raises(ValueError, match="min 2 is greater than max 1"):
        assert_score("exact_match", "x", min=2, max=1)


def test_objective_returning_a_non_score() -> None:
    class Broken:
        def score(self, sample: Sample) -> float:
            return 1.0

    with pytest.raises(ScoreAssertionError, match="returned float, not a Score"):
        assert_score(Broken(), "x", value=1)


def test_pipeline_scorer() -> None:
    scorer = PipelineScorer(Pipeline.from_config(PIPE))
    assert scorer("<answer>4</answer>", "4", prompt="q", group=1, tokens=3, meta={"k": 1}).reward == 2.0
    assert scorer([{"role": "assistant", "content": "<answer>4</answer>"}], "4").reward == 2.0
    rows = scorer.batch(
        [
            Sample("<answer>4</answer>", "4"),
            "<answer>4</answer>",
            {"completion": "<answer>3</answer>", "reference": "4"},
        ]
    )
    assert [r.reward for r in rows] == [2.0, None, 0.0]
    assert "PipelineScorer(Pipeline(" in repr(scorer)
