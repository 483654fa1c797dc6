"""A small, bounded parser for the common LaTeX of final answers (pure Python, no sympy).

It reads numbers, letters, ``\\pi``, ``e``, ``i``, ``+ - * / ^``, ``\\cdot \\times \\div``,
implicit products (``2x``, ``3\\sqrt{2}``, ``(x+1)(x-1)``), ``\\frac``, ``\\sqrt``,
``\\sqrt[n]``, ``|x|``, ``n!``, ``\\binom``, Greek letters, and the usual functions
(``\\sin``, ``\\ln``, ``\\log_b``, ``\\exp``...) into a tiny tuple AST, and gives up
(returns None) on everything else (subscripts, primes, sets, ``\\infty``, ``f(x)``,
unbraced function arguments longer than one atom, ``a/bc``...). What it accepts it
reads as latex2sympy2_extended does; what it refuses goes to latex2sympy2_extended.

The AST is evaluated three ways: exactly with fractions and approximately in floating
point in the caller (:mod:`.fastpath`), and as a sympy expression in the worker
(``compare.to_sympy``).

Parsing is bounded: at most :data:`MAX_TOKENS` tokens and nesting :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from typing import Any

__all__ = ["Ast", "parse", "variables"]

MAX_TOKENS = 400
MAX_DEPTH = 40
MAX_LITERAL = 300

Ast = tuple[Any, ...]

GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi rho sigma "
    "tau upsilon phi varphi chi psi omega".split()
)
FUNCS = {
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "cot": "cot",
    "sec": "sec",
    "csc": "csc",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "ln": "ln",
    "exp": "exp",
}
_OK_CMDS = (
    frozenset({"frac", "sqrt", "cdot", "times", "div", "pi", "log", "binom"}) | GREEK | frozenset(FUNCS)
)
_TOKEN_RE = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|\\([a-zA-Z]+)|([a-zA-Z])|(\*\*|[-+*/^(){}\[\]|!]))")


class _GiveUp(Exception):
    pass


def _tokens(s: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i, n = 0, len(s)
    while i < n:
        m = _TOKEN_RE.match(s, i)
        if not m or m.end() == i:
            if not s[i:].strip():
                break
            raise _GiveUp
        if m.group(1) is not None:
            if len(m.group(1)) > MAX_LITERAL:
                raise _GiveUp
            out.append(("num", m.group(1)))
        elif m.group(2) is not None:
            name = m.group(2)
            if name in ("dfrac", "tfrac"):
                name = "frac"
            if name not in _OK_CMDS and name.lower() not in GREEK:
                raise _GiveUp
            out.append(("cmd", name))
        elif m.group(3) is not None:
            out.append(("let", m.group(3)))
        else:
            out.append(("op", m.group(4)))
        if len(out) > MAX_TOKENS:
            raise _GiveUp
        i = m.end()
    return out


_STARTS_FACTOR = {"num", "let"}


class _Parser:
    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.t = toks
        self.i = 0
        self.depth = 0

    def peek(self, k: int = 0) -> tuple[str, str] | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def take(self, val: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (val is not None and tok[1] != val):
            raise _GiveUp
        self.i += 1
        return tok

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _GiveUp

    def expr(self) -> Ast:
        self.enter()
        node = self.term()
        while (tok := self.peek()) is not None and tok[1] in ("+", "-") and tok[0] == "op":
            self.i += 1
            node = (tok[1], node, self.term())
        self.depth -= 1
        return node

    def _starts_factor(self) -> bool:
        tok = self.peek()
        if tok is None:
            return False
        kind, val = tok
        if kind in _STARTS_FACTOR:
            return True
        if kind == "cmd":
            return val not in ("cdot", "times", "div")
        return val in ("(", "{", "[")

    def term(self) -> Ast:
        node = self.unary()
        while (tok := self.peek()) is not None:
            kind, val = tok
            if (kind == "cmd" and val in ("cdot", "times")) or val == "*":
                self.i += 1
                node = ("*", node, self.unary())
            elif (kind == "cmd" and val == "div") or val == "/":
                self.i += 1
                node = ("/", node, self.unary())
                if self._starts_factor():
                    raise _GiveUp  # a/bc: latex2sympy reads a/(bc)
            elif self._starts_factor():
                if tok[0] == "num" and self.peek(-1) is not None and self.peek(-1)[0] == "num":  # type: ignore[index]
                    raise _GiveUp
                node = ("*", node, self.power())
            else:
                break
        return node

    def unary(self) -> Ast:
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in ("-", "+"):
            self.i += 1
            inner = self.unary()
            return ("neg", inner) if tok[1] == "-" else inner
        return self.power()

    def power(self) -> Ast:
        base = self.postfix(self.primary())
        tok = self.peek()
        if tok is not None and tok[1] in ("^", "**") and tok[0] == "op":
            self.i += 1
            exp = self.exponent()
            nxt = self.peek()
            if nxt is not None and nxt[1] in ("^", "**"):
                raise _GiveUp
            return self.postfix(("^", base, exp))
        return base

    def postfix(self, node: Ast) -> Ast:
        tok = self.peek()
        if tok is not None and tok[1] == "!" and tok[0] == "op":
            self.i += 1
            nxt = self.peek()
            if nxt is not None and nxt[1] == "!":
                raise _GiveUp  # double factorial
            return ("f", "fact", node)
        return node

    def exponent(self) -> Ast:
        tok = self.peek()
        if tok is None:
            raise _GiveUp
        if tok[1] == "{":
            return self.group()
        if tok[0] == "num":
            if len(tok[1]) != 1:
                raise _GiveUp  # 2^10: leave the reading to latex2sympy
            self.i += 1
            return ("n", Fraction(tok[1]))
        if tok[0] == "let":
            self.i += 1
            return self.letter(tok[1])
        if tok[0] == "cmd" and tok[1] == "pi":
            self.i += 1
            return ("c", "pi")
        raise _GiveUp

    def group(self) -> Ast:
        self.take("{")
        node = self.expr()
        self.take("}")
        return node

    def arg(self) -> Ast:
        """A \\frac argument: {expr} or one digit (\\frac12)."""
        tok = self.peek()
        if tok is not None and tok[1] == "{":
            return self.group()
        if tok is not None and tok[0] == "num" and len(tok[1]) == 1:
            self.i += 1
            return ("n", Fraction(tok[1]))
        raise _GiveUp

    def letter(self, ch: str) -> Ast:
        if ch == "e":
            return ("c", "e")
        if ch == "i":
            return ("c", "i")
        nxt = self.peek()
        if nxt is not None and nxt[1] == "(":
            raise _GiveUp  # f(x) may be a function call
        return ("v", ch.lower())

    def primary(self) -> Ast:
        kind, val = self.take()
        if kind == "num":
            nxt = self.peek()
            if nxt is not None and nxt == ("cmd", "frac") and "." not in val:
                start = self.i
                self.i += 1
                a, b = self.arg(), self.arg()
                if (
                    a[0] == "n"
                    and b[0] == "n"
                    and a[1].denominator == 1
                    and b[1].denominator == 1
                    and b[1] != 0
                ):
                    return ("+", ("n", Fraction(val)), ("/", a, b))  # 3\frac{1}{2}: a mixed number
                self.i = start
            return ("n", Fraction(val))
        if kind == "let":
            return self.letter(val)
        if kind == "op":
            if val in ("(", "[", "{"):
                close = {"(": ")", "[": "]", "{": "}"}[val]
                node = self.expr()
                self.take(close)
                return node
            if val == "|":
                node = self.expr()
                self.take("|")
                return ("f", "abs", node)
            raise _GiveUp
        # commands
        if val == "frac":
            return ("/", self.arg(), self.arg())
        if val == "sqrt":
            tok = self.peek()
            if tok is not None and tok[1] == "[":
                self.i += 1
                n = self.expr()
                self.take("]")
                return ("root", n, self.group())
            return ("f", "sqrt", self.group())
        if val == "pi":
            return ("c", "pi")
        if val == "binom":
            return ("binom", self.group(), self.group())
        if val.lower() in GREEK:
            return ("v", val.lower())
        if val == "log":
            base: Ast | None = None
            tok = self.peek()
            if tok is not None and tok[1] == "_":
                raise _GiveUp
            return ("log", base, self.func_arg())
        if val in FUNCS:
            tok = self.peek()
            power = None
            if tok is not None and tok[1] == "^":
                self.i += 1
                power = self.exponent()
                if power != ("n", Fraction(2)) and power != ("n", Fraction(3)):
                    raise _GiveUp  # \tan^{-1}: an inverse, not a power
            node = ("f", FUNCS[val], self.func_arg())
            return ("^", node, power) if power is not None else node
        raise _GiveUp

    def func_arg(self) -> Ast:
        tok = self.peek()
        if tok is None:
            raise _GiveUp
        if tok[1] in ("(", "{"):
            node = self.primary()
        elif tok[0] in ("num", "let") or tok == ("cmd", "pi"):
            node = self.primary()
            nxt = self.peek()
            if nxt is not None and (nxt[1] in ("^", "!") or self._starts_factor()):
                raise _GiveUp  # \sin 2x, \sin x^2: latex2sympy takes the whole product/power
        else:
            raise _GiveUp
        return node


@lru_cache(maxsize=16384)
def parse(text: str) -> Ast | None:
    """The AST of ``text``, or None when it is outside the supported subset."""
    s = text.strip()
    if not s or len(s) > 2000 or "_" in s or "'" in s:
        return None
    try:
        toks = _tokens(s)
        if not toks:
            return None
        p = _Parser(toks)
        node = p.expr()
        if p.i != len(toks):
            return None
        return node
    except (_GiveUp, RecursionError, ValueError, ZeroDivisionError):
        return None


def variables(node: Ast) -> set[str]:
    """The variable names of an AST."""
    out: set[str] = set()
    stack = [node]
    while stack:
        x = stack.pop()
        if x is None:
            continue
        if x[0] == "v":
            out.add(x[1])
        elif x[0] not in ("n", "c"):
            stack.extend(a for a in x[1:] if isinstance(a, tuple))
    return out
