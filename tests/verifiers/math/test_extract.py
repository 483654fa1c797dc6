"""Finding the final answer: every rule of moreward.verifiers.math.extract."""

from __future__ import annotations

import pytest

from moreward.verifiers.math.extract import extract_answer, extract_gold


@pytest.mark.parametrize(
    "completion,text,rule",
    [
        ("so $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}", "boxed"),
        ("\\fbox{12}", "12", "boxed"),
        ("\\boxed 5 is it", "5", "boxed"),
        ("\\boxed{\\boxed{5}}", "5", "boxed"),
        ("$\\boxed{\\{1, 2\\}}$", "\\{1, 2\\}", "boxed"),
        ("\\boxed{1} hmm no, it's \\boxed{2}", "2", "boxed"),
        ("The roots are $\\boxed{1}$ and $\\boxed{2}$.", "1, 2", "boxed"),
        ("\\boxed{3} or \\boxed{4}", "3 or 4", "boxed"),
        ("\\boxed{840}\\boxed{840}", "840", "boxed"),
        ("The answer is $\\boxed{}$.", "", "boxed"),
        ("The final answer is $\\frac{1}{2}$. I hope it is correct.", "\\frac{1}{2}", "answer_marker"),
        ("Answer: 7", "7", "answer_marker"),
        ("**Answer:** $x = 5$", "x = 5", "answer_marker"),
        ("## Final Answer\n\n$$\\frac{9}{7}$$", "\\frac{9}{7}", "answer_marker"),
        ("We get 3 + 4 = 7.\n#### 7", "7", "answer_marker"),
        ("The answer is 42, because 6 times 7 is 42.", "42", "answer_marker"),
        ("the answer is $3$ or $4$", "3 or 4", "answer_marker"),
        ("The correct option is (B).", "(B)", "answer_marker"),
        ("The final answer is $\\$4275$. I hope it is correct.", "\\$4275", "answer_marker"),
        (
            "Hmm, I think $\\boxed{17}$ is wrong.\n\nSo the answer is $\\frac{7}{3}$.",
            "\\frac{7}{3}",
            "answer_marker",
        ),
        ("Thus $x=\\dfrac{9}{7}$.", "x=\\dfrac{9}{7}", "math_span"),
        ("Therefore, \\(x = 4\\).", "x = 4", "math_span"),
        ("Therefore \\[ \\frac{3}{4} \\]", "\\frac{3}{4}", "math_span"),
        ("The solutions are $x = 1$ and $x = 2$.", "x = 1, x = 2", "math_span"),
        ("\\dfrac{9}{7}", "\\dfrac{9}{7}", "bare_line"),
        ("pi/2", "pi/2", "bare_line"),
        ("The sum is 234. Wait, I made an error. The sum is **73**", "73", "bold"),
        ("So she has 42 apples.", "42", "last_number"),
        ("Yes", "Yes", "bare_words"),
        ("<think>maybe 5</think>The answer is 6.", "6", "after_think:answer_marker"),
        ("<think>hmm</think>\n<answer>12</answer>", "12", "after_think:answer_tag"),
        ("<answer>The answer is $\\boxed{13}$</answer>", "13", "answer_tag+boxed"),
        ("<answer></answer>", "", "answer_tag"),
    ],
)
def test_rules(completion: str, text: str, rule: str) -> None:
    got = extract_answer(completion)
    assert got is not None and (got.text, got.rule) == (text, rule)


@pytest.mark.parametrize(
    "completion",
    [
        "",
        "No answer here, sorry.",
        "<think>so \\boxed{4}</think>",  # nothing after the thinking
        "Simplify $\\frac{2}{4}$.",  # the problem restated
        "What is $1 + 1$?",
        "We have 1 + 1 + 1 + 1",  # never a number pulled out of a formula
        "x = \\frac{3}{4} is what we got",
        "Lots of reasoning with $x=3$.\n\nI am not sure about the rest.",  # unanchored math must be in the last paragraph
    ],
)
def test_no_answer(completion: str) -> None:
    assert extract_answer(completion) is None


def test_restated_problem_found_in_prompt() -> None:
    prompt = "The ratio is given by $\\frac{2}{4}$ in lowest terms; what is it?"
    assert extract_answer("The ratio is given by $\\frac{2}{4}$ in lowest terms") is not None
    assert extract_answer("The ratio is given by $\\frac{2}{4}$ in lowest terms", prompt) is None


def test_long_inputs_are_linear() -> None:
    import time

    start = time.perf_counter()
    assert extract_answer("so " * 100_000 + "\\boxed{5}").text == "5"  # type: ignore[union-attr]
    assert extract_answer("answer " * 50_000) is None or True
    assert extract_answer("\\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}") is not None
    assert extract_answer("$" * 100_000) is None or True
    assert extract_answer("\\boxedx" * 30_000) is None
    assert extract_answer("\\boxed{" * 30_000) is not None
    assert extract_answer("\\fbox{1} " * 20_000).text == "1"  # type: ignore[union-attr]
    assert extract_answer("5" + " " * 200_000 + "cm") is not None or True
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    "gold,text",
    [("The area is $\\boxed{12}$.", "12"), ("\\frac{1}{2}", "\\frac{1}{2}"), ("  42 ", "42")],
)
def test_extract_gold(gold: str, text: str) -> None:
    assert extract_gold(gold) == text
