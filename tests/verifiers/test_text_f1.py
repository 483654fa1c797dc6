"""token_f1 and sub_em objectives (SQuAD / HotpotQA token F1, QwenLong-L1 sub-exact-match)."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moreward import ConfigError, Sample, Verdict, registry
from moreward.verifiers.text import extract_answer, sub_exact_match, token_f1


@pytest.mark.parametrize(
    "pred,ref,expected",
    [
        # computed by hand: F1 = 2PR/(P+R) over normalised word bags
        ("Eiffel Tower", "the Eiffel Tower", (1.0, 1.0, 1.0)),  # articles and case are dropped
        ("the Eiffel tower, Paris", "Eiffel Tower", (0.8, 2 / 3, 1.0)),  # P=2/3, R=1
        ("paris paris", "paris", (2 / 3, 0.5, 1.0)),  # multiset overlap: c = 1
        ("new york city", "york new jersey", (2 / 3, 2 / 3, 2 / 3)),  # order does not matter
        ("London", "Paris", (0.0, 0.0, 0.0)),
        ("", "Paris", (0.0, 0.0, 0.0)),
        ("yes", "yes", (1.0, 1.0, 1.0)),
        ("yes it is", "yes", (0.0, 0.0, 0.0)),  # HotpotQA's yes/no rule
        ("no", "no answer", (0.0, 0.0, 0.0)),
        ("noanswer", "noanswer", (1.0, 1.0, 1.0)),
    ],
)
def test_token_f1_by_hand(pred, ref, expected):
    assert token_f1(pred, ref) == pytest.approx(expected)


@pytest.mark.parametrize(
    "pred,ref,expected,whole",
    [
        ("It was Paris, France.", "paris", True, True),
        ("Paris", "Paris, France", True, True),  # the prediction inside the reference counts too
        ("London", "Paris", False, False),
        ("", "Paris", False, False),  # an empty answer never matches
        ("the", "the Paris", False, False),  # only an article: empty after normalisation
        ("100", "10", True, False),  # plain containment, as in the source
        ("1000 people", "100", True, False),
    ],
)
def test_sub_exact_match(pred, ref, expected, whole):
    assert sub_exact_match(pred, ref) is expected
    assert sub_exact_match(pred, ref, whole_words=True) is whole


def test_extract_answer_qwenlong():
    text = "<think>the answer is 3? no</think>\nAfter reading, **the answer is** Marie Curie."
    assert extract_answer(text, "answer_is") == "Marie Curie"
    assert extract_answer(text, "after_think").startswith("After reading")
    assert extract_answer("no think here", "after_think") is None
    assert extract_answer("So the answer is 42.", "answer_is") == "42"
    assert extract_answer("The answer is 42.", "answer_is") == "42"  # any case
    assert extract_answer("<think>the answer is 3</think> I don't know", "answer_is") is None
    assert extract_answer("<answer>x</answer>", "answer_tag") == "x"


def test_token_f1_objective():
    obj = registry.get("token_f1", extract="answer_is")
    s = obj.score(Sample("<think>...</think> Therefore, the answer is the Eiffel tower, Paris.", reference=["Louvre", "Eiffel Tower"]))
    assert s.verdict is Verdict.PARTIAL and s.value == pytest.approx(0.8)
    assert s.details["matched"] == "Eiffel Tower" and s.details["precision"] == pytest.approx(2 / 3)
    assert registry.get("token_f1").score(Sample("Eiffel Tower", reference="eiffel tower")).passed
    assert registry.get("token_f1").score(Sample("Louvre", reference="Eiffel Tower")).verdict is Verdict.FAIL
    missing = obj.score(Sample("no phrase", reference="x"))
    assert missing.verdict is Verdict.INVALID and missing.value == 0.0
    assert registry.get("token_f1").score(Sample("x", reference=None)).verdict is Verdict.SKIP
    with pytest.raises(ConfigError, match="allowed: full, answer_tag, last_line, after_think, answer_is"):
        registry.get("token_f1", extract="first")


def test_sub_em_objective():
    obj = registry.get("sub_em", extract="answer_is")
    good = obj.score(Sample("<think>hmm</think> so the answer is Marie Curie, the physicist", reference="Marie Curie"))
    assert good.passed and good.details["matched"] == "Marie Curie"
    assert not obj.score(Sample("<think>hmm</think> the answer is Pierre", reference=["Marie Curie"])).passed
    assert obj.score(Sample("nothing", reference="x")).verdict is Verdict.INVALID
    assert not registry.get("sub_em", whole_words=True).score(Sample("100", reference="10")).passed
    assert registry.get("sub_em").score(Sample("x", reference=3.5)).verdict is Verdict.FAIL
    assert pickle.loads(pickle.dumps(obj)) == obj and obj.__name__ == "sub_em"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_f1_bounded_symmetric_and_never_raises(pred, ref):
    f1, p, r = token_f1(pred, ref)
    assert 0.0 <= f1 <= 1.0 and 0.0 <= p <= 1.0 and 0.0 <= r <= 1.0
    assert token_f1(ref, pred)[0] == pytest.approx(f1)
    assert f1 <= max(p, r) + 1e-12
    assert sub_exact_match(pred, ref) == sub_exact_match(ref, pred)
    for name, extract in (("token_f1", "answer_is"), ("sub_em", "after_think"), ("sub_em", "full")):
        s = registry.get(name, extract=extract).score(Sample(pred, reference=ref))
        assert s.value is not None and 0.0 <= s.value <= 1.0
