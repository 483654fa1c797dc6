"""reasoning-gym's score_answer as an objective."""

from __future__ import annotations

import pytest

from moreward import ConfigError, Pipeline, Sample, Verdict

rg = pytest.importorskip("reasoning_gym")

from moreward.integrations.reasoning_gym import ReasoningGymObjective, available_datasets  # noqa: E402


@pytest.fixture(scope="module")
def kk_entry() -> dict:
    return rg.create_dataset("knights_knaves", size=1, seed=3)[0]


def tagged(text: str) -> str:
    return f"<think>hm</think><answer>{text}</answer>"


def test_entry_as_reference_matches_reasoning_gym(kk_entry):
    obj = ReasoningGymObjective()
    good = obj.score(Sample(tagged(kk_entry["answer"]), reference=kk_entry))
    assert good.verdict is Verdict.PASS and good.value == 1.0
    # half right: reasoning-gym's own partial credit, reported as PARTIAL
    names = kk_entry["metadata"]["names"]
    solution = kk_entry["metadata"]["solution"]
    terms = kk_entry["metadata"]["knight_knave_terms"]
    flipped = [(n, not s) if i == 0 else (n, s) for i, (n, s) in enumerate(zip(names, solution))]
    text = " and ".join(f"{n} is a {terms['knight'] if s else terms['knave']}" for n, s in flipped)
    expected = rg.get_score_answer_fn("knights_knaves")(text, kk_entry)
    partial = obj.score(Sample(tagged(text), reference=kk_entry))
    assert partial.value == pytest.approx(expected)
    assert partial.verdict is (Verdict.PARTIAL if 0 < expected < 1 else Verdict.FAIL)


def test_answer_string_with_dataset_option():
    obj = ReasoningGymObjective(dataset="basic_arithmetic", extract="full")
    assert obj.score(Sample(" 12 ", reference="12")).verdict is Verdict.PASS
    assert obj.score(Sample("13", reference="12")).verdict is Verdict.FAIL


def test_invalid_skip_and_config_errors(kk_entry):
    obj = ReasoningGymObjective()
    assert obj.score(Sample("no tags", reference=kk_entry)).verdict is Verdict.INVALID
    assert obj.score(Sample(tagged("x"), reference="x")).verdict is Verdict.SKIP  # no dataset known
    assert obj.score(Sample(tagged("x"), reference={"answer": "x", "metadata": {"source_dataset": "nope"}})).verdict is Verdict.SKIP
    with pytest.raises(ConfigError, match=r"unknown reasoning-gym dataset 'knight_knaves'.*knights_knaves"):
        ReasoningGymObjective(dataset="knight_knaves")
    assert "knights_knaves" in available_datasets()


def test_as_a_config_objective(kk_entry):
    pipe = Pipeline.from_config(
        {"objectives": {"logic": {"type": "reasoning_gym"}}, "combiner": {"method": "weighted_sum"}}
    )
    (res,) = pipe.score([Sample(tagged(kk_entry["answer"]), reference=kk_entry)])
    assert res.reward == 1.0
