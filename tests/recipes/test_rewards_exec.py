"""Recipes whose objectives run code or combine per group: Plantain, START and Factum."""

from __future__ import annotations

import json
import statistics

import pytest

from moreward import Sample, recipes

# --------------------------------------------------------------------------- Plantain

PLAN = "<think>How to go about it.</think><answer>Plan:\n1. Work out the sum.\n2. Report it.</answer>"
MATH_OK = PLAN + r"<think>2 + 2 = 4</think><answer>The answer is \boxed{4}</answer>"
MATH_WRONG = PLAN + r"<think>2 + 2 = 5</think><answer>The answer is \boxed{5}</answer>"
NO_PLAN = r"<think>2 + 2 = 4</think><answer>The answer is \boxed{4}</answer>"  # one visible block: no plan
CODE_PLAN = "<think>Read n, double it.</think><answer>Plan:\n1. Read n.\n2. Print 2n.</answer>"
TESTS = {"inputs": ["2\n", "3\n"], "outputs": ["4\n", "6\n"]}


def _code(body: str) -> str:
    return CODE_PLAN + f"<think>Now the code.</think><answer>\n```python\n{body}\n```\n</answer>"


def test_plantain_gate_times_one_plus_correctness_plus_unit_tests():
    math_meta = {"data_source": "math"}
    code_meta = {"data_source": "code"}
    samples = [
        Sample(MATH_OK, reference="4", meta=math_meta),  # 1 * (1 + 1)
        Sample(MATH_OK, reference="4", meta={**math_meta, "helpfulness": 0.5}),  # 1 * (1 + 1 + 0.5)
        Sample(MATH_WRONG, reference="4", meta=math_meta),  # 1 * (1 + 0)
        Sample(NO_PLAN, reference="4", meta={**math_meta, "helpfulness": 1.0}),  # format gate closed: 0
        Sample(_code("print(int(input()) * 2)"), reference=TESTS, meta=code_meta),  # 1 * (1 + 1 + 2/2)
        Sample(_code("n = int(input())\nprint(4 if n == 2 else 0)"), reference=TESTS, meta=code_meta),  # 1 + 0 + 1/2
        Sample(_code("print(int(input()) * 2"), reference=TESTS, meta=code_meta),  # syntax error: 1 + 0 + 0
    ]
    results = recipes.get("plantain").score(samples)
    assert [r.reward for r in results] == pytest.approx([2.0, 2.5, 1.0, 0.0, 3.0, 1.5, 1.0])
    assert results[3].raw["format"] == 0.0 and results[3].raw["correct_math"] == 1.0
    assert results[0].raw["correct_code"] is None  # routed: math rows do not run the code verifier


def test_plantain_without_a_data_source_keeps_only_the_format_term():
    [res] = recipes.get("plantain").score([Sample(MATH_OK, reference="4")])
    assert res.reward == 1.0


# --------------------------------------------------------------------------- START

TOOL_OK = "Let me check.\n```python\nprint(2 + 3)\n```\n```output\n5\n```\nSo the answer is $\\boxed{5}$."
TOOL_FAKE = TOOL_OK.replace("```output\n5\n", "```output\n6\n")  # an output the code never printed
TOOL_FREE = "2 + 3 = 5, so the answer is $\\boxed{5}$."
TOOL_STATEFUL = (
    "```python\nx = 2 + 3\n```\n```output\n\n```\n"
    "```python\nprint(x * 2)\n```\n```output\n10\n```\nThe answer is $\\boxed{5}$."
)


def test_start_counts_the_answer_only_when_tool_outputs_rerun_true():
    samples = [
        Sample(TOOL_OK, reference="5"),  # 1 * 1
        Sample(TOOL_FAKE, reference="5"),  # right answer, hallucinated output: 0
        Sample(TOOL_FREE, reference="5"),  # no tool call: 0
        Sample(TOOL_OK, reference="6"),  # wrong answer: 0
        Sample(TOOL_STATEFUL, reference="5"),  # the second block sees x from the first: 1
    ]
    results = recipes.get("start").score(samples)
    assert [r.reward for r in results] == [1.0, 0.0, 0.0, 0.0, 1.0]
    assert results[1].components["tools"].details["rule"] == "rerun"
    assert [r.reward for r in recipes.get("start", min_code_blocks=0).score(samples[2:3])] == [1.0]


# --------------------------------------------------------------------------- Factum

EVENTS = {
    "events": [
        {"id": "e1", "time": [0, 2], "entities": ["man"], "action": "kicks the ball"},
        {"id": "e2", "time": [2, 3], "entities": ["ball"], "action": "hits the window"},
    ],
    "causal_links": [{"cause": "e1", "effect": "e2"}],
}
REFERENCE = {"answer": "B", **EVENTS}


def _factum(letter: str, tokens: int) -> Sample:
    text = f"<facts>{json.dumps(EVENTS)}</facts>\nThe ball broke the window.\nAnswer: {letter}"
    return Sample(text, reference=REFERENCE, group="clip-1", tokens=tokens)


def _z(values: list[float]) -> list[float]:
    mean, sd = statistics.fmean(values), statistics.stdev(values)  # ddof = 1, as torch.std
    return [(v - mean) / sd for v in values]


def test_factum_min_norm_over_the_varying_objectives():
    samples = [_factum("B", 100), _factum("C", 200), _factum("B", 400)]
    results = recipes.get("factum").score(samples)
    raw = [r.raw for r in results]
    assert [r["completeness"] for r in raw] == [1.0] * 3  # constant in the group: left out
    assert [r["fidelity"] for r in raw] == [1.0] * 3  # constant: left out
    assert [r["accuracy"] for r in raw] == [1.0, 0.0, 1.0]
    assert [r["length"] for r in raw] == pytest.approx([-100 / 8192, -200 / 8192, -400 / 8192])
    # Two objectives left, whose z-score vectors have equal norms: the min-norm point of their
    # convex hull is the midpoint, lambda = (1/2, 1/2), so A = (z_acc + z_len) / 2.
    z_acc, z_len = _z([1.0, 0.0, 1.0]), _z([-100.0, -200.0, -400.0])
    expected = [(a + b) / 2 for a, b in zip(z_acc, z_len)]
    assert [r.reward for r in results] == pytest.approx(expected, rel=1e-4)
    assert expected == pytest.approx([0.7251, -0.4682, -0.2569], abs=1e-3)


def test_factum_identical_rollouts_get_no_advantage():
    results = recipes.get("factum").score([_factum("B", 100), _factum("B", 100)])
    assert [r.reward for r in results] == [0.0, 0.0]
