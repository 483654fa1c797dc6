"""Evaluating answers in the caller's process, exactly or in floats, with hard size caps.

All of it works on the AST of :mod:`.latexparse` and never builds a big number:

* :func:`rational` / :func:`exact` evaluate integers, decimals, ``a/b``, ``\\frac{a}{b}``,
  mixed numbers, ``+ - * / ^`` and brackets to a :class:`fractions.Fraction`, and give
  up (None) on anything else: symbols, roots, constants, functions, and any intermediate
  result with more than :data:`MAX_BITS` bits. Giving up is always safe: the comparison
  then goes to a worker under the hard deadline. So ``1/2^{99}`` and ``1/2^{98}`` are
  told apart exactly and ``9999999999^{9999999999}`` never runs here.
* :func:`numeric` evaluates in Python complex floats at one of the shared test
  points (:func:`probe_points`), and reports the largest intermediate magnitude, so the caller can
  say "clearly different" without being fooled by cancellation.
* :func:`log2_bound` bounds the size of a value before anyone evaluates it.

The number comparison rules (percent, decimals against fractions) live here too and
are shared with the sympy engine, so both read numbers the same way.
"""

from __future__ import annotations

import cmath
import math
import re
from fractions import Fraction
from typing import Any

from .latexparse import Ast, parse

__all__ = [
    "MAX_LOG2",
    "POSITIVE_POINTS",
    "decimal_places",
    "exact",
    "log2_bound",
    "numbers_equal",
    "numeric",
    "probe_points",
    "rational",
    "rounds_to",
]

MAX_BITS = 16_384
"""No intermediate fraction of the exact evaluator has more bits than this."""
MAX_LOG2 = 1_000_000
"""Numbers above 2**MAX_LOG2 (about 300,000 digits) are never evaluated, anywhere."""


# Test points shared by the caller's quick check and the worker's identity test: every
# variable (sorted by name) gets the next value of the cycle, positive points first.
_VALUES = ((13, 7), (29, 11), (5, 17), (41, 13), (7, 3))
POSITIVE_POINTS = 5


def probe_points(names: list[str]) -> list[dict[str, Fraction]]:
    """The test points for these variable names: 5 positive ones, then 2 negative ones."""
    pts = []
    for k in range(POSITIVE_POINTS):
        pts.append({n: Fraction(*_VALUES[(k + i) % len(_VALUES)]) for i, n in enumerate(names)})
    for k in range(2):
        pts.append({n: -Fraction(*_VALUES[(k + 2 * i + 1) % len(_VALUES)]) for i, n in enumerate(names)})
    return pts


class NotRational(Exception):
    """Raised inside :func:`exact` for anything that is not a (small enough) rational."""


def _check(x: Fraction) -> Fraction:
    if x.numerator.bit_length() > MAX_BITS or x.denominator.bit_length() > MAX_BITS:
        raise NotRational
    return x


def _exact(x: Ast) -> Fraction:
    op = x[0]
    if op == "n":
        return x[1]  # type: ignore[no-any-return]
    if op == "neg":
        return -_exact(x[1])
    if op in ("+", "-", "*", "/"):
        a, b = _exact(x[1]), _exact(x[2])
        if op == "+":
            return _check(a + b)
        if op == "-":
            return _check(a - b)
        if op == "*":
            return _check(a * b)
        if b == 0:
            raise NotRational
        return _check(a / b)
    if op == "^":
        a, e = _exact(x[1]), _exact(x[2])
        if e.denominator != 1:
            raise NotRational
        k = e.numerator
        bits = max(a.numerator.bit_length(), a.denominator.bit_length())
        if abs(k) > 100_000 or bits * abs(k) > MAX_BITS or (a == 0 and k < 0):
            raise NotRational
        return a**k
    raise NotRational


def exact(node: Ast | None) -> Fraction | None:
    """The exact rational value of an AST, or None (symbols, roots, constants, too large)."""
    if node is None:
        return None
    try:
        return _exact(node)
    except (NotRational, RecursionError, ZeroDivisionError, OverflowError):
        return None


_FLOAT_FUNCS: dict[str, Any] = {
    "sin": cmath.sin,
    "cos": cmath.cos,
    "tan": cmath.tan,
    "asin": cmath.asin,
    "acos": cmath.acos,
    "atan": cmath.atan,
    "sinh": cmath.sinh,
    "cosh": cmath.cosh,
    "tanh": cmath.tanh,
    "exp": cmath.exp,
    "sqrt": cmath.sqrt,
    "abs": abs,
}


class _Undefined(Exception):
    pass


def _num(x: Ast, env: dict[str, complex], scale: list[float]) -> complex:
    op = x[0]
    if op == "n":
        v = complex(float(x[1]))
    elif op == "v":
        v = env[x[1]]
    elif op == "c":
        v = {"pi": complex(math.pi), "e": complex(math.e), "i": 1j}[x[1]]
    elif op == "neg":
        v = -_num(x[1], env, scale)
    elif op in ("+", "-", "*", "/", "^"):
        a, b = _num(x[1], env, scale), _num(x[2], env, scale)
        if op == "+":
            v = a + b
        elif op == "-":
            v = a - b
        elif op == "*":
            v = a * b
        elif op == "/":
            if b == 0:
                raise _Undefined
            v = a / b
        else:
            if a == 0 and (b.real <= 0 or b.imag != 0):
                raise _Undefined
            if b.imag == 0 and b.real == int(b.real) and abs(b.real) < 64:
                v = a ** int(b.real)  # integer powers stay exact-ish and real for negative bases
            elif a.imag == 0 and a.real > 0 and b.imag == 0:
                v = complex(a.real**b.real)
            else:
                raise _Undefined  # branch choices: leave them to sympy
    elif op == "f":
        name, a = x[1], _num(x[2], env, scale)
        if name == "fact":
            if a.imag != 0 or a.real != int(a.real) or not 0 <= a.real <= 170:
                raise _Undefined
            v = complex(math.factorial(int(a.real)))
        elif name in ("sec", "csc", "cot"):
            d = {"sec": cmath.cos, "csc": cmath.sin, "cot": cmath.tan}[name](a)
            if d == 0:
                raise _Undefined
            v = 1 / d
        elif name == "ln":
            if a == 0:
                raise _Undefined
            v = cmath.log(a)
        elif name == "sqrt":
            if a.imag != 0 or a.real < 0:
                raise _Undefined  # sympy's principal branch; not worth matching here
            v = cmath.sqrt(a)
        else:
            v = _FLOAT_FUNCS[name](a)
    elif op == "root":
        n, a = _num(x[1], env, scale), _num(x[2], env, scale)
        if n.imag != 0 or a.imag != 0 or a.real < 0 or n.real == 0:
            raise _Undefined
        v = complex(a.real ** (1 / n.real))
    elif op == "log":
        a = _num(x[2], env, scale)
        base = 10.0 if x[1] is None else _num(x[1], env, scale)
        if a == 0 or base in (0, 1):
            raise _Undefined
        v = cmath.log(a) / cmath.log(base)
    elif op == "binom":
        n, k = _num(x[1], env, scale), _num(x[2], env, scale)
        if n.imag or k.imag or n.real != int(n.real) or k.real != int(k.real) or not 0 <= n.real <= 1000:
            raise _Undefined
        v = complex(math.comb(int(n.real), int(k.real)))
    else:
        raise _Undefined
    m = abs(v)
    if m != m or m == math.inf:
        raise _Undefined
    if m > scale[0]:
        scale[0] = m
    return v


def numeric(node: Ast, env: dict[str, Fraction]) -> tuple[complex, float] | None:
    """(value, largest intermediate magnitude) at the point ``env``, or None where undefined."""
    try:
        scale = [0.0]
        v = _num(node, {k: complex(float(x)) for k, x in env.items()}, scale)
        return v, scale[0]
    except (_Undefined, KeyError, OverflowError, ValueError, ZeroDivisionError, RecursionError):
        return None


def log2_bound(node: Ast) -> float:
    """An upper bound of log2|value| over the AST's numbers (inf when it may be astronomically large)."""
    op = node[0]
    if op == "n":
        f = node[1]
        return float(max(f.numerator.bit_length(), f.denominator.bit_length()) + 1)
    if op in ("v", "c"):
        return 2.0
    if op == "^":
        base = log2_bound(node[1])
        e = exact(node[2])
        if e is not None:
            return base * max(1.0, abs(float(e))) if abs(e) < 10**12 else math.inf
        eb = log2_bound(node[2])
        return math.inf if eb > 60 and base > 1.5 else base * (2.0 ** min(eb, 60))
    if op == "f" and node[1] == "fact":
        n = exact(node[2])
        if n is None:
            nb = log2_bound(node[2])
            return math.inf if nb > 40 else (2.0**nb) * (nb + 1)
        v = float(abs(n)) if abs(n) < 10**12 else math.inf
        return v * math.log2(v + 2) + 2
    if op == "binom":
        return log2_bound(node[1]) * 2.0 ** min(log2_bound(node[1]), 60)
    kids = [log2_bound(a) for a in node[1:] if isinstance(a, tuple)]
    if not kids:
        return 2.0
    if op in ("*", "/"):
        return sum(kids)
    return max(kids) + 1


def rational(text: str) -> Fraction | None:
    """The exact value of a simple numeric LaTeX/plain expression, or None (see the module docstring)."""
    return exact(parse(text))


_DECIMAL_RE = re.compile(r"^[+-]?\s*(\d*)\.(\d+)$")


def decimal_places(text: str) -> tuple[int, int] | None:
    """(places, significant digits) when ``text`` is one decimal literal like ``0.333``, else None."""
    m = _DECIMAL_RE.match(text.strip())
    if not m:
        return None
    digits = (m.group(1) + m.group(2)).lstrip("0")
    return len(m.group(2)), len(digits)


def _terminates(x: Fraction) -> bool:
    d = x.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def rounds_to(exact: Fraction, dec: Fraction, places: int) -> bool:
    """Whether ``dec`` is ``exact`` rounded (half-up/half-even) or truncated to ``places`` decimals."""
    scale = Fraction(10) ** places
    r = dec * scale
    if r.denominator != 1:
        return False
    s = exact * scale
    trunc = int(s)  # toward zero
    return abs(s - r) <= Fraction(1, 2) or r == trunc


def numbers_equal(
    g: Fraction,
    p: Fraction,
    *,
    g_text: str = "",
    p_text: str = "",
    g_pct: bool = False,
    p_pct: bool = False,
) -> bool:
    """Exact equality, with percent and "decimal against a non-terminating fraction" rules.

    * ``9%`` equals ``9`` and ``0.09``; ``9`` never equals ``0.09``; two percentages
      compare as written (``5%`` is not ``500%``).
    * A decimal literal equals a fraction whose decimal expansion does not terminate
      when it is that fraction rounded or truncated: ``0.333`` for ``1/3`` (the
      prediction needs 3 significant digits, a gold 2). Two terminating values must
      be equal exactly: ``0.25`` never equals ``0.26``, and ``1/2^{99}`` never ``1/2^{98}``.
    """
    g_dec = decimal_places(g_text) if g_text else None
    p_dec = decimal_places(p_text) if p_text else None
    g_cands = [(g, g_dec)] + ([(g / 100, None)] if g_pct and not p_pct else [])
    p_cands = [(p, p_dec)] + ([(p / 100, None)] if p_pct and not g_pct else [])
    for a, a_dec in g_cands:
        for b, b_dec in p_cands:
            if a == b:
                return True
            if b_dec is not None and a_dec is None and not _terminates(a) and b_dec[1] >= 3:
                if rounds_to(a, b, b_dec[0]):
                    return True
            if a_dec is not None and b_dec is None and not _terminates(b) and a_dec[1] >= 2:
                if rounds_to(b, a, a_dec[0]):
                    return True
    return False
