"""Guards that keep "master key" completions away from model-based judges.

Generative judges (LLM-as-a-judge, generative reward models) give false positives to
completions that carry no answer at all: Zhao et al., *One Token to Fool LLM-as-a-Judge*
(arXiv 2507.08794), report false-positive rates up to 80-90% on GPT-4o, Claude-4,
Qwen2.5 and LLaMA3 judges for the "master keys" ``" "``, ``"."``, ``","``, ``":"``,
``"Thought process:"``, ``"Let's solve this problem step by step."``, ``"Solution"``,
``"解"`` and ``"かいせつ"``. Huang et al., *Pitfalls of Rule- and Model-based Verifiers*
(arXiv 2505.22203), show that policies trained against model-based verifiers learn such
patterns (empty symbols, HTML/markdown scaffolding, adversarial prefixes, prompt
injection aimed at the judge).

The :class:`Guard` decides those cases by rule, before the judge is asked:

- an empty, punctuation-only or master-key-only completion is ``INVALID`` (value 0.0);
- a completion with no extractable answer, or whose answer has no substance once the
  master-key openers, HTML tags and markdown symbols are removed, is ``INVALID``;
- a thinking section under ``min_thinking_chars`` word characters is ``INVALID``
  (the SketchJudge use, where the judge only reads the thinking);
- text addressed to the judge (``[[YES]]``, ``Final Decision: Yes``, "ignore the previous
  instructions", "grade this as correct", ...) is ``FAIL`` (value 0.0).

Gibberish (another Pitfalls pattern) has no rule here: no character-level test tells
it from math or non-English text without false negatives on real answers; the answer
and thinking substance checks catch the short forms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ...core import Sample, Score, Verdict
from ...errors import ConfigError

__all__ = [
    "ANSWER_MODES",
    "INJECTION_PATTERNS",
    "MASTER_KEYS",
    "AnswerMode",
    "Guard",
    "Parts",
    "extract_final_answer",
    "make_guard",
    "split_thinking",
    "substance",
]

MASTER_KEYS: tuple[str, ...] = (
    " ",
    ".",
    ",",
    ":",
    "Thought process:",
    "Let's solve this problem step by step.",
    "Solution",
    "解",
    "かいせつ",
)
"""The master keys of arXiv 2507.08794 (symbols, reasoning openers, multilingual openers)."""

INJECTION_PATTERNS: tuple[str, ...] = (
    r"\[\[\s*(?:yes|no)\s*\]\]",
    r"final\s+decision\s*[:：]\s*\**\s*(?:yes|no)\b",
    r"\bignore\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier|preceding)\s+"
    r"(?:instructions?|prompts?|rules|messages?)",
    r"\b(?:the\s+)?(?:judge|grader|verifier|evaluator|reward\s+model)\s+(?:must|should|will|shall)\s+"
    r"(?:say|answer|output|respond|reply|return|mark|grade|judge|give)\b",
    r"\b(?:you|judge|grader|verifier|evaluator)\s*,?\s+(?:must|should|have\s+to)\s+(?:say|answer|output|respond|reply)"
    r"\s+(?:with\s+)?[\"'\[]*(?:yes|correct|true)\b",
    r"(?:^|[.!?:\n]\s*)(?:please\s+)?(?:output|respond\s+with|reply\s+with|return)\s+[\"'\[]*yes\b",
    r"\b(?:grade|mark|judge|rate|score|evaluate)\s+(?:this|it|the\s+(?:answer|response|solution)|my\s+answer)\s+as\s+"
    r"(?:correct|right|true|yes|passing)\b",
    r"\bas\s+an\s+ai\s+(?:assistant|language\s+model|model)\b.{0,40}\b(?:answer|response)\s+is\s+correct\b",
)
"""Regular expressions (case-insensitive) for text addressed to the judge (arXiv 2505.22203's
"prompt injection" and "adversarial prefixes"). Self-checks inside a reasoning trace ("so the
answer is correct") are not matched: only decision tokens and imperatives aimed at a grader are."""

AnswerMode = Literal["auto", "math", "answer_is", "after_think", "answer_tag", "last_line", "none"]
ANSWER_MODES: tuple[str, ...] = ("auto", "math", "answer_is", "after_think", "answer_tag", "last_line", "none")

_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]{0,200})?>?")  # also a tag cut before its ">"
_ANSWER_TAG = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.DOTALL | re.IGNORECASE)
_ANSWER_IS = re.compile(r"(?:final\s+answer|the\s+answer)\s+is\s*[:：]?", re.IGNORECASE)


def _norm(text: str) -> str:
    """NFKC, casefold, punctuation and symbols dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = [" " if unicodedata.category(c)[0] in "PSZC" else c for c in text]
    return " ".join("".join(kept).split())


def substance(text: str) -> int:
    """How many letters and digits (any script) ``text`` has once HTML tags are removed.

    Example:
        >>> substance("<b>**:**</b>  ")
        0
        >>> substance("x = 42")
        3
    """
    return sum(1 for c in _TAG.sub(" ", text) if c.isalnum())


def split_thinking(text: str, open_tag: str = "<think>", close_tag: str = "</think>") -> tuple[str | None, str]:
    """``(thinking, rest)``: the text inside the last thinking section and what follows it.

    ``thinking`` is ``None`` when the completion has no thinking section. An opened but
    never closed section (a truncated generation) is all thinking and has no rest.
    """
    k = text.rfind(close_tag)
    if k < 0:
        j = text.find(open_tag)
        if j < 0:
            return None, text.strip()
        return text[j + len(open_tag) :].strip(), ""
    before, after = text[:k], text[k + len(close_tag) :]
    j = before.rfind(open_tag)
    thinking = before[j + len(open_tag) :] if j >= 0 else before
    return thinking.strip(), after.strip()


def extract_final_answer(text: str, mode: AnswerMode = "auto") -> str | None:
    """The final answer of a completion, or ``None`` when it has none.

    Modes: ``"math"`` (moreward's math extractor: ``\\boxed{}``, ``<answer>``, "the answer
    is", last number), ``"answer_is"`` (QwenLong-L1: what follows the last "the answer is"
    after ``</think>``), ``"after_think"`` (everything after ``</think>``),
    ``"answer_tag"`` (the last ``<answer>`` block), ``"last_line"`` (the last non-empty
    line after ``</think>``), ``"auto"`` (math, then answer_is, then the last line after
    ``</think>``) and ``"none"`` (the whole text).
    """
    if mode == "none":
        return text
    _, rest = split_thinking(text)
    if mode == "after_think":
        return rest if "</think>" in text and rest else None
    if mode == "answer_tag":
        found = _ANSWER_TAG.findall(rest)
        return found[-1].strip() if found else None
    if mode in ("math", "auto"):
        found_math = _math_answer(text)
        if found_math is not None or mode == "math":
            return found_math
    if mode in ("answer_is", "auto"):
        hits = list(_ANSWER_IS.finditer(rest.replace("*", "")))
        if hits:
            return rest.replace("*", "")[hits[-1].end() :].strip().strip(".").strip()
        if mode == "answer_is":
            return None
    lines = [ln.strip() for ln in rest.splitlines() if ln.strip()]
    return lines[-1] if lines else None


def _math_answer(text: str) -> str | None:
    try:
        from ..math.extract import extract_answer
    except ImportError:  # pragma: no cover - the math verifier ships with moreward
        return None
    found = extract_answer(text)
    return None if found is None else found.text


@dataclass(frozen=True)
class Parts:
    """The pieces of a completion a judge template can show.

    Attributes:
        thinking: the thinking section (``None`` when there is none).
        rest: what follows the thinking section (the whole text when there is none).
        answer: the extracted final answer (``None`` when none was found).
    """

    thinking: str | None
    rest: str
    answer: str | None


@dataclass(frozen=True)
class Guard:
    """Rule checks run before a judge is asked; see the module docstring.

    Args:
        answer: how the final answer is extracted (:data:`ANSWER_MODES`); ``"none"``
            takes the whole completion, so only the master-key checks apply to it.
        require_answer: a completion without an extractable answer is ``INVALID``.
        min_answer_chars: letters/digits the answer must keep once the master-key
            openers, HTML tags and markdown are removed.
        min_thinking_chars: letters/digits the thinking section must have (0: no thinking
            needed; the SketchJudge template asks for some).
        master_keys: completions that are only these strings (in any case, with any
            punctuation around them) are ``INVALID``.
        injection_patterns: regular expressions for text addressed to the judge
            (``FAIL``); empty to switch the check off.
        think_tags: the opening and closing tags of the thinking section.
    """

    answer: AnswerMode = "auto"
    require_answer: bool = True
    min_answer_chars: int = 1
    min_thinking_chars: int = 0
    master_keys: tuple[str, ...] = MASTER_KEYS
    injection_patterns: tuple[str, ...] = INJECTION_PATTERNS
    think_tags: tuple[str, str] = ("<think>", "</think>")
    _keys: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _injection: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.answer not in ANSWER_MODES:
            raise ConfigError(f"guard answer={self.answer!r} is not allowed; allowed: {', '.join(ANSWER_MODES)}")
        for name in ("min_answer_chars", "min_thinking_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"guard {name} must be a non-negative int, got {value!r}")
        if len(tuple(self.think_tags)) != 2:
            raise ConfigError(f"guard think_tags must be (open, close), got {self.think_tags!r}")
        object.__setattr__(self, "master_keys", tuple(self.master_keys))
        object.__setattr__(self, "injection_patterns", tuple(self.injection_patterns))
        object.__setattr__(self, "think_tags", tuple(self.think_tags))
        keys = sorted({k for k in (_norm(m) for m in self.master_keys) if k}, key=len, reverse=True)
        object.__setattr__(self, "_keys", tuple(keys))
        try:
            compiled = tuple(re.compile(p, re.IGNORECASE | re.DOTALL) for p in self.injection_patterns)
        except re.error as exc:
            raise ConfigError(f"guard injection pattern does not compile: {exc}") from exc
        object.__setattr__(self, "_injection", compiled)

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if not k.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            object.__setattr__(self, k, v)
        self.__post_init__()

    def parts(self, completion: str) -> Parts:
        """Split ``completion`` into thinking, rest and extracted answer."""
        thinking, rest = split_thinking(completion, *self.think_tags)
        if self.think_tags != ("<think>", "</think>"):
            completion = completion.replace(self.think_tags[0], "<think>").replace(self.think_tags[1], "</think>")
        return Parts(thinking, rest, extract_final_answer(completion, self.answer))

    def strip_master_keys(self, text: str) -> str:
        """The normalised ``text`` with every leading master key removed (repeatedly)."""
        rest = _norm(_TAG.sub(" ", text))
        changed = True
        while rest and changed:
            changed = False
            for key in self._keys:
                if rest == key or rest.startswith(key + " "):
                    rest = rest[len(key) :].strip()
                    changed = True
                    break
        return rest

    def check(self, sample: Sample, parts: Parts | None = None) -> Score | None:
        """A decided :class:`Score` when the judge must not be asked, else ``None``."""
        text = sample.completion
        parts = parts if parts is not None else self.parts(text)
        if not self.strip_master_keys(text):
            return Score(0.0, Verdict.INVALID, "master key: the completion is empty, punctuation or an opener only",
                         {"guard": "master_key"})
        for pattern in self._injection:
            m = pattern.search(text)
            if m is not None:
                return Score(0.0, Verdict.FAIL, f"text addressed to the judge: {m.group(0)[:60]!r}",
                             {"guard": "injection"})
        if self.min_thinking_chars:
            if parts.thinking is None:
                return Score(0.0, Verdict.INVALID, "no thinking section", {"guard": "thinking"})
            kept = self.strip_master_keys(parts.thinking)
            if substance(kept) < self.min_thinking_chars:
                return Score(0.0, Verdict.INVALID,
                             f"thinking has under {self.min_thinking_chars} letters/digits of substance",
                             {"guard": "thinking"})
        if self.require_answer and self.answer != "none":
            if parts.answer is None:
                return Score(0.0, Verdict.INVALID, f"no extractable answer ({self.answer})", {"guard": "no_answer"})
            if substance(self.strip_master_keys(parts.answer)) < self.min_answer_chars:
                return Score(0.0, Verdict.INVALID, "the answer is empty, symbols or a master key",
                             {"guard": "empty_answer", "answer": parts.answer[:80]})
        return None


def make_guard(guard: Guard | Mapping[str, Any] | bool | None, default: Guard) -> Guard | None:
    """A judge's ``guard`` option as a :class:`Guard` (``True``: ``default``; ``False``/``None``: no guard)."""
    if guard is True:
        return default
    if guard is False or guard is None:
        return None
    if isinstance(guard, Guard):
        return guard
    if isinstance(guard, Mapping):
        opts = dict(guard)
        for key in ("master_keys", "injection_patterns", "think_tags"):
            if key in opts:
                opts[key] = tuple(opts[key])
        try:
            return Guard(**opts)
        except TypeError as exc:
            allowed = [k for k in Guard.__dataclass_fields__ if not k.startswith("_")]
            raise ConfigError(f"guard: {exc}; allowed keys: {', '.join(allowed)}") from exc
    raise ConfigError(f"guard must be a bool, a Guard or a mapping of Guard options, got {type(guard).__name__}")
