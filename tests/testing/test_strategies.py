"""The hypothesis strategies produce what they promise, and the built-in verifiers agree with them."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moreward import ConfigError, Sample, Verdict, registry
from moreward.pareto import available_combiners, get_combiner
from moreward.testing import strategies as mst

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_form(kind: str, text: str) -> Fraction:
    """An independent reading of each number form."""
    if kind == "percent":
        return Fraction(text[:-1]) / 100
    if kind == "latex":
        m = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", text)
        assert m, text
        return Fraction(int(m[2]), int(m[3])) * (-1 if m[1] else 1)
    return Fraction(text)


@FAST
@given(mst.equivalent_numbers())
def test_every_number_form_reads_back_to_the_value(n: mst.NumberForms) -> None:
    assert list(n.forms) == list(mst.NUMBER_FORMS)
    for kind, text in n.forms.items():
        assert parse_form(kind, text) == n.value, (kind, text)
    assert n.texts == list(n.forms.values())


def test_number_forms_examples() -> None:
    assert mst.number_forms(Fraction(-1, 8)) == {
        "fraction": "-1/8", "decimal": "-0.125", "percent": "-12.5%", "scientific": "-1.25e-1", "latex": "-\\frac{1}{8}",
    }  # fmt: skip
    assert mst.number_forms(3, scale=2) == {
        "fraction": "6/2", "decimal": "3", "percent": "300%", "scientific": "3e0", "latex": "\\frac{6}{2}",
    }  # fmt: skip
    assert mst.number_forms(0)["scientific"] == "0e0"
    with pytest.raises(ValueError, match="no terminating decimal"):
        mst.number_forms(Fraction(1, 3))
    with pytest.raises(ValueError, match="scale"):
        mst.number_forms(1, scale=0)
    with pytest.raises(ValueError, match="unknown number form"):
        mst.equivalent_numbers(kinds=("roman",))


@FAST
@given(
    mst.equivalent_pairs(kinds=("fraction", "percent")),
    mst.equivalent_numbers(kinds=("decimal",), allow_negative=False),
)
def test_pairs_and_kinds(pair: tuple[str, str], n: mst.NumberForms) -> None:
    a, b = pair
    assert a.endswith("%") != b.endswith("%")
    assert list(n.forms) == ["decimal"] and n.value >= 0


@pytest.mark.parametrize("kind", mst.LATEX_KINDS)
def test_latex_answers_of_each_kind(kind: str) -> None:
    @settings(max_examples=10, deadline=None)
    @given(mst.latex_answers([kind]))
    def check(answer: mst.LatexAnswer) -> None:
        assert answer.kind == kind and answer.latex and answer.plain
        assert answer.boxed == f"\\boxed{{{answer.latex}}}"
        assert answer.latex.count("{") == answer.latex.count("}")

    check()


def test_latex_kinds_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown LaTeX answer kind"):
        mst.latex_answers(["roman"])


def math_verifier():
    try:
        return registry.get("math")
    except (ConfigError, ImportError):
        pytest.skip("the math verifier is not available")


@settings(max_examples=15, deadline=None)
@given(mst.latex_answers(["integer", "fraction", "decimal", "sqrt", "pi", "power", "interval", "percent"]))
def test_math_verifier_accepts_latex_against_plain(answer: mst.LatexAnswer) -> None:
    s = math_verifier().score(
        Sample(f"So the answer is $\\boxed{{{answer.latex}}}$.", reference=answer.plain)
    )
    assert s.verdict in (Verdict.PASS, Verdict.TIMEOUT), (answer, s)


@settings(max_examples=25, deadline=None)
@given(mst.equivalent_pairs(kinds=("fraction", "decimal", "scientific", "latex")))
def test_math_verifier_accepts_equivalent_forms(pair: tuple[str, str]) -> None:
    gold, written = pair
    s = math_verifier().score(Sample(f"The answer is $\\boxed{{{written}}}$", reference=gold))
    assert s.verdict in (Verdict.PASS, Verdict.TIMEOUT), (pair, s)


@FAST
@given(mst.think_answer_completions())
def test_think_answer_completions_are_well_formed(c: mst.ThinkAnswer) -> None:
    assert re.fullmatch(r"<think>\n(.+)\n</think>\n<answer>\n(.+)\n</answer>", c.text, re.S).groups() == (
        c.think,
        c.answer,
    )
    assert "<" not in c.think + c.answer and c.think.strip() and c.answer.strip()
    for name, opts in (("think_answer", {}), ("think_answer", {"strict_newlines": True}), ("tag_count", {})):
        try:
            obj = registry.get(name, **opts)
        except (ConfigError, ImportError):
            continue
        assert obj.score(Sample(c.text)).value == 1.0, (name, opts)


@FAST
@given(mst.perturbed_completions())
def test_perturbations(c: mst.PerturbedCompletion) -> None:
    assert c.perturbation in mst.PERTURBATIONS and c.text != c.base.text
    assert c.breaking == (c.perturbation in mst.BREAKING_PERTURBATIONS)
    if c.breaking:
        assert re.fullmatch(r"\s*<think>.+</think>\s*<answer>.+</answer>\s*", c.text, re.S) is None
        try:
            obj = registry.get("think_answer")
        except (ConfigError, ImportError):
            return
        assert obj.score(Sample(c.text)).verdict is not Verdict.PASS, c


def test_perturbations_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown perturbation"):
        mst.perturbed_completions(["nope"])


@FAST
@given(mst.chat_messages(system=True, max_turns=3))
def test_chat_messages_feed_sample_from_messages(messages: list[dict]) -> None:
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "assistant"
    assert {m["role"] for m in messages} <= {"system", "user", "assistant", "tool"}
    sample = Sample.from_messages(messages, reference="r")
    assert sample.completion  # the last assistant turn always has text
    calls = [c for m in messages for c in m.get("tool_calls", ())]
    assert list(sample.meta.get("tool_calls", [])) == calls


@FAST
@given(mst.reward_matrices(max_rows=8, max_objectives=3), st.data())
def test_reward_matrices_for_every_combiner(rg: tuple[np.ndarray, list], data: st.DataObject) -> None:
    R, groups = rg
    n, k = R.shape
    assert 1 <= n <= 8 and 1 <= k <= 3 and len(groups) == n and R.dtype == float
    maximise = data.draw(mst.maximise_flags(k))
    before = R.copy()
    for name in available_combiners():
        try:
            combiner = get_combiner(name)
        except (ConfigError, ImportError, TypeError):
            continue  # needs options this generic test does not know
        if not type(combiner).__module__.startswith("moreward."):
            continue  # registered by another test
        rewards = np.asarray(combiner(R, groups, maximise=maximise))
        assert rewards.shape == (n,), name
        assert not np.isinf(rewards).any(), name
        np.testing.assert_array_equal(R, before)


@FAST
@given(
    mst.reward_matrices(
        min_rows=3, max_rows=3, min_objectives=2, max_objectives=2, allow_nan=False, min_value=0, max_value=1
    )
)
def test_reward_matrix_options(rg: tuple[np.ndarray, list]) -> None:
    R, groups = rg
    assert R.shape == (3, 2) and not np.isnan(R).any() and ((R >= 0) & (R <= 1)).all()
    assert all(isinstance(g, str) and g.startswith("g") for g in groups)


@FAST
@given(mst.samples(), mst.arbitrary_text(max_size=20), mst.references())
def test_fuzzing_inputs(sample: Sample, text: str, ref: object) -> None:
    assert isinstance(sample, Sample) and isinstance(text, str)
    assert sample.tokens is None or sample.tokens >= 0
    if isinstance(ref, float):
        assert math.isfinite(ref)


def test_adversarial_texts_include_the_nasty_ones() -> None:
    texts = set(mst.ADVERSARIAL_TEXTS)
    assert {"", "\x00", "\ud800", "\\boxed{", "9" * 5000} <= texts
