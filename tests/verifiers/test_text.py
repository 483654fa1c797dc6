"""exact_match and regex objectives."""

from __future__ import annotations

import pytest

from moreward import ConfigError, Sample, Verdict
from moreward.verifiers.text import ExactMatch, RegexMatch, normalize_text


@pytest.mark.parametrize(
    "completion,reference,verdict",
    [
        ("Paris", "paris", Verdict.PASS),
        ("  The   answer:  Paris. ", "the answer paris", Verdict.PASS),
        ("Paris", ["Lyon", "PARIS"], Verdict.PASS),
        ("Pariss", "Paris", Verdict.FAIL),
        ("", "Paris", Verdict.FAIL),
        ("42", 42, Verdict.PASS),
        ("x", None, Verdict.SKIP),
        ("x", [], Verdict.SKIP),
        ("x", {"a": 1}, Verdict.SKIP),
    ],
)
def test_exact_match(completion, reference, verdict):
    s = ExactMatch().score(Sample(completion, reference=reference))
    assert s.verdict is verdict
    assert s.value == {Verdict.PASS: 1.0, Verdict.FAIL: 0.0, Verdict.SKIP: None}[verdict]


def test_exact_match_options():
    assert ExactMatch(case_sensitive=True).score(Sample("Paris", reference="paris")).verdict is Verdict.FAIL
    assert ExactMatch(strip_punctuation=False).score(Sample("Paris.", reference="Paris")).verdict is Verdict.FAIL
    assert ExactMatch(remove_articles=True).score(Sample("The Louvre", reference="louvre")).passed


def test_exact_match_extraction():
    em = ExactMatch(extract="answer_tag")
    s = em.score(Sample("<think>maybe Lyon</think><answer>Lyon</answer> then <answer> Paris </answer>", reference="Paris"))
    assert s.passed and s.details["extracted"] == " Paris "
    missing = em.score(Sample("Paris", reference="Paris"))
    assert missing.verdict is Verdict.INVALID and missing.value == 0.0
    assert ExactMatch(extract="last_line").score(Sample("work\nmore work\n\n Paris \n", reference="paris")).passed
    with pytest.raises(ConfigError, match="allowed"):
        ExactMatch(extract="first")  # type: ignore[arg-type]


def test_normalize_text_unicode():
    assert normalize_text("ＰＡＲＩＳ") == "paris"  # full-width forms fold under NFKC


def test_regex_search_and_fullmatch():
    rx = RegexMatch(r"\d+")
    found = rx.score(Sample("answer: 42 apples"))
    assert found.passed and found.details["match"] == "42"
    assert not rx.score(Sample("none")).passed
    full = RegexMatch(r"\d+", mode="fullmatch")
    assert full.score(Sample(" 42 \n")).passed
    assert not full.score(Sample("42 apples")).passed
    assert not RegexMatch(r"\d+", mode="fullmatch", strip=False).score(Sample(" 42")).passed
    assert RegexMatch(r"yes", flags="i").score(Sample("YES")).passed


@pytest.mark.parametrize("kwargs,match", [({"pattern": "("}, "does not compile"), ({"pattern": "a", "mode": "find"}, "allowed: search, fullmatch"), ({"pattern": "a", "flags": "q"}, "unknown regex flag")])
def test_regex_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        RegexMatch(**kwargs)
