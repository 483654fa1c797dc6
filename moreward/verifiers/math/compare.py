"""The sympy engine and the worker job (runs in a hard-deadline worker, never in the caller).

Leaves are parsed with latex2sympy2_extended after our own clean-up (exact decimals,
mixed numbers, ``2(3)`` as a product, ``\\mathrm{i}``/``\\mathrm{e}``), and compared:

* numbers without symbols: exactly when both are rational (no chopped floats), else
  to 45 significant digits after a size guard (no power towers or huge factorials are
  ever evaluated);
* expressions: same variables, then agreement at fixed random points (a
  deterministic identity test), with ``simplify`` as the fallback;
* equations: one side minus the other is a non-zero constant multiple of the
  gold's (``3x+4y+14=0`` and ``-6x-8y=28``); inequalities likewise with a positive
  constant.

A formula that fails to parse is never mined for a number: the answer is FAIL (or,
for the gold, SKIP).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

import sympy
from latex2sympy2_extended import latex2sympy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig

from . import fastpath, latexparse
from .fastpath import decimal_places, numbers_equal, rounds_to
from .match import Decision, Policy, match
from .structure import Bad, Node, Relation, Scalar, answer_hints, iter_leaves, parse_answer, parse_gold

__all__ = ["SympyEngine", "compare_texts", "to_expr"]

MAX_LOG2 = fastpath.MAX_LOG2
PRECISION = 50
_CONV = ConversionConfig(interpret_as_mixed_fractions=False)

_DECIMAL_RE = re.compile(r"(?<![\d.])(\d+)\.(\d+)(?![\d.])")
_MIXED_RE = re.compile(r"(?<![\d.}^_])(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}")
_IMPLICIT_PAREN_RE = re.compile(r"(\d)\s*\(")
_UPRIGHT_CONST_RE = re.compile(r"\\(?:mathrm|text|textrm|operatorname)\{\s*([ei])\s*\}")
_COMPLEX_RE = re.compile(r"(?<![a-zA-Z\\])i(?![a-zA-Z])|\\mathrm\{i\}|\\text\{i\}|\\imath|\\mathbb\{C\}")


class TooLarge(Exception):
    """A number too large to evaluate safely."""


def is_complex_text(s: str) -> bool:
    """Whether ``i`` in ``s`` reads as the imaginary unit."""
    return bool(_COMPLEX_RE.search(s))


def _exact_decimal(m: re.Match[str]) -> str:
    """``2.25`` -> ``(\\frac{225}{100})``: latex2sympy would make a 15-digit Float."""
    digits = m.group(1) + m.group(2)
    return "(\\frac{" + digits + "}{1" + "0" * len(m.group(2)) + "})"


def _prepare(text: str) -> str:
    s = _UPRIGHT_CONST_RE.sub(r"\1", text)
    s = s.replace(r"\imath", "i").replace(r"\ln", r"\ln ").replace(r"\exp", "e^")
    s = _MIXED_RE.sub(r"(\1+\\frac{\2}{\3})", s)
    s = _DECIMAL_RE.sub(_exact_decimal, s)
    s = _IMPLICIT_PAREN_RE.sub(r"\1\\cdot(", s)
    return s


try:  # latex2sympy builds every number with sympy.Number(str), which runs the whole expression parser
    from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy

    class _Converter(_Latex2Sympy):  # type: ignore[misc]
        def parse_number(self, text: str) -> Any:
            digits = text.replace(",", "")
            if digits.isdigit():
                return sympy.Integer(int(digits))
            return super().parse_number(text)

    def _latex2sympy(text: str, is_real: bool) -> Any:
        return _Converter(None, is_real, True, config=_CONV).parse(text)

except (ImportError, AttributeError, TypeError):  # pragma: no cover - a future latex2sympy2_extended

    def _latex2sympy(text: str, is_real: bool) -> Any:
        return latex2sympy(
            text, is_real=is_real, convert_degrees=True, normalization_config=None, conversion_config=_CONV
        )


@lru_cache(maxsize=4096)
def _to_expr_cached(text: str, complex_mode: bool) -> tuple[Any, str]:
    try:
        expr = _latex2sympy(_prepare(text), not complex_mode)
    except Exception as exc:
        return None, str(exc).split("\n")[0][:80] or type(exc).__name__
    if isinstance(expr, sympy.MatrixBase) or not isinstance(expr, sympy.Expr):
        return None, f"not a single value ({type(expr).__name__})"
    if complex_mode:
        expr = expr.subs({s: sympy.I for s in expr.free_symbols if s.name == "i"})
    return expr, ""


_SYMPY_FUNCS: dict[str, Any] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "exp": sympy.exp,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
}


def to_sympy(node: Any, complex_mode: bool) -> Any:
    """Build the sympy expression of a :mod:`.latexparse` AST, as latex2sympy would."""
    op = node[0]
    if op == "n":
        return sympy.Rational(node[1].numerator, node[1].denominator)
    if op == "v":
        return sympy.Symbol(node[1], real=not complex_mode)
    if op == "c":
        if node[1] == "i":
            return sympy.I if complex_mode else sympy.Symbol("i", real=True)
        return sympy.pi if node[1] == "pi" else sympy.E
    if op == "neg":
        return -to_sympy(node[1], complex_mode)
    if op in ("+", "-", "*", "/", "^"):
        a, b = to_sympy(node[1], complex_mode), to_sympy(node[2], complex_mode)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if a == sympy.E:
            return sympy.exp(b)
        return sympy.Pow(a, b, evaluate=False)
    if op == "f":
        arg = to_sympy(node[2], complex_mode)
        if node[1] == "fact":
            return sympy.factorial(arg, evaluate=False)
        if node[1] == "ln":
            return sympy.log(arg)
        return _SYMPY_FUNCS[node[1]](arg)
    if op == "root":
        return sympy.Pow(to_sympy(node[2], complex_mode), 1 / to_sympy(node[1], complex_mode), evaluate=False)
    if op == "log":
        base = sympy.Integer(10) if node[1] is None else to_sympy(node[1], complex_mode)
        return sympy.log(to_sympy(node[2], complex_mode), base)
    if op == "binom":
        return sympy.binomial(
            to_sympy(node[1], complex_mode), to_sympy(node[2], complex_mode), evaluate=False
        )
    raise ValueError(f"unknown node {op!r}")


@lru_cache(maxsize=4096)
def _fast_expr(text: str, complex_mode: bool) -> Any:
    node = latexparse.parse(text)
    if node is None or fastpath.log2_bound(node) > MAX_LOG2:
        return None
    try:
        return to_sympy(node, complex_mode)
    except (ValueError, TypeError, ZeroDivisionError, RecursionError):
        return None


def to_expr(text: str, complex_mode: bool = False) -> sympy.Expr:
    """Parse one leaf to a sympy expression; raises ValueError with the parser's reason.

    The bounded parser of :mod:`.latexparse` reads the common forms quickly; anything
    else goes to latex2sympy2_extended.
    """
    expr = _fast_expr(text, complex_mode)
    if expr is not None:
        return expr
    expr, err = _to_expr_cached(text, complex_mode)
    if expr is None:
        raise ValueError(err)
    return expr


# --------------------------------------------------------------------------- size guard


def _log2(e: Any, budget: list[int]) -> float:
    """An upper bound of log2(|e| + 2) for a numeric expression; inf when unbounded or unknown."""
    budget[0] -= 1
    if budget[0] < 0:
        return math.inf
    if e.is_Rational:
        return float(max(int(e.p).bit_length(), int(e.q).bit_length()) + 1)
    if e.is_Float:
        try:
            return math.log2(abs(float(e)) + 2)
        except OverflowError:
            return math.inf
    if e.is_NumberSymbol or e is sympy.I or e.is_Symbol or e in (sympy.oo, -sympy.oo, sympy.zoo):
        return 2.0
    if e.is_Pow:
        base = _log2(e.args[0], budget)
        ex = e.args[1]
        if ex.is_Rational:
            mag = abs(Fraction(int(ex.p), int(ex.q)))
            return base * max(1.0, float(mag)) if mag < 10**12 else math.inf
        exb = _log2(ex, budget)
        if exb > 60:
            return math.inf if base > 1.5 else base
        return base * (2.0**exb)
    if isinstance(e, (sympy.factorial, sympy.gamma)):
        arg = e.args[0]
        if arg.is_Integer:
            n = abs(int(arg)) if abs(arg) < 10**9 else 10**9
        else:
            nb = _log2(arg, budget)
            if nb > 40:
                return math.inf
            n = int(2.0**nb)
        return float(n * max(1.0, math.log2(n + 1)) + 2)
    children = [_log2(a, budget) for a in e.args]
    if not children:
        return 2.0
    if e.is_Mul:
        return sum(children)
    return max(children) + len(children)


def guard(e: Any) -> None:
    """Raise :class:`TooLarge` for an expression whose value may have too many digits to compute."""
    if _log2(e, [20_000]) > MAX_LOG2:
        raise TooLarge


# --------------------------------------------------------------------------- numbers


def _fraction(e: Any) -> Fraction | None:
    """The exact value of a numeric expression when it is rational (after ``doit``), else None."""
    try:
        v = e if e.is_Rational else e.doit()
        if v.is_Rational:
            return Fraction(int(v.p), int(v.q))
    except (TypeError, ValueError, ZeroDivisionError, AttributeError):
        return None
    return None


class _Num:
    """A complex value kept as two high-precision sympy Floats (Python floats lose digits)."""

    __slots__ = ("im", "re")

    def __init__(self, re_: Any, im_: Any) -> None:
        self.re, self.im = sympy.Float(re_, PRECISION), sympy.Float(im_, PRECISION)

    def close(self, other: _Num, rel: float) -> bool:
        d = abs(self.re - other.re) + abs(self.im - other.im)
        scale = max(abs(self.re) + abs(self.im), abs(other.re) + abs(other.im))
        if scale == 0:
            return bool(d == 0)
        return bool(d <= sympy.Float(rel, PRECISION) * scale)

    @property
    def real(self) -> bool:
        return bool(abs(self.im) <= sympy.Float(1e-40, PRECISION) * (abs(self.re) + 1))


def _numeric(e: Any, n: int = PRECISION) -> _Num | None:
    """``e`` evaluated to ``n`` digits, or None when it is not a finite number."""
    try:
        v = sympy.N(e, n)
        if v.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            return None
        re_, im_ = v.as_real_imag()
        if not (re_.is_Number and im_.is_Number):
            return None
        return _Num(re_, im_)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, OverflowError):
        return None


class SympyEngine:
    """Decides every leaf comparison with sympy (see the module docstring)."""

    def __init__(self, policy: Policy, complex_mode: bool) -> None:
        self.policy = policy
        self.complex_mode = complex_mode

    # leaves -----------------------------------------------------------------
    def scalar(self, g: Scalar, p: Scalar) -> Decision:
        try:
            ge = to_expr(g.text, self.complex_mode)
        except ValueError as exc:
            return None, f"unreadable gold: {exc}"
        try:
            pe = to_expr(p.text, self.complex_mode)
        except ValueError as exc:
            return False, f"unreadable answer: {exc}"
        return self._exprs(ge, pe, g, p)

    def _exprs(self, ge: Any, pe: Any, g: Scalar, p: Scalar) -> Decision:
        if ge == pe and g.pct == p.pct:
            return True, "identical expression"
        try:
            guard(ge)
            guard(pe)
        except TooLarge:
            return False, "too large to evaluate (and not written identically)"
        if ge.free_symbols or pe.free_symbols:
            return self._identity(ge, pe)
        if g.deg != p.deg and (ge.has(sympy.pi) or pe.has(sympy.pi)):
            if g.deg:
                ge = ge * sympy.pi / 180
            else:
                pe = pe * sympy.pi / 180
            return self._numbers(ge, pe, Scalar(""), Scalar(""))
        return self._numbers(ge, pe, g, p)

    def _numbers(self, ge: Any, pe: Any, g: Scalar, p: Scalar) -> Decision:
        gf, pf = _fraction(ge), _fraction(pe)
        if gf is not None and pf is not None:
            ok = numbers_equal(gf, pf, g_text=g.text, p_text=p.text, g_pct=g.pct, p_pct=p.pct)
            return ok, "exact rational"
        g_cands = [ge] + ([ge / 100] if g.pct and not p.pct else [])
        p_cands = [pe] + ([pe / 100] if p.pct and not g.pct else [])
        g_dec = decimal_places(g.text) if g.text else None
        p_dec = decimal_places(p.text) if p.text else None
        for a in g_cands:
            av = _numeric(a)
            for b in p_cands:
                bv = _numeric(b)
                if av is None or bv is None:
                    try:
                        if sympy.simplify(a - b) == 0:
                            return True, "simplify"
                    except Exception:
                        pass
                    continue
                if av.close(bv, 1e-45):
                    return True, "numeric (45 digits)"
                if (
                    p_dec is not None
                    and g_dec is None
                    and self.policy.approx_irrational
                    and p_dec[1] >= 3
                    and av.real
                ):
                    if rounds_to(Fraction(str(av.re)), Fraction(p.text.replace(" ", "")), p_dec[0]):
                        return True, "decimal approximation"
                if g_dec is not None and p_dec is None and g_dec[1] >= 2 and bv.real:
                    if rounds_to(Fraction(str(bv.re)), Fraction(g.text.replace(" ", "")), g_dec[0]):
                        return True, "decimal gold approximates exact answer"
        return False, "different value"

    @staticmethod
    def _points(symbols: list[Any]) -> list[dict[Any, Any]]:
        """The shared test points (:func:`.fastpath.probe_points`), keyed by the sympy symbols."""
        by_name = {s.name: s for s in symbols}
        return [
            {by_name[n]: sympy.Rational(v.numerator, v.denominator) for n, v in pt.items()}
            for pt in fastpath.probe_points([s.name for s in symbols])
        ]

    def _identity(self, ge: Any, pe: Any) -> Decision:
        """Equal as functions of their variables (a variable in one only must cancel out)."""
        by_name: dict[str, Any] = {}
        for s in sorted(ge.free_symbols | pe.free_symbols, key=lambda s: (s.name, str(s.assumptions0))):
            by_name.setdefault(s.name, s)
        symbols = [by_name[k] for k in sorted(by_name)]
        ge = ge.subs({s: by_name[s.name] for s in ge.free_symbols if by_name[s.name] != s})
        pe = pe.subs({s: by_name[s.name] for s in pe.free_symbols if by_name[s.name] != s})
        agree = 0
        for k, pt in enumerate(self._points(symbols)):
            a, b = _numeric(ge.subs(pt), 30), _numeric(pe.subs(pt), 30)
            if a is None or b is None:
                continue
            if a.close(b, 1e-20):
                if k < fastpath.POSITIVE_POINTS:
                    agree += 1
                continue
            if k < fastpath.POSITIVE_POINTS or (a.real and b.real):
                return False, "differs at a test point"
        if agree >= 3:
            return True, "identity (agrees at test points)"
        try:
            if sympy.simplify(ge - pe) == 0:
                return True, "simplify"
        except Exception:
            pass
        return False, "not shown equal"

    def relation(self, g: Relation, p: Relation) -> Decision:
        if g.op != p.op:
            return False, f"different relation ({p.op} for {g.op})"
        try:
            gd = to_expr(g.lhs, self.complex_mode) - to_expr(g.rhs, self.complex_mode)
        except ValueError as exc:
            return None, f"unreadable gold: {exc}"
        try:
            pd = to_expr(p.lhs, self.complex_mode) - to_expr(p.rhs, self.complex_mode)
        except ValueError as exc:
            return False, f"unreadable answer: {exc}"
        try:
            guard(gd)
            guard(pd)
        except TooLarge:
            return False, "too large to evaluate"
        gs = {s.name for s in gd.free_symbols}
        if gs != {s.name for s in pd.free_symbols} or not gs:
            return False, "different variables"
        symbols = sorted(gd.free_symbols, key=lambda s: s.name)
        pmap = {s.name: s for s in pd.free_symbols}
        pd = pd.subs({pmap[s.name]: s for s in symbols if pmap[s.name] != s})
        ratios = []
        for pt in self._points(symbols)[: fastpath.POSITIVE_POINTS]:
            r = self._ratio(_numeric(gd.subs(pt), 30), _numeric(pd.subs(pt), 30))
            if r is not None:
                ratios.append(r)
        if len(ratios) < 3:
            return False, "could not compare the equations"
        r0 = ratios[0]
        if r0 == 0 or any(abs(r - r0) > sympy.Float(1e-18, 30) * abs(r0) for r in ratios[1:]):
            return False, "not an equivalent equation"
        if g.op in ("<", "<=") and r0 < 0:
            return False, "inequality reversed"
        return True, "equivalent equation (proportional)"

    @staticmethod
    def _ratio(a: _Num | None, b: _Num | None) -> Any:
        if a is None or b is None or not (a.real and b.real) or b.re == 0:
            return None
        return a.re / b.re


def _gold_problem(node: Node, complex_mode: bool) -> str | None:
    if isinstance(node, Bad):
        return node.reason
    for leaf in iter_leaves(node):
        try:
            e = to_expr(leaf, complex_mode)
        except ValueError as exc:
            return f"cannot parse {leaf!r}: {exc}"
        del e
    return None


def compare_texts(gold: str, pred: str, policy: Policy | None = None) -> tuple[str, str]:
    """Compare one extracted answer with one gold (both strings): ``(verdict, rule)``.

    ``verdict`` is ``"pass"``, ``"fail"`` or ``"skip"`` (the gold cannot be understood).
    This is what a worker runs; it is also safe to call directly where a hang is acceptable.
    """
    policy = policy or Policy()
    g = parse_gold(gold)
    problem = _gold_problem(g, is_complex_text(gold))
    if problem is not None:
        return "skip", f"gold not understood: {problem}"
    p = parse_answer(pred, **answer_hints(g))
    complex_mode = is_complex_text(gold) or is_complex_text(pred)
    try:
        ok, rule = match(g, p, SympyEngine(policy, complex_mode), policy)
    except RecursionError:
        return "fail", "answer nested too deeply"
    if ok is None:
        return "fail", f"undecided: {rule}"
    return ("pass" if ok else "fail"), rule
