"""Core types: values, immutability, pickling, chat messages, and the base objective."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from moreward import BaseObjective, InputError, Objective, Result, Sample, Score, Verdict


class Upper(BaseObjective):
    name = "upper"

    def score(self, sample: Sample) -> Score:
        if sample.completion == "boom":
            raise RuntimeError("exploded")
        return Score.from_bool(sample.completion.isupper(), "checked case")


def test_score_coerces_and_freezes():
    s = Score(1, "pass", "ok", {"a": 1})
    assert s.value == 1.0 and isinstance(s.value, float)
    assert s.verdict is Verdict.PASS and s.passed
    with pytest.raises(TypeError):
        s.details["b"] = 2  # type: ignore[index]
    with pytest.raises(AttributeError):
        s.value = 0.0  # type: ignore[misc]
    assert hash(s) == hash(Score(1.0, Verdict.PASS, "ok", {"a": 1}))


def test_score_rejects_unknown_verdict():
    with pytest.raises(ValueError):
        Score(1.0, "great")


def test_failure_scores_have_no_value():
    for s in (Score.error("x"), Score.timeout(), Score.skip("y")):
        assert s.value is None and not s.passed
    assert Score.error("x").verdict is Verdict.ERROR
    assert Score.timeout().verdict is Verdict.TIMEOUT
    assert Score.skip("y").verdict is Verdict.SKIP


@pytest.mark.parametrize(
    "obj",
    [
        Score(0.5, Verdict.PARTIAL, "half", {"nested": {"k": [1, 2]}}),
        Sample("c", reference=[1, 2], prompt="p", group=3, tokens=5, meta={"step": 1}),
        Result(1.0, {"a": Score.from_bool(True)}, {"a": 1.0}),
    ],
)
def test_core_values_pickle(obj):
    assert pickle.loads(pickle.dumps(obj)) == obj


def test_sample_validates_fields():
    with pytest.raises(InputError, match="from_messages"):
        Sample([{"role": "assistant", "content": "x"}])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="tokens"):
        Sample("x", tokens=-1)


def test_from_messages_keeps_assistant_text_and_tool_calls():
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "Let me compute.", "tool_calls": [{"id": "c1", "function": {"name": "py"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "4"},
        {"role": "assistant", "content": [{"type": "text", "text": "The answer is "}, {"type": "text", "text": "4"}]},
    ]
    s = Sample.from_messages(messages, reference="4", group="g")
    assert s.completion == "Let me compute.\n\nThe answer is 4"
    assert s.reference == "4" and s.group == "g"
    assert s.meta["tool_calls"][0]["id"] == "c1"
    assert s.meta["tool_messages"][0]["content"] == "4"
    assert Sample.from_messages("plain").completion == "plain"


def test_from_messages_rejects_bad_messages():
    with pytest.raises(InputError, match=r"messages\[0\]"):
        Sample.from_messages([{"content": "no role"}])
    with pytest.raises(InputError, match="content"):
        Sample.from_messages([{"role": "assistant", "content": 5}])


def test_base_objective_derives_batch_and_async():
    obj = Upper()
    assert isinstance(obj, Objective)
    samples = [Sample("YES"), Sample("no"), Sample("boom")]
    scores = obj.score_batch(samples)
    assert [s.verdict for s in scores] == [Verdict.PASS, Verdict.FAIL, Verdict.ERROR]
    assert scores[2].value is None and "exploded" in scores[2].reason
    assert asyncio.run(obj.ascore_batch(samples)) == scores
    assert asyncio.run(obj.ascore(samples[0])) == scores[0]
    assert obj(samples[1]) == scores[1]
    assert obj.__name__ == "upper"


def test_result_to_dict():
    r = Result(0.5, {"a": Score(0.5, Verdict.PARTIAL, "half", {"x": 1})}, {"a": 0.5})
    assert r.to_dict() == {"reward": 0.5, "components": {"a": {"value": 0.5, "verdict": "partial", "reason": "half"}}}
    assert r.to_dict(with_details=True)["components"]["a"]["details"] == {"x": 1}
