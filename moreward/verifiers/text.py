"""Text objectives: normalised exact match (``exact_match``), regular expressions (``regex``),
token F1 (``token_f1``) and QwenLong-L1's sub-exact-match (``sub_em``).

All are cheap and deterministic. None raises for a bad completion: they return a
:class:`~moreward.core.Score`.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from ..core import BaseObjective, Sample, Score, Verdict
from ..errors import ConfigError
from ..registry import register

__all__ = [
    "ExactMatch",
    "RegexMatch",
    "SubExactMatch",
    "TokenF1",
    "extract_answer",
    "extract_span",
    "normalize_text",
    "sub_exact_match",
    "token_f1",
]

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
        found = _refs_and_span(sample, extract_span, self.extract)
        if isinstance(found, Score):
            return found
        refs, span = found
        got = self._norm(span)
        for ref in refs:
            if got == self._norm(ref):
                return Score.from_bool(True, "normalised strings are equal", extracted=span, matched=ref)
        return Score.from_bool(False, "normalised strings differ", extracted=span)


def _refs_and_span(
    sample: Sample, extract: Callable[[str, Any], str | None], how: str
) -> tuple[list[str], str] | Score:
    """The acceptable references and the compared span of the completion, or the Score that
    ends the check: SKIP for an unusable reference, INVALID when the span is absent."""
    refs = _references(sample.reference)
    if refs is None:
        return Score.skip(f"reference must be a string or a list of strings, got {sample.reference!r:.60}")
    span = extract(sample.completion, how)
    if span is None:
        return Score(0.0, Verdict.INVALID, f"no {how} span in the completion")
    return refs, span


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


# --------------------------------------------------------------------------- token F1, sub-exact-match

AnswerExtract = Literal["full", "answer_tag", "last_line", "after_think", "answer_is"]
_ANSWER_EXTRACT_CHOICES: tuple[str, ...] = (*_EXTRACT_CHOICES, "after_think", "answer_is")
_YES_NO = frozenset({"yes", "no", "noanswer"})
_ANSWER_IS = re.compile(r"the answer is", re.IGNORECASE)


def extract_answer(text: str, how: AnswerExtract) -> str | None:
    """:func:`extract_span` plus two QwenLong-L1 forms (``verl/utils/reward_score/docqa.py``).

    ``"after_think"``: the text after the last ``</think>`` (``None`` without one).
    ``"answer_is"``: in the text after the last ``</think>`` (the whole text when there is
    none; QwenLong-L1 itself scores that 0), ``*`` removed, what follows the last
    ``"the answer is"`` (any case; the source matches lowercase only), stripped of spaces
    and dots (``None`` without the phrase).
    """
    if how in _EXTRACT_CHOICES:
        return extract_span(text, how)  # type: ignore[arg-type]
    _, sep, tail = text.rpartition("</think>")
    if how == "after_think":
        return tail.strip() if sep else None
    body = (tail if sep else text).replace("*", "")
    found = list(_ANSWER_IS.finditer(body))
    if not found:
        return None
    return body[found[-1].end() :].strip().strip(".").strip()


def _check_answer_extract(extract: str) -> None:
    if extract not in _ANSWER_EXTRACT_CHOICES:
        raise ConfigError(f"extract={extract!r} is not allowed; allowed: {', '.join(_ANSWER_EXTRACT_CHOICES)}")


def _squad_norm(text: str) -> str:
    # SQuAD / HotpotQA / QwenLong-L1 normalize_answer: lower, no punctuation, no articles, one space
    return normalize_text(text, remove_articles=True)


def token_f1(prediction: str, reference: str) -> tuple[float, float, float]:
    """Token-level F1, precision and recall over normalised words (SQuAD; HotpotQA and
    QwenLong-L1 ``f1_score``).

    With ``p`` and ``g`` the bags of normalised words, ``c = |p ∩ g|`` (multiset):
    ``P = c/|p|``, ``R = c/|g|``, ``F1 = 2PR/(P+R)``, and 0 when ``c = 0``. As in
    HotpotQA, a yes/no/noanswer answer scores 0 unless both sides are equal.

    Example:
        >>> token_f1("the Eiffel tower, Paris", "Eiffel Tower")
        (0.8, 0.6666666666666666, 1.0)
    """
    p, g = _squad_norm(prediction), _squad_norm(reference)
    if (p in _YES_NO or g in _YES_NO) and p != g:
        return 0.0, 0.0, 0.0
    pt, gt = p.split(), g.split()
    common = sum((Counter(pt) & Counter(gt)).values())
    if common == 0:
        return 0.0, 0.0, 0.0
    precision, recall = common / len(pt), common / len(gt)
    return 2 * precision * recall / (precision + recall), precision, recall


def sub_exact_match(prediction: str, reference: str, *, whole_words: bool = False) -> bool:
    """QwenLong-L1's sub-exact-match: after normalisation, either string contains the other.

    An empty normalised prediction never matches (in the source ``"" in gt`` is true, and
    only its extraction step keeps empty answers out). ``whole_words`` asks for the
    containment on word boundaries, so that ``"10"`` does not match ``"100"``.

    Example:
        >>> sub_exact_match("It was Paris, France.", "paris")
        True
    """
    p, g = _squad_norm(prediction), _squad_norm(reference)
    if not p or not g:
        return False
    if whole_words:
        p, g = f" {p} ", f" {g} "
    return g in p or p in g


@register("token_f1")
class TokenF1(BaseObjective):
    """Token F1 between the extracted answer and the reference (:func:`token_f1`); the best
    over several references. PASS at 1, FAIL at 0, PARTIAL between; ``details`` holds
    ``precision``, ``recall``, ``extracted`` and the best ``matched`` reference.

    Args:
        extract: ``"full"``, ``"answer_tag"``, ``"last_line"``, ``"after_think"`` or ``"answer_is"``.
    """

    name: ClassVar[str] = "token_f1"

    def __init__(self, *, extract: AnswerExtract = "full") -> None:
        _check_answer_extract(extract)
        self.extract = extract

    def score(self, sample: Sample) -> Score:
        found = _refs_and_span(sample, extract_answer, self.extract)
        if isinstance(found, Score):
            return found
        refs, span = found
        best = max(((token_f1(span, r), r) for r in refs), key=lambda x: x[0][0])
        (f1, precision, recall), ref = best
        verdict = Verdict.PASS if f1 == 1.0 else Verdict.FAIL if f1 == 0.0 else Verdict.PARTIAL
        return Score(f1, verdict, f"token F1 {f1:.3f}", {"precision": precision, "recall": recall, "extracted": span, "matched": ref})


@register("sub_em")
class SubExactMatch(BaseObjective):
    """1.0 when the extracted answer and a reference contain one another after normalisation
    (:func:`sub_exact_match`; QwenLong-L1's rule reward, arXiv 2505.17667), else 0.0.

    Args:
        extract: ``"full"``, ``"answer_tag"``, ``"last_line"``, ``"after_think"`` or ``"answer_is"``
            (QwenLong-L1: ``"answer_is"``).
        whole_words: require the containment on word boundaries.
    """

    name: ClassVar[str] = "sub_em"

    def __init__(self, *, extract: AnswerExtract = "full", whole_words: bool = False) -> None:
        _check_answer_extract(extract)
        self.extract = extract
        self.whole_words = bool(whole_words)

    def score(self, sample: Sample) -> Score:
        found = _refs_and_span(sample, extract_answer, self.extract)
        if isinstance(found, Score):
            return found
        refs, span = found
        for ref in refs:
            if sub_exact_match(span, ref, whole_words=self.whole_words):
                return Score.from_bool(True, "one contains the other after normalisation", extracted=span, matched=ref)
        return Score.from_bool(False, "neither contains the other after normalisation", extracted=span)
