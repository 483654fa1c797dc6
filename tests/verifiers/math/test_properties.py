"""Hypothesis properties of the number rules and of the verifier's determinism."""

from __future__ import annotations

import itertools
import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moreward.core import Sample, Verdict
from moreward.verifiers.math import MathVerifier, compare_answers

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VERIFIER = MathVerifier(timeout=10.0)

terminating = st.builds(
    lambda n, a, b: Fraction(n, 2**a * 5**b),
    st.integers(-(10**6), 10**6),
    st.integers(0, 5),
    st.integers(0, 5),
)
non_terminating = st.builds(
    lambda n, d: Fraction(n, d),
    st.integers(-(10**4), 10**4).filter(bool),
    st.sampled_from([3, 6, 7, 9, 11, 12, 13, 15, 21, 24, 37]),
).filter(lambda q: q.denominator not in (1, 2, 4, 5, 8, 10))


def _decimal(q: Fraction) -> str:
    text = format(Decimal(q.numerator) / Decimal(q.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _sign(q: Fraction) -> str:
    return "-" if q < 0 else ""


def forms(q: Fraction) -> dict[str, str]:
    """One terminating rational written five ways (and as a mixed number when it has a fractional part)."""
    a = abs(q)
    out = {
        "fraction": f"{q.numerator}/{q.denominator}",
        "latex": f"{_sign(q)}\\frac{{{a.numerator}}}{{{a.denominator}}}",
        "decimal": _decimal(q),
        "percent": _decimal(q * 100) + "\\%",
    }
    if q == 0:
        out["scientific"] = "0 \\times 10^{0}"
    else:
        exp = Decimal(a.numerator / a.denominator).adjusted() if a >= 1 else -len(str(a.denominator))
        mant = q / Fraction(10) ** exp
        out["scientific"] = f"{_decimal(mant)}\\times 10^{{{exp}}}"
        out["e-notation"] = f"{_decimal(mant)}e{exp}"
    if a.denominator != 1 and a > 1:
        whole = a.numerator // a.denominator
        rest = a - whole
        out["mixed"] = f"{_sign(q)}{whole}\\frac{{{rest.numerator}}}{{{rest.denominator}}}"
    return out


def verdict(gold: str, answer: str) -> Verdict:
    return VERIFIER.score(Sample(f"The answer is $\\boxed{{{answer}}}$.", reference=gold)).verdict


@SETTINGS
@given(terminating)
def test_one_rational_in_every_pair_of_forms(q: Fraction) -> None:
    f = forms(q)
    for (n1, g), (n2, p) in itertools.product(f.items(), repeat=2):
        assert verdict(g, p) is Verdict.PASS, (q, n1, g, n2, p)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terminating, st.data())
def test_the_worker_agrees_on_forms(q: Fraction, data: st.DataObject) -> None:
    """The sympy engine (what a worker runs) gives the same answer as the fast path."""
    f = forms(q)
    g = data.draw(st.sampled_from(sorted(f.values())))
    p = data.draw(st.sampled_from(sorted(f.values())))
    assert compare_answers(g, p)[0] == "pass", (q, g, p)


@SETTINGS
@given(terminating, terminating)
def test_two_different_rationals_never_match(q1: Fraction, q2: Fraction) -> None:
    if q1 == q2:
        return
    f1, f2 = forms(q1), forms(q2)
    for (n1, g), (n2, p) in itertools.product(f1.items(), f2.items()):
        # the one convention: a percentage also matches its number with the % sign dropped
        dropped = (n1 == "percent") != (n2 == "percent") and (
            q2 == 100 * q1 if n1 == "percent" else q1 == 100 * q2
        )
        want = Verdict.PASS if dropped else Verdict.FAIL
        assert verdict(g, p) is want, (q1, n1, g, q2, n2, p)


@SETTINGS
@given(non_terminating, st.integers(3, 12))
def test_non_terminating_rationals_and_their_roundings(q: Fraction, digits: int) -> None:
    a = abs(q)
    exact = [f"{q.numerator}/{q.denominator}", f"{_sign(q)}\\frac{{{a.numerator}}}{{{a.denominator}}}"]
    exact_value = Decimal(q.numerator) / Decimal(q.denominator)
    places = max(1, digits - (exact_value.adjusted() + 1))  # >= `digits` significant digits, >= 1 decimal
    value = exact_value.quantize(Decimal(1).scaleb(-places))
    rounded = format(value, "f")
    for g, p in itertools.product(exact, [*exact, rounded]):
        assert verdict(g, p) is Verdict.PASS, (g, p)
    assert verdict(rounded, exact[1]) is Verdict.PASS
    wrong = format(
        value + Decimal(3).scaleb(value.as_tuple().exponent), "f"
    )  # three units off in the last place
    assert verdict(exact[0], wrong) is Verdict.FAIL, (q, wrong)


pairs = st.lists(
    st.tuples(
        st.sampled_from(
            ["\\frac{1}{2}", "2\\sqrt{3}", "(1, 2)", "[0, 1)", "x^2-1", "\\text{(B)}", "25\\%", "\\{1, 2\\}"]
        ),
        st.sampled_from(
            ["0.5", "\\sqrt{12}", "(2, 1)", "[0, 1)", "(x-1)(x+1)", "B", "0.25", "2, 1", "3 or 4", "x"]
        ),
    ),
    min_size=4,
    max_size=12,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs, st.randoms(use_true_random=False))
def test_order_and_threads_do_not_change_results(items: list[tuple[str, str]], rnd: random.Random) -> None:
    samples = [Sample(f"\\boxed{{{p}}}", reference=g) for g, p in items]
    first = [VERIFIER.score(s).verdict for s in samples]
    order = list(range(len(samples)))
    rnd.shuffle(order)
    shuffled = dict(zip(order, (s.verdict for s in VERIFIER.score_batch([samples[i] for i in order]))))
    assert [shuffled[i] for i in range(len(samples))] == first
    with ThreadPoolExecutor(8) as ex:
        threaded = list(ex.map(lambda s: VERIFIER.score(s).verdict, samples))
    assert threaded == first
