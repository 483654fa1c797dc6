"""Clean-up, answer trees, exact rationals and the bounded LaTeX parser."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from moreward.verifiers.math import fastpath, latexparse
from moreward.verifiers.math.fastpath import numbers_equal, rational, rounds_to
from moreward.verifiers.math.normalize import choice_letter, clean, split_top, strip_decorations, text_answer
from moreward.verifiers.math.structure import (
    Assign,
    Bad,
    Choice,
    Ineq,
    Interval,
    Matrix,
    Relation,
    Scalar,
    Seq,
    Text,
    Union,
    parse_answer,
    parse_gold,
)


@pytest.mark.parametrize(
    "raw,cleaned",
    [
        ("\\frac12", "\\frac{1}{2}"),
        ("\\dfrac{9}{7}.", "\\frac{9}{7}"),
        ("4\\sqrt(2)", "4\\sqrt{2}"),
        ("sqrt(2)/2", "\\sqrt{2}/2"),
        ("pi/2", "\\pi/2"),
        ("-1 + exp(16)", "-1 + e^{16}"),
        ("1.5e3", "1.5\\times 10^{3}"),
        ("1{,}000", "1000"),
        ("1\\,000", "1000"),
        ("**73**", "73"),
        ("x**2+1", "x^{2}+1"),
        ("\\left( 1, 2 \\right]", "( 1, 2 ]"),
        ("\\text{13}", "13"),
        ("\\langle 1, 2\\rangle", "( 1, 2)"),
        ("The final answer is 5. I hope it is correct.", "The final answer is 5"),
        (
            "\\begin{pmatrix} 0 & 1 \\\\ 8 & -5 \\end{pmatrix}",
            "\\begin{pmatrix} 0 & 1 \\\\ 8 & -5 \\end{pmatrix}",
        ),
    ],
)
def test_clean(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


def test_split_top() -> None:
    assert split_top("1, 2 or 3") == (["1", "2", "3"], True)
    assert split_top("(1, 2), [3, 4)") == (["(1, 2)", "[3, 4)"], False)
    assert split_top("\\{1,2\\}, \\frac{1,000}{3}") == (["\\{1,2\\}", "\\frac{1,000}{3}"], False)
    assert split_top("x = 1 and y = 2") == (["x = 1", "y = 2"], False)
    assert split_top("random") == (["random"], False)  # "and" inside a word is not a separator


@pytest.mark.parametrize(
    "raw,text,flag",
    [
        ("25\\%", "25", "pct"),
        ("25 percent", "25", "pct"),
        ("30^\\circ", "30", "deg"),
        ("30^{\\circ}", "30", "deg"),
        ("30 degrees", "30", "deg"),
        ("\\$18.50", "18.50", "currency"),
        ("18 dollars", "18", "currency"),
        ("5\\text{ cm}^2", "5", "unit"),
        ("12 square units", "12", "unit"),
        ("10 m", "10", "unit"),
        ("\\sin 30^\\circ", "\\sin 30^\\circ", ""),  # degrees inside a function stay
        ("3+4\\mathrm{i}", "3+4\\mathrm{i}", ""),  # i is not a unit
    ],
)
def test_strip_decorations(raw: str, text: str, flag: str) -> None:
    got, deco = strip_decorations(raw)
    assert got == text
    if flag:
        assert getattr(deco, flag)


def test_text_and_choice() -> None:
    assert text_answer("\\text{Monday}") == "monday"
    assert text_answer("\\textbf{No Solution}") == "no solution"
    assert text_answer("x+1") is None and text_answer("\\frac{a}{b}") is None and text_answer("sin") is None
    for s in ("C", "(C)", "\\text{(C)}", "\\textbf{(C)}", "C. 12", "(C) 12", "**C**", "Option C"):
        assert choice_letter(s) == "C", s
    assert choice_letter("e", strict=True) is None and choice_letter("(e)", strict=True) == "E"


@pytest.mark.parametrize(
    "answer,node",
    [
        ("3", Scalar("3")),
        ("25\\%", Scalar("25", pct=True)),
        ("x = 3", Assign("x", Scalar("3"))),
        ("2 + 3 = 5", Scalar("5")),
        ("[1, 2)", Interval(Scalar("1"), Scalar("2"), False, True)),
        ("x \\ge 3", Ineq("x", Interval(Scalar("3"), Scalar("\\infty"), False, True))),
        ("1 < x \\le 2", Ineq("x", Interval(Scalar("1"), Scalar("2"), True, False))),
        ("\\{1, 2\\}", Seq("set", (Scalar("1"), Scalar("2")))),
        ("(1, 2)", Seq("tuple", (Scalar("1"), Scalar("2")))),
        ("1 or 2", Seq("list", (Scalar("1"), Scalar("2")), True)),
        ("2 \\pm \\sqrt{3}", Seq("pm", (Scalar("2+(\\sqrt{3})"), Scalar("2-(\\sqrt{3})")))),
        ("3x + 4y = 0", Relation("=", "3x + 4y", "0")),
        ("x > y", Relation("<", "y", "x")),
        ("\\text{Monday}", Text("monday")),
        ("\\emptyset", Seq("set", ())),
        (
            "(-\\infty, 1) \\cup (2, \\infty)",
            Union(
                (
                    Interval(Scalar("-\\infty"), Scalar("1"), True, True),
                    Interval(Scalar("2"), Scalar("\\infty"), True, True),
                )
            ),
        ),
        (
            "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
            Matrix(((Scalar("1"), Scalar("2")), (Scalar("3"), Scalar("4")))),
        ),
    ],
)
def test_parse_answer(answer: str, node: object) -> None:
    assert parse_answer(answer) == node


def test_parse_answer_gold_hints() -> None:
    assert parse_answer("1,000", scalar_gold=True) == Scalar("1000")
    assert isinstance(parse_answer("1,000", scalar_gold=False), Seq)
    assert parse_answer("0,5", decimal_comma=True) == Scalar("0.5")
    assert parse_answer("(C)", choices=True) == Choice("C")
    assert parse_gold("\\text{(B)}") == Choice("B")
    assert isinstance(parse_answer("\\forall x, f(x) = 0"), Bad)
    assert isinstance(parse_answer("{" * 500 + "1" + "}" * 500), Bad)


@pytest.mark.parametrize(
    "text,value",
    [
        ("\\frac{1}{2^{99}}", Fraction(1, 2**99)),
        ("-3\\frac{1}{2}", Fraction(-7, 2)),
        ("1.5\\times 10^{3}", Fraction(1500)),
        ("2(3)", Fraction(6)),
        ("0.1+0.2", Fraction(3, 10)),
        ("2^{2^{2}}", Fraction(16)),
        ("\\sqrt{2}", None),
        ("2^10", None),  # left to the full parser
        ("9999999999^{9999999999}", None),
        ("2^{2^{2^{2^{2^{2}}}}}", None),
        ("\\frac{1}{0}", None),
    ],
)
def test_rational(text: str, value: Fraction | None) -> None:
    start = time.perf_counter()
    assert rational(text) == value
    assert time.perf_counter() - start < 0.5


def test_number_rules() -> None:
    third = Fraction(1, 3)
    assert numbers_equal(third, Fraction(333, 1000), p_text="0.333")
    assert not numbers_equal(third, Fraction(33, 100), p_text="0.33")  # too few digits for a prediction
    assert numbers_equal(Fraction(33, 100), third, g_text="0.33")  # a decimal gold is the rounded answer
    assert not numbers_equal(Fraction(1, 4), Fraction(26, 100), p_text="0.26")
    assert numbers_equal(Fraction(9), Fraction(9), p_pct=True) and numbers_equal(
        Fraction(9, 100), Fraction(9), p_pct=True
    )
    assert not numbers_equal(Fraction(9), Fraction(9, 100))
    assert rounds_to(Fraction(2, 3), Fraction(667, 1000), 3) and rounds_to(
        Fraction(2, 3), Fraction(666, 1000), 3
    )
    assert not rounds_to(Fraction(2, 3), Fraction(668, 1000), 3)


LATEX = [
    "\\sin^2 x",
    "\\sin(x)^2",
    "\\ln x + 1",
    "\\log x",
    "\\frac{1}{2}x",
    "xy",
    "2x^2",
    "-x^2",
    "\\sqrt{x}y",
    "|x|+1",
    "|x-1|",
    "x!",
    "(n+1)!",
    "\\binom{n}{3}",
    "A",
    "E",
    "\\Theta",
    "e^x",
    "e^{x}",
    "\\cos\\pi",
    "\\arctan x",
    "\\sec x",
    "3 \\cdot 2",
    "6 \\div 2",
    "2\\pi r",
    "\\pi r^2",
    "(x+1)(x-1)",
    "x^{2}y",
    "\\sqrt[3]{x}",
    "3\\frac{1}{2}",
    "-3\\frac{1}{2}",
    "1.5x",
    "2^{-3}",
    "x^{y^{2}}",
    "\\frac{1+\\sqrt{5}}{2}",
    "\\sqrt{8}/2",
    "\\frac{1}{2}\\frac{1}{3}",
    "[x+1]",
    "\\cos(2x)",
    "\\frac{x+1}{x-1}",
    "\\frac{2006!}{2005!}",
    "\\alpha\\beta",
    "\\frac{1}{\\sqrt{n}}",
    "2e",
    "\\frac{e-1}{e}",
    "|x|",
    "\\sqrt{x^2}",
    "4\\sqrt{2}",
]


@pytest.mark.parametrize("text", LATEX)
def test_bounded_parser_reads_like_latex2sympy(text: str) -> None:
    """Where the bounded parser accepts a string, it means what latex2sympy2_extended means."""
    import sympy

    from moreward.verifiers.math.compare import _to_expr_cached, to_sympy

    node = latexparse.parse(text)
    assert node is not None
    mine = to_sympy(node, False)
    ref, err = _to_expr_cached(text, False)
    assert ref is not None, err
    assert {s.name for s in mine.free_symbols} == {s.name for s in ref.free_symbols}
    names = sorted(s.name for s in mine.free_symbols)
    for point in fastpath.probe_points(names)[:3]:
        subs_m = {
            s: sympy.Rational(point[s.name].numerator, point[s.name].denominator) for s in mine.free_symbols
        }
        subs_r = {
            s: sympy.Rational(point[s.name].numerator, point[s.name].denominator) for s in ref.free_symbols
        }
        diff = sympy.N(mine.subs(subs_m) - ref.subs(subs_r), 30)
        assert abs(diff) < 1e-20


@pytest.mark.parametrize(
    "text", ["a/bc", "1/2x", "\\sin 2x", "\\sin x^2", "f(x)", "a_1", "\\tan^{-1} x", "2^10", "\\infty"]
)
def test_bounded_parser_refuses_ambiguous_forms(text: str) -> None:
    assert latexparse.parse(text) is None


def test_numeric_check_tracks_cancellation() -> None:
    node = latexparse.parse("\\sqrt{2}\\sqrt{2} - 2")
    assert node is not None
    value, scale = fastpath.numeric(node, {})  # type: ignore[misc]
    assert abs(value) < 1e-12 and scale >= 2


N = 19_000
LONG = {
    "spaces": "5" + " " * N + "cm",
    "words": "5 " + "a " * (N // 2),
    "text-open": "5 " + "\\text{a " * (N // 8),
    "commas": ",".join("1" for _ in range(N // 2)),
    "ors": " or ".join("1" for _ in range(N // 5)),
    "percent": "5" + "\\%" * (N // 2),
    "degrees": "5" + "^\\circ" * (N // 6),
    "relations": "x" + "<x" * (N // 2),
    "unions": "\\cup".join("(1,2)" for _ in range(N // 9)),
    "matrix": "\\begin{pmatrix}" + "&".join("1" for _ in range(N // 2 - 20)) + "\\end{pmatrix}",
}


@pytest.mark.parametrize("name", list(LONG))
def test_long_answers_parse_in_linear_time(name: str) -> None:
    """No regular expression here backtracks quadratically on a long answer."""
    start = time.perf_counter()
    parse_answer(LONG[name])
    parse_answer(LONG[name], choices=True)
    assert time.perf_counter() - start < 2.0
