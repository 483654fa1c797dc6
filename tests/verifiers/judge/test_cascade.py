"""Cascade: the rule first, the judge only for the rule's failures (QwenLong-L1)."""

from __future__ import annotations

import asyncio
import pickle
from typing import ClassVar

import pytest

from moreward import registry
from moreward.core import BaseObjective, Sample, Score, Verdict
from moreward.errors import ConfigError
from moreward.pipeline import Pipeline
from moreward.verifiers.judge import Cascade, OpenAIJudge
from moreward.verifiers.text import SubExactMatch, TokenF1


@registry.register("test_scripted_judge")
class ScriptedJudge(BaseObjective):
    """Answers from ``meta["judge"]`` ("yes", "no", "error"); counts the samples it saw."""

    name: ClassVar[str] = "test_scripted_judge"

    def __init__(self, *, default: str = "yes") -> None:
        self.default = default
        self.seen: list[str] = []

    def score(self, sample: Sample) -> Score:
        self.seen.append(sample.completion)
        what = sample.meta.get("judge", self.default)
        if what == "error":
            return Score.error("judge server down")
        return Score.from_bool(what == "yes", f"judge said {what}")


def s(answer: str, ref: str = "Paris", judge: str = "yes") -> Sample:
    return Sample(f"<think>hmm</think> Therefore, the answer is {answer}.", reference=ref, meta={"judge": judge})


@pytest.fixture
def cascade():
    return Cascade(SubExactMatch(extract="answer_is"), ScriptedJudge())


def test_judge_only_when_the_rule_fails(cascade):
    samples = [s("Paris"), s("the city of light"), s("Lyon", judge="no"), Sample("no answer phrase here", reference="Paris")]
    out = cascade.score_batch(samples)
    assert [o.verdict for o in out] == [Verdict.PASS, Verdict.PASS, Verdict.FAIL, Verdict.INVALID]
    assert [o.details["decided_by"] for o in out] == ["rule", "judge", "judge", "rule"]
    assert cascade.judge.seen == [samples[1].completion, samples[2].completion]  # one batch call, failures only
    assert out[1].value == 1.0 and out[2].value == 0.0
    assert out[1].details["rule"]["verdict"] == "fail" and out[1].details["judge"]["verdict"] == "pass"


def test_max_keeps_the_better_of_partial_rule_and_judge():
    c = Cascade(TokenF1(extract="answer_is"), ScriptedJudge(default="no"))
    out = c.score(s("Paris France", ref="Paris", judge="no"))
    assert out.verdict is Verdict.PARTIAL and out.details["decided_by"] == "rule" and 0 < out.value < 1
    j = Cascade(TokenF1(extract="answer_is"), ScriptedJudge(default="no"), combine="judge")
    assert j.score(s("Paris France", ref="Paris", judge="no")).value == 0.0


def test_judge_failure_is_an_error_or_the_rule(cascade):
    out = cascade.score(s("Lyon", judge="error"))
    assert out.verdict is Verdict.ERROR and out.value is None and "server down" in out.reason
    keep = Cascade(SubExactMatch(extract="answer_is"), ScriptedJudge(), on_judge_error="rule")
    out = keep.score(s("Lyon", judge="error"))
    assert out.verdict is Verdict.FAIL and out.value == 0.0 and out.details["decided_by"] == "rule"


def test_judge_on_invalid_can_be_asked_for():
    c = Cascade(SubExactMatch(extract="answer_is"), ScriptedJudge(), judge_on=["fail", "invalid"])
    assert c.score(Sample("Paris", reference="Paris")).details["decided_by"] == "judge"


def test_async_matches_sync(cascade):
    samples = [s("Paris"), s("Lyon", judge="no"), s("the capital", judge="yes")]
    a = asyncio.run(cascade.ascore_batch(samples))
    b = Cascade(SubExactMatch(extract="answer_is"), ScriptedJudge()).score_batch(samples)
    assert [x.verdict for x in a] == [x.verdict for x in b]


def test_config_construction():
    c = registry.get("cascade", rule={"type": "sub_em", "extract": "answer_is"}, judge="test_scripted_judge")
    assert isinstance(c.rule, SubExactMatch) and isinstance(c.judge, ScriptedJudge)
    pipe = Pipeline.from_config({
        "objectives": {
            "accuracy": {
                "type": "cascade",
                "rule": {"type": "sub_em", "extract": "answer_is"},
                "judge": {"type": "openai_judge", "base_url": "http://127.0.0.1:9/v1", "model": "judge",
                          "template": "qwenlong", "concurrency": 8},
            }
        },
        "combiner": {"method": "weighted_sum"},
    })
    acc = pipe.objectives["accuracy"]
    assert isinstance(acc, Cascade) and isinstance(acc.judge, OpenAIJudge) and acc.judge.concurrency == 8
    for bad in ({"rule": {"extract": "answer_is"}}, {"combine": "min"}, {"judge_on": ["pass"]},
                {"on_judge_error": "zero"}, {"rule": 3}):
        with pytest.raises(ConfigError):
            registry.get("cascade", **{"rule": "sub_em", "judge": "test_scripted_judge", **bad})
    with pytest.raises(ConfigError, match="unknown option"):
        registry.get("cascade", rule={"type": "sub_em", "bogus": 1}, judge="test_scripted_judge")


def test_pickle(cascade):
    clone = pickle.loads(pickle.dumps(cascade))
    assert clone.score(s("Paris")).passed and clone.name == "cascade"
