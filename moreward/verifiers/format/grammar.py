"""The tag-grammar core: code spans, the tag tree, :class:`TagGrammar`, and the
``tag_grammar`` and ``tag_count`` objectives.

:class:`TagGrammar` checks a completion against declared tags: which tags exist
(anything else that looks like a tag is text, so ``a<b>c`` in maths is harmless),
their nesting (allowed parents, no tag inside itself), their counts, the order of
the top-level tags (a regex over the sequence ``<name>...``), what may stand outside
them, and empty blocks. Tags inside fenced code blocks (```` ``` ```` / ``~~~``,
CommonMark: an unclosed fence runs to the end) and inline `` `code` `` are ignored.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from ...core import BaseObjective, Sample, Score, Verdict
from ...errors import ConfigError
from ...registry import register

__all__ = [
    "OPEN_R1_TAGS",
    "TOP",
    "Element",
    "Fence",
    "FormatCheck",
    "TagCount",
    "TagGrammar",
    "TagGrammarFormat",
    "TagSpec",
    "check_tag_name",
    "code_spans",
    "fenced_blocks",
    "parse_tags",
    "tag_count",
    "walk",
]


TOP = ""
"""The parent name of a top-level element."""

Outside = Literal["whitespace", "after", "any"]
_OUTSIDE = ("whitespace", "after", "any")
_TAG_NAME = re.compile(r"[A-Za-z][\w.:-]*")


def check_tag_name(name: object) -> str:
    """``name`` if it is a valid tag name, else :class:`~moreward.errors.ConfigError`."""
    if not isinstance(name, str) or not _TAG_NAME.fullmatch(name):
        raise ConfigError(f"tag name {name!r} is not a valid tag name (a letter, then letters, digits, _ . : -)")
    return name


# --------------------------------------------------------------------------- code spans

_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})[ \t]*([^\n`]*)$", re.M)
_INLINE = re.compile(r"`[^`\n]+`")


@dataclass(frozen=True)
class Fence:
    """One fenced code block: its info string (``python``), offsets and body."""

    lang: str
    start: int
    end: int
    body: str
    closed: bool


def fenced_blocks(text: str) -> list[Fence]:
    """The fenced code blocks of ``text`` in order (CommonMark: the closing fence uses the same
    character, is at least as long and has no info string; an unclosed fence runs to the end)."""
    if "```" not in text and "~~~" not in text:
        return []
    out: list[Fence] = []
    opened: re.Match[str] | None = None
    for m in _FENCE.finditer(text):
        if opened is None:
            opened = m
        elif m.group(1)[0] == opened.group(1)[0] and len(m.group(1)) >= len(opened.group(1)) and not m.group(2).strip():
            body = text[opened.end() + 1 : m.start()]
            out.append(Fence(opened.group(2).strip().lower(), opened.start(), m.end(), body, True))
            opened = None
    if opened is not None:
        out.append(Fence(opened.group(2).strip().lower(), opened.start(), len(text), text[opened.end() + 1 :], False))
    return out


def code_spans(text: str, *, inline: bool = True) -> list[tuple[int, int]]:
    """Sorted ``(start, end)`` offsets of fenced code blocks and, with ``inline``, single-line inline code."""
    if "`" not in text and "~~~" not in text:
        return []
    spans = [(f.start, f.end) for f in fenced_blocks(text)]
    if inline and "`" in text:
        gaps, pos = [], 0
        for s, e in spans:
            gaps.append((pos, s))
            pos = e
        gaps.append((pos, len(text)))
        for gs, ge in gaps:
            spans.extend(m.span() for m in _INLINE.finditer(text, gs, ge))
        spans.sort()
    return spans


def _inside(pos: int, spans: list[tuple[int, int]], starts: list[int]) -> bool:
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and pos < spans[i][1]


# --------------------------------------------------------------------------- tag tree


@dataclass
class Element:
    """One tag block: offsets of the opening tag, the content and the end of the closing tag."""

    name: str
    start: int
    inner_start: int
    inner_end: int = -1
    end: int = -1
    ancestors: tuple[str, ...] = ()
    children: list[Element] = field(default_factory=list)

    @property
    def parent(self) -> str:
        """The name of the enclosing tag, or :data:`TOP`."""
        return self.ancestors[-1] if self.ancestors else TOP

    def content(self, text: str) -> str:
        """The text between the opening and the closing tag."""
        return text[self.inner_start : self.inner_end]


@functools.lru_cache(maxsize=256)
def _tag_regex(names: tuple[str, ...], case_sensitive: bool) -> re.Pattern[str]:
    alts = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"<(/?)({alts})\s*>", 0 if case_sensitive else re.IGNORECASE)


def parse_tags(
    text: str, names: Iterable[str], *, case_sensitive: bool = True, ignore_code: bool = True
) -> tuple[list[Element], list[tuple[str, str]]]:
    """Parse the tags ``names`` in ``text`` into a tree.

    Returns the top-level elements and the violations found while parsing, as
    ``(rule, message)`` pairs with the rules ``"unbalanced"`` (a closing tag that closes
    nothing open, or not the innermost open tag) and ``"unclosed"``.
    """
    declared = tuple(names)
    canon = {n if case_sensitive else n.lower(): n for n in declared}
    spans = code_spans(text) if ignore_code else []
    starts = [s for s, _ in spans]
    roots: list[Element] = []
    stack: list[Element] = []
    errors: list[tuple[str, str]] = []
    for m in _tag_regex(declared, case_sensitive).finditer(text):
        if spans and _inside(m.start(), spans, starts):
            continue
        name = canon[m.group(2) if case_sensitive else m.group(2).lower()]
        if not m.group(1):
            el = Element(name, m.start(), m.end(), ancestors=tuple(e.name for e in stack))
            (stack[-1].children if stack else roots).append(el)
            stack.append(el)
            continue
        if stack and stack[-1].name == name:
            el = stack.pop()
            el.inner_end, el.end = m.start(), m.end()
            continue
        where = f"<{stack[-1].name}> is open" if stack else "no tag is open"
        errors.append(("unbalanced", f"</{name}> at offset {m.start()} but {where}"))
        if any(e.name == name for e in stack):  # recover: close up to the matching open tag
            while stack and stack[-1].name != name:
                el = stack.pop()
                errors.append(("unclosed", f"<{el.name}> opened at offset {el.start} is never closed"))
                el.inner_end = el.end = m.start()
            el = stack.pop()
            el.inner_end, el.end = m.start(), m.end()
    for el in stack:
        errors.append(("unclosed", f"<{el.name}> opened at offset {el.start} is never closed"))
        el.inner_end = el.end = len(text)
    return roots, errors


def walk(elements: Iterable[Element]) -> Iterable[Element]:
    """Every element of the trees ``elements``, depth first, in document order."""
    for el in elements:
        yield el
        yield from walk(el.children)


@dataclass(frozen=True)
class FormatCheck:
    """The outcome of a format check: ``ok``, the violations as ``(rule, message)`` pairs,
    the top-level elements and any measures (``info``)."""

    ok: bool
    errors: tuple[tuple[str, str], ...] = ()
    elements: tuple[Element, ...] = ()
    info: Mapping[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def value(self) -> float:
        """``1.0`` when ok, else ``0.0``: the format reward as a plain float."""
        return 1.0 if self.ok else 0.0

    @property
    def rule(self) -> str | None:
        """The first rule that failed, or ``None``."""
        return self.errors[0][0] if self.errors else None

    @property
    def reason(self) -> str:
        """The first violation's message, or ``"well-formed"``."""
        return self.errors[0][1] if self.errors else "well-formed"

    def blocks(self, name: str) -> list[Element]:
        """Every element called ``name``, in document order."""
        return [e for e in walk(self.elements) if e.name == name]

    def to_score(self, **details: Any) -> Score:
        """``1.0``/PASS when ok, else ``0.0``/FAIL with the failed rule and all violations."""
        info = {**self.info, **details}
        if self.ok:
            return Score(1.0, Verdict.PASS, "well-formed", info)
        errs = [f"{r}: {m}" for r, m in self.errors]
        return Score(0.0, Verdict.FAIL, f"{self.rule}: {self.reason}", {"rule": self.rule, "errors": errs, **info})


@dataclass(frozen=True)
class TagSpec:
    """One tag of a grammar.

    Args:
        name: the tag name, as in ``<name>``.
        min: fewest occurrences. max: most occurrences (``None``: unbounded).
        parents: the tags it may sit directly in (:data:`TOP` for the top level);
            ``None``: anywhere.
        allow_empty: whether a block holding only whitespace is valid.
        nest: whether it may sit inside another block of the same name.
    """

    name: str
    min: int = 0
    max: int | None = 1
    parents: tuple[str, ...] | None = (TOP,)
    allow_empty: bool = True
    nest: bool = False

    def __post_init__(self) -> None:
        check_tag_name(self.name)
        if isinstance(self.min, bool) or not isinstance(self.min, int) or self.min < 0:
            raise ConfigError(f"tag {self.name!r}: min must be a non-negative int, got {self.min!r}")
        if self.max is not None and (isinstance(self.max, bool) or not isinstance(self.max, int) or self.max < self.min):
            raise ConfigError(f"tag {self.name!r}: max must be None or an int >= min, got {self.max!r}")
        if self.parents is not None and not (isinstance(self.parents, tuple) and all(isinstance(p, str) for p in self.parents)):
            raise ConfigError(f"tag {self.name!r}: parents must be tag names ('' for the top level), got {self.parents!r}")
        if not isinstance(self.allow_empty, bool) or not isinstance(self.nest, bool):
            raise ConfigError(f"tag {self.name!r}: allow_empty and nest must be booleans")


_SPEC_KEYS = ("min", "max", "parents", "allow_empty", "nest")


@dataclass(frozen=True)
class TagGrammar:
    """A tag grammar. ``check(text)`` returns a :class:`FormatCheck`.

    Args:
        tags: the declared tags; any other ``<...>`` is text.
        order: a regex that must fullmatch the top-level tag sequence written as
            ``<a><b>...``, e.g. ``"<think><answer>"`` or ``"(<think><answer>)+"``.
        outside: what may stand outside the top-level tags: ``"whitespace"``,
            ``"after"`` (text after the last one only) or ``"any"``.
        ignore_code: ignore tags inside fenced and inline code.
        case_sensitive: match tag names as written.
    """

    tags: tuple[TagSpec, ...]
    order: str | None = None
    outside: Outside = "whitespace"
    ignore_code: bool = True
    case_sensitive: bool = True

    def __post_init__(self) -> None:
        if not self.tags:
            raise ConfigError("a tag grammar needs at least one tag")
        if len({t.name for t in self.tags}) != len(self.tags):
            raise ConfigError("tag names in a grammar must be distinct")
        if self.outside not in _OUTSIDE:
            raise ConfigError(f"outside={self.outside!r} is not allowed; allowed: {', '.join(_OUTSIDE)}")
        if self.order is not None:
            try:
                re.compile(self.order)
            except re.error as exc:
                raise ConfigError(f"order {self.order!r} does not compile: {exc}") from exc

    @classmethod
    def from_config(cls, tags: Mapping[str, Mapping[str, Any] | None], **kwargs: Any) -> TagGrammar:
        """Build a grammar from plain data: ``{"think": {"min": 1, "max": 1}, "answer": {...}}``."""
        if not isinstance(tags, Mapping) or not tags:
            raise ConfigError("tags must be a non-empty mapping of tag name -> options")
        specs = []
        for name, opts in tags.items():
            opts = dict(opts or {})
            bad = [k for k in opts if k not in _SPEC_KEYS]
            if bad:
                raise ConfigError(f"tag {name!r}: unknown option(s) {', '.join(map(repr, bad))}; allowed: {', '.join(_SPEC_KEYS)}")
            if isinstance(opts.get("parents"), (list, tuple)):
                opts["parents"] = tuple(opts["parents"])
            specs.append(TagSpec(str(name), **opts))
        return cls(tuple(specs), **kwargs)

    def check(self, text: str) -> FormatCheck:
        """Validate ``text``; never raises."""
        specs = {t.name: t for t in self.tags}
        roots, errs = parse_tags(text, specs, case_sensitive=self.case_sensitive, ignore_code=self.ignore_code)
        errors = list(errs)
        counts = dict.fromkeys(specs, 0)
        for el in walk(roots):
            spec = specs[el.name]
            counts[el.name] += 1
            if spec.parents is not None and el.parent not in spec.parents:
                where = f"inside <{el.parent}>" if el.parent else "at the top level"
                errors.append(("nesting", f"<{el.name}> at offset {el.start} is {where}"))
            if not spec.nest and el.name in el.ancestors:
                errors.append(("nesting", f"<{el.name}> at offset {el.start} is nested in another <{el.name}>"))
            if not spec.allow_empty and not el.content(text).strip():
                errors.append(("empty", f"<{el.name}> at offset {el.start} is empty"))
        for name, spec in specs.items():
            if counts[name] < spec.min or (spec.max is not None and counts[name] > spec.max):
                want = f"{spec.min}" if spec.max == spec.min else f"{spec.min}..{'' if spec.max is None else spec.max}"
                rule = "missing" if counts[name] < spec.min else "duplicate"
                errors.append((rule, f"<{name}> occurs {counts[name]} time(s), expected {want}"))
        if self.order is not None:
            seq = "".join(f"<{e.name}>" for e in roots)
            if re.fullmatch(self.order, seq) is None:
                errors.append(("order", f"top-level tags {seq or '(none)'} do not match {self.order}"))
        if self.outside != "any":
            pos, last = 0, len(roots) - 1
            bounds = [*((el.start, el.end) for el in roots), (len(text), len(text))]
            for i, (start, end) in enumerate(bounds):
                seg = text[pos:start]
                if seg.strip() and not (self.outside == "after" and i > last and roots):
                    where = "before the first tag" if i == 0 else "between tags" if i <= last else "after the last tag"
                    errors.append(("outside", f"text {where}: {seg.strip()[:40]!r}"))
                pos = end
        errors.sort(key=lambda e: _RULE_RANK.get(e[0], 9))
        return FormatCheck(not errors, tuple(errors), tuple(roots))


_RULE_RANK = {"unbalanced": 0, "unclosed": 0, "nesting": 1, "duplicate": 2, "missing": 3, "order": 4, "outside": 5, "empty": 6}


# --------------------------------------------------------------------------- objectives


@register("tag_grammar")
class TagGrammarFormat(BaseObjective):
    """1.0 when the completion fits a :class:`TagGrammar` given as plain options, else 0.0.

    Example config::

        [objectives.format]
        type = "tag_grammar"
        tags = { think = { min = 1, max = 1 }, answer = { min = 1, max = 1, allow_empty = false } }
        order = "<think><answer>"
        outside = "whitespace"

    Args:
        tags: tag name -> options (``min``, ``max``, ``parents``, ``allow_empty``, ``nest``).
        order: regex over the top-level tag sequence.
        outside: ``"whitespace"``, ``"after"`` or ``"any"``.
        ignore_code: ignore tags in code blocks.
        case_sensitive: match tag names as written.
    """

    name: ClassVar[str] = "tag_grammar"

    def __init__(
        self,
        *,
        tags: Mapping[str, Mapping[str, Any] | None],
        order: str | None = None,
        outside: Outside = "whitespace",
        ignore_code: bool = True,
        case_sensitive: bool = True,
    ) -> None:
        self.tags = {str(k): dict(v or {}) for k, v in tags.items()} if isinstance(tags, Mapping) else tags
        self.order = order
        self.outside = outside
        self.ignore_code = bool(ignore_code)
        self.case_sensitive = bool(case_sensitive)
        self._grammar = TagGrammar.from_config(
            tags, order=order, outside=outside, ignore_code=self.ignore_code, case_sensitive=self.case_sensitive
        )

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_grammar"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def score(self, sample: Sample) -> Score:
        return self._grammar.check(sample.completion).to_score()


OPEN_R1_TAGS: tuple[str, ...] = ("<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>")
"""The four strings of open-r1's ``tag_count_reward``."""


def tag_count(text: str, tags: Sequence[str] = OPEN_R1_TAGS, *, ignore_code: bool = False) -> tuple[float, list[str]]:
    """open-r1's tag-count partial credit: ``(1/k)·#{s in tags : text.count(s) == 1}``.

    Returns the credit in [0, 1] and the strings that were not present exactly once.
    With ``ignore_code``, occurrences inside code blocks are not counted (open-r1 counts them).

    Example:
        >>> tag_count("<think>\\nx\\n</think>\\n<answer>\\ny\\n</answer>")
        (1.0, [])
    """
    if ignore_code:
        spans = code_spans(text)
        if spans:
            pieces, pos = [], 0
            for s, e in spans:
                pieces.append(text[pos:s])
                pos = e
            pieces.append(text[pos:])
            text = "\x00".join(pieces)
    missed = [t for t in tags if text.count(t) != 1]
    return (len(tags) - len(missed)) / len(tags), missed


@register("tag_count")
class TagCount(BaseObjective):
    """Partial credit for tags present exactly once (open-r1 ``tag_count_reward``).

    Value ``(1/k)·#{present exactly once}`` over the k strings ``tags`` (default open-r1's
    ``<think>\\n``, ``\\n</think>\\n``, ``\\n<answer>\\n``, ``\\n</answer>``: 0.25 each).
    PASS at 1, FAIL at 0, PARTIAL between; ``details["missed"]`` lists the rest.
    """

    name: ClassVar[str] = "tag_count"

    def __init__(self, *, tags: Sequence[str] = OPEN_R1_TAGS, ignore_code: bool = False) -> None:
        if isinstance(tags, str) or not tags or not all(isinstance(t, str) and t for t in tags):
            raise ConfigError("tags must be a non-empty list of non-empty strings")
        self.tags = tuple(tags)
        self.ignore_code = bool(ignore_code)

    def score(self, sample: Sample) -> Score:
        value, missed = tag_count(sample.completion, self.tags, ignore_code=self.ignore_code)
        verdict = Verdict.PASS if value == 1 else Verdict.FAIL if value == 0 else Verdict.PARTIAL
        return Score(value, verdict, f"{len(self.tags) - len(missed)}/{len(self.tags)} tags exactly once", {"missed": missed})

