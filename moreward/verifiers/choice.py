"""Multiple-choice answers: one letter, with decoys refused.

The answer span is the first of these found (the last occurrence of each): an
``<answer>`` block, a ``\\boxed{}``, the rest of the line after an answer phrase
(``answer is``, ``Answer:``, ``final answer``, ``I choose``...), or the whole completion
when it is at most five words. In that span the answer is its first token, a letter
(``B``, ``(B)``, ``B.``, ``B) text``, ``Option B``); lowercase only when it stands alone,
since ``a`` is an article. A span that names two letters joined by ``or``, ``and``,
``/``, ``,``, ``&`` or ``nor`` (``"A or B"``, ``"either A or B"``, ``"A, C"``) is not an
answer: it gets ``Verdict.INVALID`` and 0, as does a span that starts with anything else
(``"not A"``, ``"neither"``). That keeps hedging from collecting the reward.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from ..core import BaseObjective, Sample, Score, Verdict
from ..errors import ConfigError
from ..registry import register
from .text import normalize_text

__all__ = ["MultipleChoice", "choice_span", "parse_choice"]

ChoiceExtract = Literal["auto", "answer_tag", "boxed", "phrase", "full"]
_EXTRACT = ("auto", "answer_tag", "boxed", "phrase", "full")
_SHORT = 5  # words: a completion this short is its own answer span

_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_BOXED = re.compile(r"\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}")
_TEXTCMD = re.compile(r"\\(?:text|mathrm|textbf|mathbf)\s*\{([^{}]*)\}")
_PHRASE = re.compile(
    r"(?:\banswer\s*(?:is|:|would\s+be|should\s+be)|\bcorrect\s+(?:answer|option|choice)\s*(?:is|:)"
    r"|\bfinal\s+(?:answer|choice)\s*(?:is|:)?|\bI\s+(?:choose|pick|select|go\s+with))[ \t]*:?[ \t]*",
    re.I,
)
_LEAD = re.compile(r"^(?:(?:the\s+)?(?:option|choice|letter|answer)\b\s*:?\s*|either\s+)+", re.I)
_FIRST = re.compile(r"[(\[]?\s*([A-Za-z])\s*[)\]]?(?=$|[\s.:,;!?/&)\]-])")
_MORE = re.compile(
    r"^[\s.:)\]]*(?:,|/|&|(?i:\bor\b|\band\b|\bnor\b|\bvs\b\.?))\s*(?i:option\s*|choice\s*)?[(\[]?([A-Z])(?![A-Za-z])"
)


def choice_span(text: str, extract: ChoiceExtract = "auto") -> tuple[str | None, str]:
    """The span that holds the answer and where it came from (``answer_tag``, ``boxed``,
    ``phrase``, ``full``); ``(None, "")`` when there is none."""
    text = text.replace("*", "")
    if extract in ("auto", "answer_tag") and (found := _TAG.findall(text)):
        return found[-1], "answer_tag"
    if extract in ("auto", "boxed") and (boxed := _BOXED.findall(text)):
        return _TEXTCMD.sub(r"\1", boxed[-1]), "boxed"
    if extract in ("auto", "phrase") and (phrases := list(_PHRASE.finditer(text))):
        return text[phrases[-1].end() :].split("\n", 1)[0], "phrase"
    if extract == "full" or (extract == "auto" and 0 < len(text.split()) <= _SHORT):
        return text, "full"
    return None, ""


def parse_choice(span: str, letters: str) -> tuple[str | None, str]:
    """The letter a span answers and the rule that decided: ``"letter"``, ``"no_answer"``,
    ``"ambiguous"`` (two letters joined by a connective) or ``"out_of_range"``.

    Example:
        >>> parse_choice("(B) 42", "ABCD"), parse_choice("A or B", "ABCD")
        (('B', 'letter'), (None, 'ambiguous'))
    """
    s = _LEAD.sub("", span.strip().strip("_`\"' "))
    m = _FIRST.match(s)
    if m is None:
        return None, "no_answer"
    letter, rest = m.group(1), s[m.end() :]
    if letter.islower():
        if rest.strip(" .:;!)]"):
            return None, "no_answer"
        letter = letter.upper()
    more = _MORE.match(rest)
    if more is not None and more.group(1) != letter and more.group(1) in letters:
        return None, "ambiguous"
    if letter not in letters:
        return None, "out_of_range"
    return letter, "letter"


@register("multiple_choice")
class MultipleChoice(BaseObjective):
    """1.0 when the completion answers the reference's letter, else 0.0.

    The reference is a letter (``"B"``, ``"(b)"``), a 0-based index, or a mapping
    ``{"answer": letter or index, "choices": [texts]}``; with choices, the valid
    letters are the first ``len(choices)`` of ``letters``, and an answer given only as
    a choice's text (no letter) counts for that choice. No answer, a decoy
    (``"A or B"``) or a letter out of range is ``INVALID``; a wrong letter is ``FAIL``.
    ``details``: ``extracted``, ``source``, ``letter``, ``rule``.

    Args:
        letters: the option letters, in order (MMLU-Pro: ``A``-``J``).
        extract: ``"auto"``, ``"answer_tag"``, ``"boxed"``, ``"phrase"`` or ``"full"``.
    """

    name: ClassVar[str] = "multiple_choice"

    def __init__(self, *, letters: str = "ABCDEFGHIJ", extract: ChoiceExtract = "auto") -> None:
        if not isinstance(letters, str) or not re.fullmatch(r"[A-Z]+", letters) or len(set(letters)) != len(letters):
            raise ConfigError(f"letters must be distinct uppercase letters, got {letters!r}")
        if extract not in _EXTRACT:
            raise ConfigError(f"extract={extract!r} is not allowed; allowed: {', '.join(_EXTRACT)}")
        self.letters = letters
        self.extract = extract

    def _reference(self, ref: Any) -> tuple[str, str, list[str]] | None:
        choices: list[str] = []
        if isinstance(ref, Mapping):
            raw = ref.get("choices") or ref.get("options") or []
            if not isinstance(raw, Sequence) or isinstance(raw, str) or not all(isinstance(c, str) for c in raw):
                return None
            choices, ref = list(raw), ref.get("answer")
        letters = self.letters[: len(choices)] if choices else self.letters
        if isinstance(ref, int) and not isinstance(ref, bool):
            return (letters[ref], letters, choices) if 0 <= ref < len(letters) else None
        if isinstance(ref, str):
            letter, rule = parse_choice(ref, letters)
            if letter is not None and rule == "letter" and len(ref.strip(" ()[].")) == 1:
                return letter, letters, choices
        return None

    def score(self, sample: Sample) -> Score:
        ref = self._reference(sample.reference)
        if ref is None:
            return Score.skip(f"reference must be a letter, an index or {{answer, choices}}, got {sample.reference!r:.60}")
        gold, letters, choices = ref
        span, source = choice_span(sample.completion, self.extract)
        if span is None:
            return Score(0.0, Verdict.INVALID, "no answer span in the completion", {"rule": "no_answer"})
        letter, rule = parse_choice(span, letters)
        if letter is None and rule == "no_answer" and choices:
            norm = normalize_text(span)
            hits = [letters[i] for i, c in enumerate(choices) if norm and normalize_text(c) == norm]
            if len(hits) == 1:
                letter, rule = hits[0], "choice_text"
        details = {"extracted": span.strip(), "source": source, "letter": letter, "rule": rule}
        if letter is None:
            why = {"ambiguous": "names more than one choice", "out_of_range": f"is not one of {letters}"}.get(rule, "holds no choice")
            return Score(0.0, Verdict.INVALID, f"the answer {why}", details)
        ok = letter == gold
        return Score.from_bool(ok, f"chose {letter}, expected {gold}", **details)
