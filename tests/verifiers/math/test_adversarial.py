"""Adversarial answers finish within the deadline + 0.5 s as TIMEOUT or FAIL: no crash, no hang."""

from __future__ import annotations

import time

import pytest

from moreward.core import Sample, Verdict
from moreward.verifiers.math import MathVerifier

DEADLINE = 1.0
MATRIX_200 = "\\begin{pmatrix}" + " & ".join(str(i) for i in range(200)) + "\\end{pmatrix}"
MATRIX_200_SYM = (
    "\\begin{pmatrix}" + " & ".join(f"x^{{{i}}}+\\sqrt{{{i}}}" for i in range(200)) + "\\end{pmatrix}"
)
MATRIX_200_ROWS = (
    "\\begin{pmatrix}"
    + " \\\\ ".join(" & ".join("1" for _ in range(200)) for _ in range(3))
    + "\\end{pmatrix}"
)

CASES = {
    "tower-5": ("\\boxed{5^{5^{5^{5^{5}}}}}", "5"),
    "tower-2": ("\\boxed{2^{2^{2^{2^{2^{2}}}}}}", "7"),
    "tower-10": ("\\boxed{10^{10^{10^{10}}}}", "7"),
    "mv65-hang": ("\\boxed{\\dfrac{5^{(5^{(5^{(5^5)})}-4)}-5}{16}}", "7"),
    "mv65-hang-gold": ("\\boxed{7}", "\\dfrac{5^{(5^{(5^{(5^5)})}-4)}-5}{16}"),
    "tower-gold": ("\\boxed{5}", "5^{5^{5^{5^{5}}}}"),
    "tower-both": ("\\boxed{5^{5^{5^{5^{5}}}}+1}", "5^{5^{5^{5^{5}}}}"),
    "big-power": ("\\boxed{9999999999^{9999999999}}", "5"),
    "big-power-both": ("\\boxed{9999999999^{9999999999}}", "9999999999^{9999999999} + 1"),
    "big-power-plain": ("The answer is 9999999999**9999999999", "5"),
    "factorial-1e8": ("\\boxed{(10^{8})!}", "5"),
    "factorial-literal": ("\\boxed{100000000!}", "5"),
    "factorial-1e100": ("\\boxed{(10^{100})!}", "5"),
    "factorial-ratio": ("\\boxed{\\frac{1000000!}{999999!}}", "5"),
    "long-200k-box": ("x " * 100_000 + "\\boxed{5}", "6"),
    "long-200k-answer": ("so " * 66_000 + "The answer is 5.", "6"),
    "long-200k-digits": ("\\boxed{" + "9" * 200_000 + "}", "5"),
    "long-200k-sum": ("\\boxed{" + "1+" * 100_000 + "1}", "5"),
    "braces-5000": ("\\boxed{" + "{" * 5000 + "1" + "}" * 5000 + "}", "2"),
    "braces-5000-open": ("\\boxed{" + "{" * 5000 + "1", "2"),
    "frac-nest-5000": ("\\boxed{" + "\\frac{1}{" * 5000 + "2" + "}" * 5000 + "}", "2"),
    "sqrt-nest-2000": ("\\boxed{" + "\\sqrt{" * 2000 + "2" + "}" * 2000 + "}", "2"),
    "parens-5000": ("\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}", "2"),
    "matrix-200-cols": (f"\\boxed{{{MATRIX_200}}}", MATRIX_200.replace("199", "198")),
    "matrix-200-cols-sym": (f"\\boxed{{{MATRIX_200_SYM}}}", MATRIX_200),
    "matrix-3x200": (f"\\boxed{{{MATRIX_200_ROWS}}}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}"),
    "sum-1e12": ("\\boxed{\\sum_{k=1}^{10^{12}} k}", "5"),
    "sum-1e12-sin": ("\\boxed{\\sum_{k=1}^{10^{12}} \\sin(k)}", "5"),
    "prod-1e12": ("\\boxed{\\prod_{k=1}^{10^{12}} k}", "5"),
    "sum-gold": ("\\boxed{5}", "\\sum_{k=1}^{10^{12}} \\sin(k)"),
    "many-boxes": ("\\boxed{1} " * 20_000, "2"),
    "dollars": ("$" * 100_000 + "\\boxed{1}", "2"),
    "spaces-20k": ("\\boxed{5" + " " * 19_000 + "cm}", "6"),
    "text-open-20k": ("\\boxed{5 " + "\\text{a " * 2_000 + "}", "6"),
    "set-10000": ("\\boxed{\\{" + ", ".join(map(str, range(10_000))) + "\\}}", "\\{1, 2\\}"),
}


@pytest.fixture(scope="module")
def verifier() -> MathVerifier:
    v = MathVerifier(timeout=DEADLINE)
    warm = v.score(Sample("\\boxed{\\sqrt{12}}", reference="2\\sqrt{3}"))  # start the pool outside the timing
    assert warm.passed and warm.details["path"] == "worker"
    return v


@pytest.mark.parametrize("name", list(CASES))
def test_adversarial(name: str, verifier: MathVerifier) -> None:
    completion, gold = CASES[name]
    start = time.perf_counter()
    s = verifier.score(Sample(completion, reference=gold))
    elapsed = time.perf_counter() - start
    assert s.verdict in (Verdict.TIMEOUT, Verdict.FAIL), (s.verdict, s.reason)
    assert elapsed < DEADLINE + 0.5, (elapsed, s.reason)


def test_adversarial_batch_finishes(verifier: MathVerifier) -> None:
    """All of them at once, mixed with ordinary pairs: the ordinary ones are still right."""
    samples = [Sample(c, reference=g) for c, g in CASES.values()]
    samples += [Sample("\\boxed{\\sqrt{12}}", reference="2\\sqrt{3}"), Sample("\\boxed{7}", reference="7")]
    start = time.perf_counter()
    scores = verifier.score_batch(samples)
    assert time.perf_counter() - start < 2 * (DEADLINE + 0.5) + 5
    assert all(s.verdict in (Verdict.TIMEOUT, Verdict.FAIL) for s in scores[:-2])
    assert scores[-2].passed and scores[-1].passed
