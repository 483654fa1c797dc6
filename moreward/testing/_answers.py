"""Hypothesis strategies for answers: one number in equivalent forms, and LaTeX answers of each kind.

Re-exported by :mod:`moreward.testing.strategies`; import them from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "LATEX_KINDS",
    "NUMBER_FORMS",
    "LatexAnswer",
    "NumberForms",
    "equivalent_numbers",
    "equivalent_pairs",
    "latex_answers",
    "number_forms",
    "plain_decimal",
]

# ---------------------------------------------------------------------------------------------
# Equivalent forms of one number

NUMBER_FORMS: tuple[str, ...] = ("fraction", "decimal", "percent", "scientific", "latex")


@dataclass(frozen=True)
class NumberForms:
    """One rational number and its textual forms, keyed by :data:`NUMBER_FORMS`."""

    value: Fraction
    forms: dict[str, str]

    @property
    def texts(self) -> list[str]:
        """The forms, in :data:`NUMBER_FORMS` order."""
        return list(self.forms.values())


def plain_decimal(d: Decimal) -> str:
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def number_forms(value: Fraction | int | str, *, scale: int = 1) -> dict[str, str]:
    """The forms of ``value``, whose denominator must be of the form 2^a·5^b (so the decimal terminates).

    ``scale`` multiplies numerator and denominator of the fraction forms (``6/8`` for 3/4).

    Example:
        >>> number_forms(Fraction(3, 4))
        {'fraction': '3/4', 'decimal': '0.75', 'percent': '75%', 'scientific': '7.5e-1', 'latex': '\\\\frac{3}{4}'}
    """
    v = Fraction(value)
    q = v.denominator
    for p in (2, 5):
        while q % p == 0:
            q //= p
    if q != 1:
        raise ValueError(f"{v} has no terminating decimal form")
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    d = Decimal(v.numerator) / Decimal(v.denominator)
    num, den = abs(v.numerator) * scale, v.denominator * scale
    sign = "-" if v < 0 else ""
    sci = format(d.normalize(), "e").replace("e+", "e")
    return {
        "fraction": f"{sign}{num}/{den}",
        "decimal": plain_decimal(d),
        "percent": plain_decimal(d * 100) + "%",
        "scientific": sci,
        "latex": f"{sign}\\frac{{{num}}}{{{den}}}",
    }


def equivalent_numbers(
    *,
    kinds: Sequence[str] = NUMBER_FORMS,
    allow_negative: bool = True,
    max_numerator: int = 10_000,
) -> st.SearchStrategy[NumberForms]:
    """A :class:`NumberForms`: a rational with a terminating decimal (denominator 2^a·5^b,
    |numerator| <= ``max_numerator``), in the forms ``kinds`` (default: all of :data:`NUMBER_FORMS`)."""
    unknown = [k for k in kinds if k not in NUMBER_FORMS]
    if unknown or not kinds:
        raise ValueError(f"unknown number form(s) {unknown}; allowed: {', '.join(NUMBER_FORMS)}")
    return _equivalent_numbers(tuple(kinds), allow_negative, max_numerator)


@st.composite
def _equivalent_numbers(
    draw: st.DrawFn, kinds: tuple[str, ...], allow_negative: bool, max_numerator: int
) -> NumberForms:
    den = 2 ** draw(st.integers(0, 4)) * 5 ** draw(st.integers(0, 3))
    num = draw(st.integers(-max_numerator if allow_negative else 0, max_numerator))
    scale = draw(st.sampled_from((1, 1, 1, 2, 3)))
    value = Fraction(num, den)
    forms = number_forms(value, scale=scale)
    return NumberForms(value, {k: forms[k] for k in kinds})


def equivalent_pairs(**kwargs: Any) -> st.SearchStrategy[tuple[str, str]]:
    """Two different forms of one number, e.g. ``("3/4", "75%")``."""

    @st.composite
    def pairs(draw: st.DrawFn) -> tuple[str, str]:
        n = draw(equivalent_numbers(**kwargs))
        kinds = list(n.forms)
        a = draw(st.sampled_from(kinds))
        b = draw(st.sampled_from([k for k in kinds if k != a] or kinds))
        return n.forms[a], n.forms[b]

    return pairs()


# ---------------------------------------------------------------------------------------------
# LaTeX answers of each kind

LATEX_KINDS: tuple[str, ...] = (
    "integer",
    "fraction",
    "decimal",
    "sqrt",
    "pi",
    "power",
    "polynomial",
    "equation",
    "interval",
    "set",
    "tuple",
    "matrix",
    "text",
    "percent",
    "degrees",
    "infinity",
    "choice",
)


@dataclass(frozen=True)
class LatexAnswer:
    """A LaTeX answer of one ``kind`` and a plain (sympy-like or literal) form of the same answer."""

    kind: str
    latex: str
    plain: str

    @property
    def boxed(self) -> str:
        """The answer as ``\\boxed{...}``."""
        return f"\\boxed{{{self.latex}}}"


_small = st.integers(1, 20)
_int = st.integers(-1000, 1000)


@st.composite
def _latex_of(draw: st.DrawFn, kind: str) -> LatexAnswer:
    if kind == "integer":
        n = draw(_int)
        return LatexAnswer(kind, str(n), str(n))
    if kind == "fraction":
        a, b = draw(_small), draw(st.integers(2, 30))
        sign = draw(st.sampled_from(("", "-")))
        return LatexAnswer(kind, f"{sign}\\frac{{{a}}}{{{b}}}", f"{sign}{a}/{b}")
    if kind == "decimal":
        text = plain_decimal(
            Decimal(draw(st.integers(-99999, 99999))) / Decimal(10 ** draw(st.integers(1, 3)))
        )
        return LatexAnswer(kind, text, text)
    if kind == "sqrt":
        a, b = draw(st.integers(2, 9)), draw(st.sampled_from((2, 3, 5, 6, 7, 10)))
        return LatexAnswer(kind, f"{a}\\sqrt{{{b}}}", f"{a}*sqrt({b})")
    if kind == "pi":
        a, b = draw(_small), draw(st.integers(2, 12))
        return LatexAnswer(kind, f"\\frac{{{a}\\pi}}{{{b}}}", f"{a}*pi/{b}")
    if kind == "power":
        a, b = draw(st.integers(2, 9)), draw(st.integers(2, 12))
        return LatexAnswer(kind, f"{a}^{{{b}}}", f"{a}**{b}")
    if kind == "polynomial":
        a, b, c = draw(_small), draw(_small), draw(_small)
        return LatexAnswer(kind, f"{a}x^{{2}} + {b}x - {c}", f"{a}*x**2 + {b}*x - {c}")
    if kind == "equation":
        var, n = draw(st.sampled_from("xyzn")), draw(_int)
        return LatexAnswer(kind, f"{var} = {n}", f"{var} = {n}")
    if kind == "interval":
        a = draw(st.integers(-50, 50))
        b = a + draw(_small)
        lo, hi = draw(st.sampled_from("[(")), draw(st.sampled_from("])"))
        return LatexAnswer(kind, f"{lo}{a}, {b}{hi}", f"{lo}{a}, {b}{hi}")
    if kind == "set":
        items = sorted(draw(st.sets(st.integers(-20, 20), min_size=1, max_size=5)))
        body = ", ".join(map(str, items))
        return LatexAnswer(kind, f"\\{{{body}\\}}", f"{{{body}}}")
    if kind == "tuple":
        items = draw(st.lists(_int, min_size=2, max_size=3))
        body = ", ".join(map(str, items))
        return LatexAnswer(kind, f"({body})", f"({body})")
    if kind == "matrix":
        rows = draw(st.lists(st.lists(st.integers(-9, 9), min_size=2, max_size=2), min_size=2, max_size=2))
        latex = " \\\\ ".join(" & ".join(map(str, r)) for r in rows)
        return LatexAnswer(kind, f"\\begin{{pmatrix}} {latex} \\end{{pmatrix}}", f"Matrix({rows})")
    if kind == "text":
        word = draw(st.sampled_from(("yes", "no", "true", "false", "Paris", "even", "odd", "none")))
        return LatexAnswer(kind, f"\\text{{{word}}}", word)
    if kind == "percent":
        n = draw(st.integers(0, 100))
        return LatexAnswer(kind, f"{n}\\%", f"{n}%")
    if kind == "degrees":
        n = draw(st.integers(0, 360))
        return LatexAnswer(kind, f"{n}^\\circ", f"{n}")
    if kind == "infinity":
        sign = draw(st.sampled_from(("", "-")))
        return LatexAnswer(kind, f"{sign}\\infty", f"{sign}oo")
    if kind == "choice":
        letter = draw(st.sampled_from("ABCDE"))
        return LatexAnswer(kind, f"\\text{{({letter})}}", letter)
    raise ValueError(f"unknown LaTeX answer kind {kind!r}; allowed: {', '.join(LATEX_KINDS)}")


def latex_answers(kinds: Sequence[str] = LATEX_KINDS) -> st.SearchStrategy[LatexAnswer]:
    """A :class:`LatexAnswer` of one of ``kinds`` (default: every kind in :data:`LATEX_KINDS`)."""
    unknown = [k for k in kinds if k not in LATEX_KINDS]
    if unknown or not kinds:
        raise ValueError(f"unknown LaTeX answer kind(s) {unknown}; allowed: {', '.join(LATEX_KINDS)}")
    return st.sampled_from(tuple(kinds)).flatmap(_latex_of)
