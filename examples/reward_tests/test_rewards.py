"""Unit tests of rewards, written the way a moreward user writes them.

Copy this folder into your project and run ``pytest``: the moreward plugin (a
``pytest11`` entry point) collects the ``reward_cases*`` golden-case files next to
this module and provides the ``score`` and ``moreward_pipeline`` fixtures.
"""

from __future__ import annotations

from typing import ClassVar

import pytest
from hypothesis import given, settings

import moreward
from moreward import BaseObjective, Sample, Score, Verdict
from moreward.testing import assert_score, check_objective
from moreward.testing import strategies as mst

FORMAT = {
    "type": "regex",
    "pattern": r"^<think>.+</think>\s*<answer>.+</answer>$",
    "mode": "fullmatch",
    "flags": "s",
}


class ConcisenessReward(BaseObjective):
    """A reward of your own: 1.0 up to ``budget`` words, then down linearly to 0.0 at twice the budget."""

    name: ClassVar[str] = "conciseness"

    def __init__(self, *, budget: int = 50) -> None:
        if budget < 1:
            raise ValueError(f"budget must be >= 1, got {budget}")
        self.budget = budget

    def score(self, sample: Sample) -> Score:
        words = len(sample.completion.split())
        if words <= self.budget:
            return Score(1.0, Verdict.PASS, f"{words} words")
        value = max(0.0, 2.0 - words / self.budget)
        verdict = Verdict.PARTIAL if value > 0 else Verdict.FAIL
        return Score(value, verdict, f"{words} words, budget {self.budget}")


# -- assert_score: one completion, one expectation ------------------------------------------


def test_short_answer_gets_the_full_reward():
    assert_score(ConcisenessReward(budget=5), "the answer is 4", value=1.0, verdict="pass")


def test_long_answer_is_penalised():
    assert_score(ConcisenessReward(budget=5), "word " * 8, min=0.3, max=0.5, verdict="partial")


def test_registry_objectives_by_name():
    assert_score(
        {"type": "exact_match", "extract": "answer_tag"}, "<answer>Paris</answer>", "paris", value=1.0
    )


# -- check_objective: fuzz your reward for the properties a trainer relies on ----------------


def test_conciseness_is_a_well_behaved_reward():
    # deterministic, within [0, 1], picklable, never raises, thread-safe, inputs untouched
    check_objective(ConcisenessReward(budget=20), bounds=(0.0, 1.0), max_examples=25)


# -- hypothesis strategies: properties over many generated completions -----------------------


@settings(max_examples=25, deadline=None)
@given(mst.think_answer_completions())
def test_well_formed_completions_pass_the_format_check(completion):
    assert_score(FORMAT, completion.text, value=1.0)


@settings(max_examples=25, deadline=None)
@given(mst.perturbed_completions(sorted(mst.BREAKING_PERTURBATIONS)))
def test_broken_formats_fail_the_format_check(completion):
    assert_score(FORMAT, completion.text, value=0.0)


@settings(max_examples=15, deadline=None)
@given(mst.equivalent_pairs(kinds=("fraction", "decimal", "latex")))
def test_math_verifier_accepts_equivalent_forms(pair):
    try:
        verifier = moreward.get("math")
    except (moreward.ConfigError, ImportError):
        pytest.skip("the math verifier is not installed")
    gold, written = pair
    assert_score(verifier, f"The answer is $\\boxed{{{written}}}$.", gold, verdict="pass")


# -- the score fixture: the whole pipeline of config.toml ------------------------------------


@pytest.mark.moreward(config="config.toml")
def test_pipeline_rewards_a_right_well_formed_answer(score):
    result = score("<think>2+2=4</think><answer>4</answer>", reference="4")
    assert result.reward == pytest.approx(1.5)
    assert result.components["answer"].passed and result.components["format"].passed


@pytest.mark.moreward(config="config.toml")
def test_pipeline_ranks_correctness_above_format(score):
    right, formatted = score.batch(
        [
            Sample("<answer>4</answer>", reference="4"),
            Sample("<think>2+2=5</think><answer>5</answer>", reference="4"),
        ]
    )
    assert right.reward > formatted.reward
