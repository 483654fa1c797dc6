"""Output comparison, done in the trusted parent, never inside the sandbox.

:class:`OutputComparator` judges a program's stdout against the expected text:

``lines`` (default)
    Line by line. Trailing whitespace on each line and trailing blank lines at the end
    are ignored; the number of remaining lines must match (so printing only a prefix
    of the expected output is wrong, unlike open-r1's ``zip``). Within a line, the
    whitespace-separated tokens must match, numbers with the float tolerance.
``tokens``
    All whitespace-separated tokens of the output, ignoring line structure; the token
    count must match.
``exact``
    The same text, except that ``\\r\\n`` counts as ``\\n`` and one final newline may be
    missing or extra.

Numbers: two integer tokens must be equal exactly (``10**18 + 1`` is not ``10**18``);
otherwise, when both tokens parse as finite floats, they match within ``rel_tol`` or
``abs_tol`` (``math.isclose``). Letters compare case-sensitively unless
``case_sensitive=False``. A ``checker`` callable ``(input, expected, actual) -> bool |
float`` replaces all of this (testlib-style checkers for problems with many right
answers); a float is the test's share of credit in ``[0, 1]``.

:func:`values_equal` compares the values returned by function-call tests (decoded
from data, so no object of the program's own reaches it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ...errors import ConfigError

__all__ = ["Checker", "CompareMode", "OutputComparator", "values_equal"]

CompareMode = Literal["lines", "tokens", "exact"]
Checker = Callable[[str, str, str], Any]
_MODES = ("lines", "tokens", "exact")
_INT = re.compile(r"[+-]?\d+\Z")


def _num_equal(a: str, b: str, rel_tol: float, abs_tol: float) -> bool:
    if _INT.match(a) and _INT.match(b):
        return int(a) == int(b)
    if rel_tol <= 0 and abs_tol <= 0:
        return False
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    return math.isclose(x, y, rel_tol=rel_tol, abs_tol=abs_tol)


@dataclass(frozen=True)
class OutputComparator:
    """Compares stdout with the expected output; see the module docstring for the rules.

    Args:
        mode: ``"lines"``, ``"tokens"`` or ``"exact"``.
        rel_tol: relative tolerance for non-integer numbers.
        abs_tol: absolute tolerance for non-integer numbers.
        case_sensitive: compare letters as written.
    """

    mode: CompareMode = "lines"
    rel_tol: float = 1e-6
    abs_tol: float = 1e-6
    case_sensitive: bool = True

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ConfigError(f"compare mode {self.mode!r} is not allowed; allowed: {', '.join(_MODES)}")
        if self.rel_tol < 0 or self.abs_tol < 0:
            raise ConfigError("rel_tol and abs_tol must be >= 0")

    def _token_equal(self, a: str, b: str) -> bool:
        if a == b:
            return True
        if not self.case_sensitive and a.casefold() == b.casefold():
            return True
        return _num_equal(a, b, self.rel_tol, self.abs_tol)

    def __call__(self, actual: str, expected: str) -> tuple[bool, str]:
        """``(matches, reason)``; the reason names the first difference."""
        actual = actual.replace("\r\n", "\n")
        expected = expected.replace("\r\n", "\n")
        if self.mode == "exact":
            a, e = actual, expected
            if not self.case_sensitive:
                a, e = a.casefold(), e.casefold()
            if _chop(a) == _chop(e):
                return True, ""
            return False, "output differs"
        if self.mode == "tokens":
            at, et = actual.split(), expected.split()
            if len(at) != len(et):
                return False, f"{len(at)} tokens, expected {len(et)}"
            for i, (a, e) in enumerate(zip(at, et)):
                if not self._token_equal(a, e):
                    return False, f"token {i + 1}: got {a[:40]!r}, expected {e[:40]!r}"
            return True, ""
        al = [ln.rstrip() for ln in actual.split("\n")]
        el = [ln.rstrip() for ln in expected.split("\n")]
        while al and not al[-1]:
            al.pop()
        while el and not el[-1]:
            el.pop()
        if len(al) != len(el):
            return False, f"{len(al)} lines, expected {len(el)}"
        for n, (a_line, e_line) in enumerate(zip(al, el), 1):
            if a_line == e_line:
                continue
            at, et = a_line.split(), e_line.split()
            if len(at) != len(et) or not all(self._token_equal(a, e) for a, e in zip(at, et)):
                return False, f"line {n}: got {a_line[:60]!r}, expected {e_line[:60]!r}"
        return True, ""


def _chop(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text


def _norm(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_norm(v) for v in value]
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def values_equal(got: Any, expected: Any, *, rel_tol: float = 1e-6, abs_tol: float = 1e-6) -> bool:
    """Deep equality of plain data: tuples equal lists, non-integer numbers within the
    tolerance, ``bool`` distinct from ``int``, dict keys exact."""
    got, expected = _norm(got), _norm(expected)
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        if isinstance(expected, int) and isinstance(got, int):
            return got == expected
        if math.isnan(expected) or math.isnan(got):
            return math.isnan(expected) and math.isnan(got)
        return math.isclose(got, expected, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(
            values_equal(g, e, rel_tol=rel_tol, abs_tol=abs_tol) for g, e in zip(got, expected)
        )
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and all(
            values_equal(got[k], expected[k], rel_tol=rel_tol, abs_tol=abs_tol) for k in expected
        )
    if isinstance(expected, complex) and isinstance(got, complex):
        return values_equal(got.real, expected.real, rel_tol=rel_tol, abs_tol=abs_tol) and values_equal(
            got.imag, expected.imag, rel_tol=rel_tol, abs_tol=abs_tol)
    return type(got) is type(expected) and bool(got == expected)
