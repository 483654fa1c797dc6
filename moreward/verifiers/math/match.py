"""Kind-aware matching of a gold answer tree against a predicted one.

The matcher knows the answer kinds (sets without order, tuples with order, intervals
with their openness, unions, inequalities, assignments, matrices, ``\\pm``, words,
choice letters, hedged lists) and hands the leaves to an *engine*:

* :class:`FastEngine` compares exact rationals in the caller's process and answers
  ``None`` ("cannot tell") for anything symbolic;
* ``compare.SympyEngine`` (in the worker) decides everything.

Results are three-valued: True, False, or None when the engine could not tell, in which
case the caller sends the pair to a worker. Both engines run this same code, so the
fast path can never disagree with the worker on a case it decides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from . import fastpath, latexparse
from .fastpath import decimal_places, numbers_equal, rational
from .normalize import text_answer
from .structure import (
    INF,
    NEG_INF,
    Assign,
    Bad,
    Choice,
    Ineq,
    Interval,
    Matrix,
    Node,
    Relation,
    Scalar,
    Seq,
    Text,
    Union,
    is_single_valued,
)

__all__ = ["Decision", "Engine", "FastEngine", "Policy", "match"]

Decision = tuple["bool | None", str]


@dataclass(frozen=True)
class Policy:
    """Comparison options shared by both engines.

    Attributes:
        inequality_as_interval: ``x > 3`` matches ``(3, \\infty)`` (both directions).
        approx_irrational: a decimal prediction may stand for an irrational gold
            (``1.4142`` for ``\\sqrt2``); decimals always stand for non-terminating fractions.
        strict_variables: ``x = 3`` does not match ``y = 3``.
    """

    inequality_as_interval: bool = True
    approx_irrational: bool = False
    strict_variables: bool = True


class Engine(Protocol):
    def scalar(self, g: Scalar, p: Scalar) -> Decision: ...

    def relation(self, g: Relation, p: Relation) -> Decision: ...


class FastEngine:
    """Exact rationals, identical expression trees, and a float check that can only say "different".

    Two expressions that the bounded parser reads are evaluated in floating point at
    the worker's test points; when they differ at one by far more than float error
    (measured against the largest intermediate value, so cancellation cannot fool it),
    they are different, and the worker would find the same. Anything closer, or with a
    percent/degree/decimal rule in play, is left to the worker.
    """

    def scalar(self, g: Scalar, p: Scalar) -> Decision:
        gv = rational(g.text)
        pv = rational(p.text)
        if gv is not None and pv is not None:
            ok = numbers_equal(gv, pv, g_text=g.text, p_text=p.text, g_pct=g.pct, p_pct=p.pct)
            return ok, "exact rational"
        ga, pa = latexparse.parse(g.text), latexparse.parse(p.text)
        if ga is not None and ga == pa and (g.pct, g.deg) == (p.pct, p.deg):
            return True, "identical expression"  # the same tree: the worker builds the same sympy object
        if g.pct or p.pct or g.deg or p.deg or decimal_places(g.text) or decimal_places(p.text):
            return None, "needs the worker"
        if ga is None or pa is None:
            return None, "needs the worker"
        names = sorted(latexparse.variables(ga) | latexparse.variables(pa))
        if "e" in names or "i" in names:
            return None, "needs the worker"
        for point in fastpath.probe_points(names)[: fastpath.POSITIVE_POINTS]:
            a, b = fastpath.numeric(ga, point), fastpath.numeric(pa, point)
            if a is None or b is None:
                continue
            if abs(a[0] - b[0]) > 1e-9 * max(a[1], b[1], 1.0):
                return False, "different value" if not names else "differs at a test point"
        return None, "needs the worker"

    def relation(self, g: Relation, p: Relation) -> Decision:
        return None, "relation"


def _all(results: Sequence[Decision], rule: str) -> Decision:
    undecided = None
    for ok, why in results:
        if ok is False:
            return False, why
        if ok is None:
            undecided = why
    if undecided is not None:
        return None, undecided
    return True, rule


def _has_matching(n: int, allowed: Callable[[int, int], bool]) -> bool:
    """A perfect matching in the n x n bipartite graph ``allowed`` (augmenting paths)."""
    owner = [-1] * n

    def augment(i: int, seen: list[bool]) -> bool:
        for j in range(n):
            if allowed(i, j) and not seen[j]:
                seen[j] = True
                if owner[j] < 0 or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return all(augment(i, [False] * n) for i in range(n))


def _dedupe(items: Sequence[Node]) -> list[Node]:
    out: list[Node] = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def _unordered(gs: Sequence[Node], ps: Sequence[Node], eng: Engine, pol: Policy) -> Decision:
    gs, ps = _dedupe(gs), _dedupe(ps)
    if len(gs) != len(ps):
        return False, f"{len(ps)} answers for {len(gs)}"
    n = len(gs)
    if n > 64:
        return (
            (True, "identical set")
            if sorted(map(repr, gs)) == sorted(map(repr, ps))
            else (False, "large set")
        )
    table = [[match(g, p, eng, pol) for p in ps] for g in gs]
    if _has_matching(n, lambda i, j: table[i][j][0] is True):
        return True, "set (any order)"
    if not _has_matching(n, lambda i, j: table[i][j][0] is not False):
        return False, "set elements differ"
    return None, "set (undecided)"


def _ordered(gs: Sequence[Node], ps: Sequence[Node], eng: Engine, pol: Policy, what: str) -> Decision:
    if len(gs) != len(ps):
        return False, f"{what} of length {len(ps)} for {len(gs)}"
    return _all([match(g, p, eng, pol) for g, p in zip(gs, ps)], what)


def _endpoint(g: Scalar, p: Scalar, eng: Engine) -> Decision:
    if g in (INF, NEG_INF) or p in (INF, NEG_INF):
        return g == p, "infinite endpoint"
    return eng.scalar(g, p)


def _interval(g: Interval, p: Interval, eng: Engine) -> Decision:
    if (g.lo_open, g.hi_open) != (p.lo_open, p.hi_open):
        return False, "interval openness differs"
    return _all([_endpoint(g.lo, p.lo, eng), _endpoint(g.hi, p.hi, eng)], "interval")


def _region(node: Node) -> Interval | Union | None:
    if isinstance(node, (Interval, Union)):
        return node
    if isinstance(node, Ineq):
        return node.region
    if isinstance(node, Seq) and node.kind == "tuple" and len(node.items) == 2:
        a, b = node.items
        if isinstance(a, Scalar) and isinstance(b, Scalar):
            return Interval(a, b, True, True)
    return None


def _regions(g: Interval | Union, p: Interval | Union, eng: Engine, pol: Policy) -> Decision:
    gp = g.parts if isinstance(g, Union) else (g,)
    pp = p.parts if isinstance(p, Union) else (p,)
    if len(gp) == 1 and len(pp) == 1:
        return _interval(gp[0], pp[0], eng)
    return _unordered(gp, pp, eng, pol)


def _as_equation(a: Assign) -> Relation | None:
    if isinstance(a.value, Scalar):
        return Relation("=", a.var, a.value.text)
    return None


def match(g: Node, p: Node, eng: Engine, pol: Policy) -> Decision:
    """Whether prediction ``p`` answers gold ``g`` (see the module docstring)."""
    if isinstance(p, Bad):
        return False, f"unreadable answer ({p.reason})"
    if isinstance(g, Bad):
        return None, f"unreadable gold ({g.reason})"
    if g == p:
        return True, "identical"
    if isinstance(p, Seq) and p.kind == "list" and len(p.items) == 1:
        p = p.items[0]
    if isinstance(g, Choice):
        if isinstance(p, Choice):
            return p.letter == g.letter, "choice letter"
        if isinstance(p, Seq) and any(isinstance(x, Choice) for x in p.items):
            return False, "several choices"
        return False, "no choice letter"
    if isinstance(g, Text):
        if isinstance(p, Text):
            return p.value == g.value, "text (case-insensitive)"
        if isinstance(p, Scalar):
            return text_answer(p.text, force=True) == g.value, "text (case-insensitive)"
        return False, "expected a word answer"
    if isinstance(g, Assign):
        if isinstance(p, Assign):
            if pol.strict_variables and g.var.lower() != p.var.lower():
                return False, f"different variable ({p.var} for {g.var})"
            return match(g.value, p.value, eng, pol)
        if isinstance(p, Relation) and p.op == "=" and (eq := _as_equation(g)) is not None:
            return eng.relation(eq, p)
        return match(g.value, p, eng, pol)
    if isinstance(p, Assign):
        if isinstance(g, Relation) and g.op == "=" and (eq := _as_equation(p)) is not None:
            return eng.relation(g, eq)
        return match(g, p.value, eng, pol)
    if (
        is_single_valued(g)
        and isinstance(p, Seq)
        and not (isinstance(g, (Interval, Union, Ineq, Matrix)) and p.kind == "tuple")
    ):
        items = _dedupe(p.items)
        if len(items) > 1:
            return False, f"hedged: {len(items)} answers for a single-valued gold"
        if not items:
            return False, "empty answer set"
        return match(g, items[0], eng, pol)
    if isinstance(g, Scalar):
        if isinstance(p, Scalar):
            return eng.scalar(g, p)
        return False, f"expected a value, got {type(p).__name__.lower()}"
    if isinstance(g, Seq):
        if len(g.items) == 1 and not isinstance(p, Seq):
            return match(g.items[0], p, eng, pol)
        if not isinstance(p, Seq):
            if g.kind == "tuple" and (gr := _region(g)) is not None:
                if isinstance(p, Interval) or (isinstance(p, Ineq) and pol.inequality_as_interval):
                    return _regions(gr, _region(p), eng, pol)  # type: ignore[arg-type]
            return False, f"one answer for {len(g.items)}"
        if g.kind == "tuple":
            if p.kind == "set":
                return False, "a set for an ordered tuple"
            return _ordered(g.items, p.items, eng, pol, "tuple (in order)")
        if (
            p.items
            and all(isinstance(x, Assign) for x in p.items)
            and g.items
            and all(isinstance(x, Assign) for x in g.items)
        ):
            return _unordered(g.items, p.items, eng, pol)
        return _unordered(g.items, p.items, eng, pol)
    if isinstance(g, (Interval, Union)):
        if isinstance(p, Ineq) and not pol.inequality_as_interval:
            return False, "inequality for an interval (option off)"
        pr = _region(p)
        if pr is None:
            return False, "expected an interval"
        return _regions(g, pr, eng, pol)
    if isinstance(g, Ineq):
        if isinstance(p, Ineq):
            if pol.strict_variables and g.var.lower() != p.var.lower():
                return False, f"different variable ({p.var} for {g.var})"
            return _regions(g.region, p.region, eng, pol)
        if not pol.inequality_as_interval:
            return False, "interval for an inequality (option off)"
        pr = _region(p)
        if pr is None:
            return False, "expected an inequality"
        return _regions(g.region, pr, eng, pol)
    if isinstance(g, Relation):
        if isinstance(p, Relation):
            return eng.relation(g, p)
        return False, "expected an equation or inequality"
    if isinstance(g, Matrix):
        if isinstance(p, Matrix):
            if len(p.rows) != len(g.rows) or len(p.rows[0]) != len(g.rows[0]):
                return False, "matrix shape differs"
            cells = [eng.scalar(a, b) for ra, rb in zip(g.rows, p.rows) for a, b in zip(ra, rb)]
            return _all(cells, "matrix (elementwise)")
        if isinstance(p, Seq) and p.kind in ("tuple", "list") and (len(g.rows) == 1 or len(g.rows[0]) == 1):
            flat = [c for r in g.rows for c in r]
            return _ordered(flat, p.items, eng, pol, "vector (in order)")
        return False, "expected a matrix"
    return False, f"different kinds of answer ({type(g).__name__} vs {type(p).__name__})"
