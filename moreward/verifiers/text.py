"""Text objectives: normalised exact match (``exact_match``) and regular expressions (``regex``).

Both are cheap and deterministic, and they prove the objective -> pipeline path end
to end. Neither raises for a bad completion: they return a :class:`~moreward.core.Score`.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from ..core import BaseObjective, Sample, Score, Verdict
from ..errors import ConfigError
from ..registry import register

__all__ = ["ExactMatch", "RegexMatch", "extract_span", "normalize_text"]

Extract = Literal["full", "answer_tag", "last_line"]
_EXTRACT_CHOICES: tuple[str, ...] = ("full", "answer_tag", "last_line")
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_WS = re.compile(r"\s+")
_PUNCT = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_text(
    text: str,
    *,
    case_sensitive: bool = False,
    strip_punctuation: bool = True,
    remove_articles: bool = False,
) -> str:
    """Unicode NFKC, optional casefold, punctuation and article removal, whitespace collapsed.

    Example:
        >>> normalize_text("  The  Answer: Paris. ")
        'the answer paris'
    """
    out = unicodedata.normalize("NFKC", text)
    if not case_sensitive:
        out = out.casefold()
    if strip_punctuation:
        out = out.translate(_PUNCT)
    if remove_articles:
        out = _ARTICLES.sub(" ", out)
    return _WS.sub(" ", out).strip()


def extract_span(text: str, how: Extract) -> str | None:
    """The part of ``text`` to compare: all of it, the last ``<answer>`` block, or the last non-empty line.

    Returns ``None`` when the requested part is absent (no ``<answer>`` tag, empty text).
    """
    if how == "full":
        return text
    if how == "answer_tag":
        found = _ANSWER_TAG.findall(text)
        return found[-1] if found else None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else None


def _check_extract(extract: str) -> None:
    if extract not in _EXTRACT_CHOICES:
        raise ConfigError(f"extract={extract!r} is not allowed; allowed: {', '.join(_EXTRACT_CHOICES)}")


@register("exact_match")
class ExactMatch(BaseObjective):
    """1.0 when the normalised completion equals the normalised reference, else 0.0.

    The reference may be a string or a list of acceptable strings. A missing
    reference gives ``SKIP`` (no value), and a missing span (``extract="answer_tag"``
    without a tag) gives ``INVALID`` with value 0.0.

    Args:
        extract: which part of the completion to compare: ``"full"``, ``"answer_tag"``, ``"last_line"``.
        case_sensitive: compare case as written.
        strip_punctuation: drop ASCII punctuation before comparing.
        remove_articles: drop English articles (SQuAD-style normalisation).
    """

    name: ClassVar[str] = "exact_match"

    def __init__(
        self,
        *,
        extract: Extract = "full",
        case_sensitive: bool = False,
        strip_punctuation: bool = True,
        remove_articles: bool = False,
    ) -> None:
        _check_extract(extract)
        self.extract = extract
        self.case_sensitive = bool(case_sensitive)
        self.strip_punctuation = bool(strip_punctuation)
        self.remove_articles = bool(remove_articles)

    def _norm(self, text: str) -> str:
        return normalize_text(
            text,
            case_sensitive=self.case_sensitive,
            strip_punctuation=self.strip_punctuation,
            remove_articles=self.remove_articles,
        )

    def score(self, sample: Sample) -> Score:
        refs = _references(sample.reference)
        if refs is None:
            return Score.skip(f"reference must be a string or a list of strings, got {sample.reference!r:.60}")
        span = extract_span(sample.completion, self.extract)
        if span is None:
            return Score(0.0, Verdict.INVALID, f"no {self.extract} span in the completion")
        got = self._norm(span)
        for ref in refs:
            if got == self._norm(ref):
                return Score.from_bool(True, "normalised strings are equal", extracted=span, matched=ref)
        return Score.from_bool(False, "normalised strings differ", extracted=span)


def _references(reference: Any) -> list[str] | None:
    if isinstance(reference, str):
        return [reference]
    if isinstance(reference, Sequence) and reference and all(isinstance(r, str) for r in reference):
        return list(reference)
    if isinstance(reference, (int, float)) and not isinstance(reference, bool):
        return [str(reference)]
    return None


_FLAG_LETTERS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "a": re.ASCII}


@register("regex")
class RegexMatch(BaseObjective):
    """1.0 when ``pattern`` is found in the completion (``mode="search"``) or matches all of it
    (``mode="fullmatch"``), else 0.0.

    The pattern is compiled at construction, so a bad pattern is a ``ConfigError``
    before training starts. ``details["match"]`` holds the matched text.

    Args:
        pattern: a Python regular expression.
        mode: ``"search"`` or ``"fullmatch"``.
        flags: letters of ``re`` flags: ``i`` (ignore case), ``m``, ``s``, ``x``, ``a``.
        strip: strip surrounding whitespace from the completion first.
    """

    name: ClassVar[str] = "regex"

    def __init__(
        self,
        pattern: str,
        *,
        mode: Literal["search", "fullmatch"] = "search",
        flags: str = "",
        strip: bool = True,
    ) -> None:
        if mode not in ("search", "fullmatch"):
            raise ConfigError(f"mode={mode!r} is not allowed; allowed: search, fullmatch")
        bad = [c for c in flags if c not in _FLAG_LETTERS]
        if bad:
            raise ConfigError(f"unknown regex flag(s) {''.join(bad)!r}; allowed: {''.join(_FLAG_LETTERS)}")
        value = 0
        for c in flags:
            value |= _FLAG_LETTERS[c]
        try:
            self._compiled = re.compile(pattern, value)
        except re.error as exc:
            raise ConfigError(f"pattern {pattern!r} does not compile: {exc}") from exc
        self.pattern = pattern
        self.mode = mode
        self.flags = flags
        self.strip = bool(strip)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(vars(self))
        state.pop("_compiled")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["pattern"], mode=state["mode"], flags=state["flags"], strip=state["strip"])  # type: ignore[misc]

    def score(self, sample: Sample) -> Score:
        text = sample.completion.strip() if self.strip else sample.completion
        if self.mode == "search":
            m = self._compiled.search(text)
        else:
            m = self._compiled.fullmatch(text)
        if m is None:
            return Score.from_bool(False, f"pattern not {'found' if self.mode == 'search' else 'matched'}")
        return Score.from_bool(True, f"pattern {'found' if self.mode == 'search' else 'matched'}", match=m.group(0))
