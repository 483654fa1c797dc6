"""What a reward returned (:class:`Outcome`) and what a test expects of it (:class:`Expectation`).

Shared by :func:`moreward.testing.assert_score` and the golden-case files, so that
both check the same way and print a failure the same way: the value, the verdict,
the reason and the extracted answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core import Result, Score, Verdict

__all__ = [
    "EXTRACTED_KEYS",
    "UNSET",
    "Expectation",
    "Outcome",
    "failure_text",
    "order_problem",
    "parse_verdicts",
    "short",
    "spec_label",
]

# Keys of ``Score.details`` that hold "the answer the verifier read", in order of preference.
EXTRACTED_KEYS: tuple[str, ...] = (
    "extracted",
    "extracted_answer",
    "answer",
    "prediction",
    "pred",
    "parsed",
    "match",
)


class _Unset:
    """The "not given" marker, distinct from ``None`` (which is an expectable value)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unset>"

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def short(obj: Any, limit: int = 200) -> str:
    """``repr(obj)`` cut to ``limit`` characters."""
    text = repr(obj)
    return text if len(text) <= limit else text[: limit - 15] + f"... ({len(text)} chars)"


def _fmt_value(value: float | None) -> str:
    return "None" if value is None else f"{value:g}"


@dataclass(frozen=True)
class Outcome:
    """The value, verdict, reason and details one reward gave one sample.

    ``verdict`` is ``None`` for a pipeline's combined reward, whose per-objective
    scores are in ``components``.
    """

    label: str
    value: float | None
    verdict: Verdict | None = None
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    components: Mapping[str, Score] = field(default_factory=dict)

    @classmethod
    def from_score(cls, label: str, score: Score) -> Outcome:
        """The outcome of one objective."""
        return cls(label, score.value, score.verdict, score.reason, score.details)

    @classmethod
    def from_result(cls, label: str, result: Result, component: str | None = None) -> Outcome:
        """The combined reward of a pipeline, or one component of it."""
        if component is not None:
            return cls.from_score(f"{label}: {component}", result.components[component])
        return cls(label, result.reward, None, "", {}, dict(result.components))

    @property
    def extracted(self) -> Any:
        """The answer the verifier extracted (the first of :data:`EXTRACTED_KEYS` in details), or ``UNSET``."""
        for key in EXTRACTED_KEYS:
            if key in self.details:
                return self.details[key]
        return UNSET

    def lines(self, *, details: bool = False) -> list[str]:
        """What was returned, one field a line, for failure messages."""
        out = [f"reward:    {self.label}", f"value:     {_fmt_value(self.value)}"]
        if self.verdict is not None:
            out.append(f"verdict:   {self.verdict.value}")
        if self.reason:
            out.append(f"reason:    {self.reason}")
        extracted = self.extracted
        if extracted is not UNSET:
            out.append(f"extracted: {short(extracted)}")
        for name, s in self.components.items():
            line = f"  {name}: {_fmt_value(s.value)} ({s.verdict.value})"
            if s.reason:
                line += f" {s.reason}"
            sub = Outcome.from_score(name, s).extracted
            if sub is not UNSET:
                line += f"; extracted {short(sub, 80)}"
            out.append(line)
        if details and self.details:
            out.append(f"details:   {short(dict(self.details), 2000)}")
        return out


def parse_verdicts(spec: Verdict | str | Iterable[Verdict | str] | None) -> tuple[Verdict, ...]:
    """One verdict or several (any of which is accepted) from names or :class:`Verdict` values.

    Raises:
        ValueError: an unknown name; the message lists the allowed ones.
    """
    if spec is None:
        return ()
    items = [spec] if isinstance(spec, (str, Verdict)) else list(spec)
    out: list[Verdict] = []
    for item in items:
        if isinstance(item, Verdict):
            out.append(item)
            continue
        try:
            out.append(Verdict(str(item).strip().lower()))
        except ValueError:
            allowed = ", ".join(v.value for v in Verdict)
            raise ValueError(f"{item!r} is not a verdict; allowed: {allowed}") from None
    if not out:
        raise ValueError("give at least one verdict")
    return tuple(out)


def _isnum(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@dataclass(frozen=True)
class Expectation:
    """What a test expects of one outcome. Every field given must hold.

    Args:
        value: the exact value (within ``tol``); ``None`` expects "no value"; ``UNSET`` checks nothing.
        tol: absolute tolerance of ``value``.
        min, max: inclusive bounds of the value (a ``None`` value fails them).
        verdicts: the verdict must be one of these.
        reason: a regular expression searched in the reason.
        higher_than, lower_than: ids of other golden cases this one must score above / below.
    """

    value: Any = UNSET
    tol: float = 1e-9
    min: float | None = None
    max: float | None = None
    verdicts: tuple[Verdict, ...] = ()
    reason: str | None = None
    higher_than: tuple[str, ...] = ()
    lower_than: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.value is not UNSET and self.value is not None and not _isnum(self.value):
            raise ValueError(f"value must be a number or None, got {self.value!r}")
        for name in ("min", "max"):
            bound = getattr(self, name)
            if bound is not None and (not _isnum(bound) or math.isnan(bound)):
                raise ValueError(f"{name} must be a number, got {bound!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if not _isnum(self.tol) or not self.tol >= 0:
            raise ValueError(f"tol must be a non-negative number, got {self.tol!r}")
        if self.reason is not None:
            try:
                re.compile(self.reason)
            except re.error as exc:
                raise ValueError(f"reason {self.reason!r} is not a valid regular expression: {exc}") from None

    @property
    def empty(self) -> bool:
        """True when nothing is checked."""
        return (
            self.value is UNSET
            and self.min is None
            and self.max is None
            and not self.verdicts
            and self.reason is None
            and not self.higher_than
            and not self.lower_than
        )

    def describe(self) -> str:
        """The expectation in words, e.g. ``value 1, verdict pass``."""
        parts = []
        if self.value is not UNSET:
            parts.append(f"value {_fmt_value(self.value)}")
        if self.min is not None and self.max is not None:
            parts.append(f"{self.min:g} <= value <= {self.max:g}")
        elif self.min is not None:
            parts.append(f"value >= {self.min:g}")
        elif self.max is not None:
            parts.append(f"value <= {self.max:g}")
        if self.verdicts:
            parts.append("verdict " + " or ".join(v.value for v in self.verdicts))
        if self.reason is not None:
            parts.append(f"reason matching {self.reason!r}")
        parts += [f"higher than {c!r}" for c in self.higher_than]
        parts += [f"lower than {c!r}" for c in self.lower_than]
        return ", ".join(parts) or "nothing"

    def problems(self, outcome: Outcome) -> list[str]:
        """What does not hold for ``outcome`` (orderings excluded: they need the other cases)."""
        out: list[str] = []
        v = outcome.value
        if self.value is not UNSET:
            if self.value is None:
                if v is not None:
                    out.append(f"value {_fmt_value(v)} is not None")
            elif v is None:
                out.append(f"value is None, expected {_fmt_value(self.value)}")
            elif not math.isclose(v, self.value, rel_tol=0.0, abs_tol=self.tol) and v != self.value:
                out.append(f"value {_fmt_value(v)} is not {_fmt_value(self.value)} (tol {self.tol:g})")
        if self.min is not None or self.max is not None:
            if v is None:
                out.append(f"value is None, expected {self._range()}")
            elif (
                math.isnan(v)
                or (self.min is not None and v < self.min)
                or (self.max is not None and v > self.max)
            ):
                out.append(f"value {_fmt_value(v)} is not in {self._range()}")
        if self.verdicts and outcome.verdict not in self.verdicts:
            got = outcome.verdict.value if outcome.verdict is not None else "None"
            out.append(f"verdict {got} is not {' or '.join(x.value for x in self.verdicts)}")
        if self.reason is not None and re.search(self.reason, outcome.reason) is None:
            out.append(f"reason {outcome.reason!r} does not match {self.reason!r}")
        return out

    def _range(self) -> str:
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"[{lo}, {hi}]"


def order_problem(me: str, mine: Outcome, other_id: str, other: Outcome, higher: bool) -> str | None:
    """Why ``mine`` is not higher (or lower) than ``other``, or ``None`` when it is."""
    word = "higher" if higher else "lower"
    if mine.value is None or other.value is None:
        return (
            f"cannot order {me!r} ({_fmt_value(mine.value)}) against {other_id!r} "
            f"({_fmt_value(other.value)}): a value is None"
        )
    ok = mine.value > other.value if higher else mine.value < other.value
    if ok:
        return None
    return f"value {_fmt_value(mine.value)} is not {word} than case {other_id!r} ({_fmt_value(other.value)})"


def failure_text(
    head: str,
    expectation: Expectation,
    outcome: Outcome,
    *,
    completion: Any,
    reference: Any,
    description: str = "",
    details: bool = False,
) -> str:
    """The message of a failed expectation: what was expected, what the reward returned, on what."""
    lines = [head]
    if description:
        lines.append(f"  description: {description}")
    lines.append(f"  expected:  {expectation.describe()}")
    lines += [f"  {line}" for line in outcome.lines(details=details)]
    lines.append(f"  completion: {short(completion)}")
    lines.append(f"  reference:  {short(reference)}")
    return "\n".join(lines)


def spec_label(spec: Mapping[str, Any]) -> str:
    """``exact_match(extract='answer_tag')`` for ``{"type": "exact_match", "extract": "answer_tag"}``."""
    opts = ", ".join(f"{k}={v!r}" for k, v in spec.items() if k != "type")
    return f"{spec['type']}({opts})"
