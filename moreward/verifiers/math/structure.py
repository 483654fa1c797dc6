"""The shape of an answer: a small tree built from the cleaned string, without sympy.

``parse_answer`` turns ``"x = 1, 2"`` into ``Seq("list", (Assign("x", Scalar("1")), Scalar("2")))``,
``"[1, 2)"`` into an :class:`Interval`, ``"1 < x \\le 2"`` into an :class:`Ineq`, ``"2 \\pm \\sqrt3"``
into a two-element set, and so on. The leaves are :class:`Scalar` strings that an engine
(exact rationals in :mod:`.fastpath`, sympy in :mod:`.compare`) evaluates later, so the
caller's process and the workers share one reading of every answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .fastpath import decimal_places
from .normalize import (
    MAX_ANSWER_CHARS,
    choice_letter,
    clean,
    is_thousands,
    match_brace,
    split_top,
    strip_decorations,
    text_answer,
)

__all__ = [
    "Assign",
    "Bad",
    "Choice",
    "Ineq",
    "Interval",
    "Matrix",
    "Node",
    "Relation",
    "Scalar",
    "Seq",
    "Text",
    "Union",
    "answer_hints",
    "is_single_valued",
    "iter_leaves",
    "parse_answer",
    "parse_gold",
]

MAX_DEPTH = 120
MAX_CELLS = 20_000


@dataclass(frozen=True)
class Scalar:
    """One mathematical expression, as cleaned LaTeX or plain text."""

    text: str
    pct: bool = False
    deg: bool = False


@dataclass(frozen=True)
class Text:
    """A word answer, lower-cased (``monday``, ``no solution``)."""

    value: str


@dataclass(frozen=True)
class Choice:
    """A multiple-choice letter, upper-case."""

    letter: str


@dataclass(frozen=True)
class Seq:
    """Several answers: ``set`` (``\\{..\\}``), ``tuple`` (``(..)``), ``list`` (bare commas), ``pm`` (``\\pm``)."""

    kind: str
    items: tuple[Node, ...]
    hedged: bool = False


@dataclass(frozen=True)
class Interval:
    lo: Scalar
    hi: Scalar
    lo_open: bool
    hi_open: bool


@dataclass(frozen=True)
class Union:
    parts: tuple[Interval, ...]


@dataclass(frozen=True)
class Assign:
    """``var = value`` (also ``var \\in value``); ``var`` is normalised (``x``, ``a_1``, ``f(x)``)."""

    var: str
    value: Node


@dataclass(frozen=True)
class Ineq:
    """A one-variable inequality, kept with the region it describes."""

    var: str
    region: Interval | Union


@dataclass(frozen=True)
class Relation:
    """Any other equation or inequality; ``op`` is ``=``, ``<``, ``<=`` or ``!=`` (``>`` is flipped)."""

    op: str
    lhs: str
    rhs: str


@dataclass(frozen=True)
class Matrix:
    rows: tuple[tuple[Scalar, ...], ...]


@dataclass(frozen=True)
class Bad:
    """Could not be read as an answer; ``reason`` says why."""

    reason: str


Node = Scalar | Text | Choice | Seq | Interval | Union | Assign | Ineq | Relation | Matrix | Bad

_ALL_REALS = frozenset({"all real numbers", "all reals", "all real values", "real numbers"})
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
INF = Scalar(r"\infty")
NEG_INF = Scalar(r"-\infty")

_GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi rho sigma "
    "tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Sigma Phi Psi Omega"
).split()
_VAR_RE = re.compile(
    r"^(?:[A-Za-z]|\\(?:" + "|".join(_GREEK) + r"))(?:_\{?[A-Za-z0-9]+\}?)?'*(?:\([^()=]{0,40}\))?$"
)
_CMD_RE = re.compile(r"\\[A-Za-z]+")
_TEXT_BLOCK_RE = re.compile(r"\\(?:text|mathrm|mbox|operatorname)\{[^{}]*\}")
_INF_RE = re.compile(r"^(?:([+-])\s*)?(?:\\infty|infty|inf|infinity|\\infinity|oo)$", re.IGNORECASE)
_REL_RE = re.compile(r"\\(?:leq?|geq?|lt|gt|neq?|approx|in)(?![a-zA-Z])|<=|>=|!=|=|<|>")
_REL_NAMES = {
    "=": "=",
    r"\approx": "=",
    "<": "<",
    r"\lt": "<",
    ">": ">",
    r"\gt": ">",
    r"\le": "<=",
    r"\leq": "<=",
    "<=": "<=",
    r"\ge": ">=",
    r"\geq": ">=",
    ">=": ">=",
    r"\ne": "!=",
    r"\neq": "!=",
    "!=": "!=",
    r"\in": "in",
}
_MATRIX_RE = re.compile(r"^\\begin\{(pmatrix|bmatrix|Bmatrix|vmatrix|Vmatrix|matrix|smallmatrix|array)\}")
_DECIMAL_COMMA_RE = re.compile(r"^-?\d+,\d+$")


def is_var(s: str) -> bool:
    """A variable-like left-hand side: ``x``, ``a_1``, ``\\theta``, ``f(x)``."""
    return bool(_VAR_RE.match(s.strip()))


def has_letters(s: str) -> bool:
    """Whether ``s`` mentions a variable (letters outside commands; ``e`` and ``i`` count as constants)."""
    t = _TEXT_BLOCK_RE.sub("", s)
    t = _CMD_RE.sub("", t)
    return any(ch.isalpha() and ch not in "ei" for ch in t)


def _depth(s: str) -> int:
    d = best = 0
    for ch in s:
        if ch in "{([":
            d += 1
            if d > best:
                best = d
        elif ch in "})]":
            d -= 1
    return best


def _norm_var(s: str) -> str:
    return s.replace(" ", "").replace("{", "").replace("}", "")


def _endpoint(s: str) -> Scalar:
    t = s.strip()
    m = _INF_RE.match(t)
    if m:
        return NEG_INF if m.group(1) == "-" else INF
    return Scalar(t)


def _scan(s: str):
    """Yield (index, char, depth) for the characters of ``s`` at their bracket depth.

    ``\\{``/``\\}`` count as brackets; any other backslash command is yielded as one
    item at its start (char ``"\\"``), so ``\\le`` can be matched there.
    """
    depth = 0
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            nxt = s[i + 1] if i + 1 < n else ""
            if nxt == "{":
                depth += 1
                i += 2
                continue
            if nxt == "}":
                depth -= 1
                yield i + 1, "}", depth
                i += 2
                continue
            yield i, c, depth
            i += 2 if nxt and not nxt.isalpha() else 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        yield i, c, depth
        i += 1


def _top_level_ops(s: str) -> list[tuple[int, int, str]]:
    """Relational operators at bracket depth 0: (start, end, canonical op)."""
    out: list[tuple[int, int, str]] = []
    skip_to = -1
    for i, c, depth in _scan(s):
        if i < skip_to or depth != 0 or c not in "=<>!\\":
            continue
        m = _REL_RE.match(s, i)
        if m:
            out.append((m.start(), m.end(), _REL_NAMES[m.group(0)]))
            skip_to = m.end()
    return out


def _closing_at_end(s: str) -> bool:
    """Whether the bracket opening at s[0] closes exactly at the end of ``s`` (any closing kind)."""
    for i, c, depth in _scan(s):
        if c in ")]}" and depth == 0:
            return i == len(s) - 1
    return False


def _top_level_index(s: str, needle: str) -> int:
    for i, c, depth in _scan(s):
        if depth == 0 and c == "\\" and s.startswith(needle, i):
            return i
    return -1


def _split_commas(s: str) -> list[str]:
    items, _ = split_top(s.replace(" and ", " , ").replace(" or ", " , "))
    return items


def _parse_relation(s: str, ops: list[tuple[int, int, str]], deco_pct: bool, deco_deg: bool) -> Node:
    sides = []
    prev = 0
    for a, b, _ in ops:
        sides.append(s[prev:a].strip())
        prev = b
    sides.append(s[prev:].strip())
    names = [op for _, _, op in ops]
    if any(not side for side in sides):
        return Bad("incomplete relation")
    if all(op == "=" for op in names):
        if is_var(sides[0]):
            return Assign(_norm_var(sides[0]), _parse_item(sides[-1], deco_pct, deco_deg))
        if not any(has_letters(side) for side in sides):
            return _parse_item(sides[-1], deco_pct, deco_deg)  # "2 + 3 = 5": the last side
        return Relation("=", sides[0], sides[-1])
    if names == ["in"]:
        if is_var(sides[0]):
            return Assign(_norm_var(sides[0]), _parse_item(sides[1], False, False))
        return Bad("membership of a non-variable")
    if all(op in ("<", "<=", ">", ">=") for op in names):
        ineq = _inequality(sides, names)
        if ineq is not None:
            return ineq
        if len(sides) == 2:
            op = names[0]
            if op in (">", ">="):
                return Relation(op.replace(">", "<"), sides[1], sides[0])
            return Relation(op, sides[0], sides[1])
        return Bad("chained relation")
    if names == ["!="]:
        return Relation("!=", sides[0], sides[1])
    return Bad("mixed relations")


def _inequality(sides: list[str], names: list[str]) -> Ineq | None:
    if len(sides) == 2:
        (left, right), op = sides, names[0]
        if is_var(left) and not has_letters(right):
            var, bound, op = left, right, op
        elif is_var(right) and not has_letters(left):
            var, bound = right, left
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        else:
            return None
        b = _endpoint(bound)
        if op in ("<", "<="):
            return Ineq(_norm_var(var), Interval(NEG_INF, b, True, op == "<"))
        return Ineq(_norm_var(var), Interval(b, INF, op == ">", True))
    if len(sides) == 3 and is_var(sides[1]) and not has_letters(sides[0]) and not has_letters(sides[2]):
        op1, op2 = names
        if op1 in ("<", "<=") and op2 in ("<", "<="):
            return Ineq(
                _norm_var(sides[1]),
                Interval(_endpoint(sides[0]), _endpoint(sides[2]), op1 == "<", op2 == "<"),
            )
        if op1 in (">", ">=") and op2 in (">", ">="):
            return Ineq(
                _norm_var(sides[1]),
                Interval(_endpoint(sides[2]), _endpoint(sides[0]), op2 == ">", op1 == ">"),
            )
    return None


def _parse_matrix(s: str, env: str) -> Node:
    end = f"\\end{{{env}}}"
    if not s.endswith(end):
        return Bad("unterminated matrix")
    body = s[len(f"\\begin{{{env}}}") : -len(end)]
    if env == "array" and body.lstrip().startswith("{"):
        j = match_brace(body, body.index("{"))
        body = body[j + 1 :]
    rows = [r for r in (row.strip() for row in body.split("\\\\")) if r]
    if not rows:
        return Bad("empty matrix")
    cells = [tuple(Scalar(clean(c)) for c in row.split("&")) for row in rows]
    if len({len(r) for r in cells}) != 1:
        return Bad("ragged matrix")
    if len(cells) * len(cells[0]) > MAX_CELLS:
        return Bad("matrix too large")
    return Matrix(tuple(cells))


def _parse_item(s: str, pct: bool = False, deg: bool = False) -> Node:
    s, deco = strip_decorations(s)
    pct, deg = pct or deco.pct, deg or deco.deg
    if not s:
        return Bad("empty")
    if s in (r"\emptyset", r"\varnothing", r"\{\}", r"\{ \}", "∅"):
        return Seq("set", ())
    if s.startswith(r"\{") and s.endswith(r"\}"):
        inner = s[2:-2]
        if r"\{" not in inner and r"\}" not in inner:
            if "|" in inner or r"\mid" in inner:
                return Bad("set-builder notation")
            return Seq("set", tuple(_parse_item(t) for t in _split_commas(inner)))
    m = _MATRIX_RE.match(s)
    if m:
        return _parse_matrix(s, m.group(1))
    ops = _top_level_ops(s)
    if ops:
        return _parse_relation(s, ops, pct, deg)
    if r"\cup" in s:
        parts = [p.strip() for p in s.split(r"\cup")]
        nodes = [_parse_item(p) for p in parts]
        intervals = [
            n if isinstance(n, Interval) else _as_open_interval(n) if isinstance(n, Seq) else None
            for n in nodes
        ]
        if all(isinstance(x, Interval) for x in intervals):
            return Union(tuple(x for x in intervals if x is not None))
        if all(isinstance(n, Seq) and n.kind == "set" for n in nodes):
            return Seq("set", tuple(x for n in nodes for x in n.items))  # type: ignore[union-attr]
        return Bad("union of non-intervals")
    if s[0] in "([" and s[-1] in ")]" and _closing_at_end(s):
        inner = s[1:-1]
        items = _split_commas(inner)
        if len(items) == 1:
            if s[0] == "(" and s[-1] == ")":
                return _parse_item(inner, pct, deg)
            return Bad("single-element bracket")
        if len(items) == 2 and not (s[0] == "(" and s[-1] == ")"):
            return Interval(_endpoint(items[0]), _endpoint(items[1]), s[0] == "(", s[-1] == ")")
        return Seq("tuple", tuple(_parse_item(t) for t in items))
    if s.startswith(r"\langle") and s.endswith(r"\rangle"):
        return Seq("tuple", tuple(_parse_item(t) for t in _split_commas(s[7:-7])))
    for pm in (r"\pm", r"\mp"):
        k = _top_level_index(s, pm)
        if k >= 0 and not s[k + len(pm) : k + len(pm) + 1].isalpha():
            a, b = s[:k].strip(), s[k + len(pm) :].strip()
            if not b:
                return Bad("dangling \\pm")
            plus = f"{a}+({b})" if a else b
            minus = f"{a}-({b})" if a else f"-({b})"
            return Seq("pm", (Scalar(plus, pct, deg), Scalar(minus, pct, deg)))
    words = text_answer(s)
    if words is not None:
        if words in _ALL_REALS:
            return Interval(NEG_INF, INF, True, True)
        if words in _NUMBER_WORDS:
            return Scalar(str(_NUMBER_WORDS[words]), pct, deg)
        return Text(words)
    if s.replace(" ", "") in (r"\mathbb{R}", "ℝ", r"\R"):
        return Interval(NEG_INF, INF, True, True)
    return Scalar(s, pct, deg)


def _as_open_interval(n: Seq) -> Interval | None:
    if n.kind == "tuple" and len(n.items) == 2 and all(isinstance(x, Scalar) for x in n.items):
        a, b = n.items
        lo = _endpoint(a.text)  # type: ignore[union-attr]
        hi = _endpoint(b.text)  # type: ignore[union-attr]
        return Interval(lo, hi, True, True)
    return None


def parse_answer(
    text: str, *, scalar_gold: bool = True, decimal_comma: bool = False, choices: bool = False
) -> Node:
    """Parse an answer string into a :data:`Node`.

    Args:
        text: the answer as extracted (LaTeX or plain text).
        scalar_gold: the gold is one number, so ``1,000`` is a thousand (not two items).
        decimal_comma: the gold is a decimal fraction, so ``0,5`` reads as ``0.5``.
        choices: the gold is a multiple-choice letter, so look for letters.
    """
    s = clean(text)
    if not s:
        return Bad("empty")
    if len(s) > MAX_ANSWER_CHARS:
        return Bad("answer too long")
    if _depth(s) > MAX_DEPTH:
        return Bad("nested too deeply")
    if r"\forall" in s or r"\exists" in s:
        return Bad("quantified statement")
    if scalar_gold:
        bare, _ = strip_decorations(s)
        if is_thousands(bare):
            s = s.replace(",", "").replace(" ", "")
        elif decimal_comma and _DECIMAL_COMMA_RE.match(bare):
            s = s.replace(",", ".")
    items, hedged = split_top(s)
    if not items:
        return Bad("empty")
    nodes: list[Node] = []
    for it in items:
        letter = choice_letter(it) if choices else None
        nodes.append(Choice(letter) if letter else _parse_item(it))
    if len(nodes) == 1:
        return nodes[0]
    if hedged and all(isinstance(n, Ineq) for n in nodes) and len({n.var for n in nodes}) == 1:  # type: ignore[union-attr]
        parts: list[Interval] = []
        for n in nodes:
            r = n.region  # type: ignore[union-attr]
            parts.extend(r.parts if isinstance(r, Union) else (r,))
        return Ineq(nodes[0].var, Union(tuple(parts)))  # type: ignore[union-attr]
    return Seq("list", tuple(nodes), hedged)


def parse_gold(text: str) -> Node:
    """Parse a gold answer: a lone letter is a choice, the rest as :func:`parse_answer`."""
    s = clean(text)
    letter = choice_letter(s, strict=True)
    if letter is not None:
        return Choice(letter)
    return parse_answer(s, scalar_gold=True)


def answer_hints(gold: Node) -> dict[str, bool]:
    """How to read a prediction for this gold: thousands separators, decimal commas, letters."""
    inner = gold.value if isinstance(gold, Assign) else gold
    scalar = isinstance(inner, Scalar)
    return {
        "scalar_gold": scalar,
        "decimal_comma": scalar and decimal_places(inner.text) is not None,  # type: ignore[union-attr]
        "choices": isinstance(gold, Choice),
    }


def iter_leaves(node: Node) -> Iterator[str]:
    """Every leaf string of ``node`` that the sympy engine will parse (infinite endpoints excluded)."""
    if isinstance(node, Scalar):
        if node not in (INF, NEG_INF):
            yield node.text
    elif isinstance(node, Seq):
        for x in node.items:
            yield from iter_leaves(x)
    elif isinstance(node, Interval):
        yield from iter_leaves(node.lo)
        yield from iter_leaves(node.hi)
    elif isinstance(node, Union):
        for x in node.parts:
            yield from iter_leaves(x)
    elif isinstance(node, (Assign,)):
        yield from iter_leaves(node.value)
    elif isinstance(node, Ineq):
        yield from iter_leaves(node.region)
    elif isinstance(node, Relation):
        yield node.lhs
        yield node.rhs
    elif isinstance(node, Matrix):
        for row in node.rows:
            for c in row:
                yield c.text


def is_single_valued(node: Node) -> bool:
    """Whether the gold is one value, so a list of several answers is a hedge."""
    if isinstance(node, Assign):
        return is_single_valued(node.value)
    return not isinstance(node, Seq)
