"""multiple_choice: letters, extraction, decoys."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moreward import ConfigError, Sample, Verdict, registry
from moreward.verifiers.choice import choice_span, parse_choice


@pytest.mark.parametrize(
    "completion,verdict,letter",
    [
        ("B", Verdict.PASS, "B"),
        ("(B)", Verdict.PASS, "B"),
        ("b", Verdict.PASS, "B"),
        ("B.", Verdict.PASS, "B"),
        ("Option B", Verdict.PASS, "B"),
        ("Long reasoning...\nThe answer is (B).", Verdict.PASS, "B"),
        ("Answer: **B**", Verdict.PASS, "B"),
        ("Final answer: B) Paris", Verdict.PASS, "B"),
        ("The correct option is B", Verdict.PASS, "B"),
        ("I choose B", Verdict.PASS, "B"),
        ("so \\boxed{B}", Verdict.PASS, "B"),
        ("so \\boxed{\\text{B}}", Verdict.PASS, "B"),
        ("<think>A or B?</think><answer>B</answer>", Verdict.PASS, "B"),
        ("The answer is A. Wait, no: the answer is B.", Verdict.PASS, "B"),  # the last statement counts
        ("The answer is B) A cat", Verdict.PASS, "B"),  # an article after the letter is not a decoy
        ("The answer is C", Verdict.FAIL, "C"),
        ("\\boxed{A}", Verdict.FAIL, "A"),
    ],
)
def test_multiple_choice_answers(completion, verdict, letter):
    s = registry.get("multiple_choice", letters="ABCD").score(Sample(completion, reference="B"))
    assert s.verdict is verdict and s.details["letter"] == letter
    assert s.value == (1.0 if verdict is Verdict.PASS else 0.0)


@pytest.mark.parametrize(
    "completion,rule",
    [
        ("A or B", "ambiguous"),
        ("either A or B", "ambiguous"),
        ("The answer is A or B.", "ambiguous"),
        ("The answer is A and B", "ambiguous"),
        ("Answer: B/C", "ambiguous"),
        ("Answer: (B), (D)", "ambiguous"),
        ("\\boxed{B \\text{ or } C}", "ambiguous"),
        ("<answer>B & A</answer>", "ambiguous"),
        ("The answer is not A", "no_answer"),
        ("The answer is neither", "no_answer"),
        ("a cat", "no_answer"),  # a lowercase letter counts only on its own
        ("I am not sure which one is right here.", "no_answer"),
        ("", "no_answer"),
        ("Final answer: E", "out_of_range"),
    ],
)
def test_multiple_choice_decoys_are_invalid(completion, rule):
    s = registry.get("multiple_choice", letters="ABCD").score(Sample(completion, reference="B"))
    assert s.verdict is Verdict.INVALID and s.value == 0.0 and s.details["rule"] == rule


def test_references():
    mc = registry.get("multiple_choice")
    assert mc.score(Sample("B", reference=1)).passed
    assert mc.score(Sample("B", reference="(b)")).passed
    assert mc.score(Sample("J", reference="J")).passed  # A-J by default (MMLU-Pro)
    choices = {"answer": 1, "choices": ["London", "Paris", "Rome"]}
    assert mc.score(Sample("The answer is Paris", reference=choices)).details["rule"] == "choice_text"
    assert mc.score(Sample("The answer is Paris", reference=choices)).passed
    assert mc.score(Sample("The answer is London.", reference=choices)).verdict is Verdict.FAIL
    assert mc.score(Sample("D", reference=choices)).details["rule"] == "out_of_range"
    assert mc.score(Sample("B", reference={"answer": "B", "options": ["x", "y"]})).passed
    for bad in (None, "Paris", 10, "AB", True, {"answer": 5, "choices": ["a"]}, {"answer": "A", "choices": "abc"}):
        assert mc.score(Sample("B", reference=bad)).verdict is Verdict.SKIP, bad


def test_extract_modes_and_config():
    assert choice_span("The answer is B. \\boxed{C}")[1] == "boxed"
    assert choice_span("The answer is B. \\boxed{C}", "phrase") == ("B. \\boxed{C}", "phrase")
    assert choice_span("no answer here, long sentence really", "auto") == (None, "")
    assert parse_choice("(B) 42", "ABCD") == ("B", "letter")
    assert registry.get("multiple_choice", extract="answer_tag").score(Sample("B", reference="B")).verdict is Verdict.INVALID
    with pytest.raises(ConfigError, match="allowed: auto, answer_tag"):
        registry.get("multiple_choice", extract="last")
    with pytest.raises(ConfigError, match="distinct uppercase"):
        registry.get("multiple_choice", letters="abc")
    mc = registry.get("multiple_choice", letters="ABCDE")
    assert pickle.loads(pickle.dumps(mc)) == mc and mc.__name__ == "multiple_choice"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(["A", "B", " or ", "(", ")", "answer is ", "\\boxed{", "}", "<answer>", "</answer>", ",", "\n", "x"]), max_size=12).map("".join)))
def test_never_raises_and_hedges_never_pass(text):
    s = registry.get("multiple_choice", letters="ABCD").score(Sample(text, reference="B"))
    assert s.value in (0.0, 1.0)
    if s.passed:
        span, _ = choice_span(text)
        assert span is not None and parse_choice(span, "ABCD") == ("B", "letter")
