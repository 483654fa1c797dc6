"""Finding the final answer in a completion (pure string scanning, linear time).

Order of precedence, first hit wins:

1. When the completion has ``</think>``, only the text after the last one is searched.
2. ``<answer>...</answer>`` (the last pair); its content is searched again by the
   rules below, and taken whole when none applies.
3. The last ``\\boxed{}`` / ``\\fbox{}`` (nested braces matched). Boxes that follow
   each other with only separators between them (``\\boxed{1}, \\boxed{2}``) form one
   list answer; a box followed by more prose and another box is a self-correction, so
   the later box wins.
4. The last "final answer is", "the answer is", "Answer:", ``####`` marker with an
   answer-like payload after it.
5. Unanchored, in the last paragraph only: the last of a ``$..$`` / ``\\(..\\)`` /
   ``\\[..\\]`` / ``$$..$$`` span, a math-only ``**bold**``, a last line that is a bare
   formula (``\\dfrac{9}{7}``, ``pi/2``), or the last number. A span inside a sentence
   that restates the problem ("Simplify $\\frac{2}{4}$.") is not an answer.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .normalize import match_brace

__all__ = ["Extraction", "extract_answer", "extract_gold"]

TAIL_CHARS = 4000
"""Unanchored fallbacks only look at the last paragraph, and at most this many characters of it."""
MAX_BOX_CHARS = 20_000


@dataclass(frozen=True)
class Extraction:
    """An answer found in a completion.

    Attributes:
        text: the answer as written (may be empty: an empty box).
        rule: which rule found it (``boxed``, ``answer_tag``, ``final_answer``, ...).
    """

    text: str
    rule: str


# --------------------------------------------------------------------------- boxes


_BOX_CMD_RE = re.compile(r"\\(?:boxed|fbox)")


def _last_box(text: str, end: int, starts: list[int]) -> tuple[int, int, str] | None:
    """The last ``\\boxed``/``\\fbox`` starting before ``end``: (start, stop, content).

    ``starts`` are the positions of every box command (found once, so this stays linear).
    """
    k = bisect.bisect_left(starts, end) - 1
    while k >= 0:
        start = starts[k]
        k -= 1
        j = start + (6 if text.startswith(r"\boxed", start) else 5)
        if j < len(text) and text[j].isalpha():  # \boxedtext or similar: not a box
            continue
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == "{":
            close = match_brace(text, j)
            if close < 0:  # unclosed: the rest of the line
                stop = text.find("\n", j)
                stop = len(text) if stop < 0 else stop
                return start, stop, text[j + 1 : stop][:MAX_BOX_CHARS]
            return start, close + 1, text[j + 1 : close]
        m = _BARE_BOX_RE.match(text, j)  # \boxed 5
        if m:
            return start, m.end(), m.group(0)
    return None


_BOX_SEP_RE = re.compile(
    r"^(?:\s|\$|\\\(|\\\)|\\\[|\\\]|,|;|&|\\quad|\\qquad|\\text\{\s*(?:and|or|,)?\s*\}|\band\b|\bor\b|\\,)*$"
)
_BARE_BOX_RE = re.compile(r"[^\s$]+")


def _box_group(text: str) -> tuple[str, int] | None:
    """The last box, joined with the boxes right before it when only separators lie between."""
    starts = [m.start() for m in _BOX_CMD_RE.finditer(text)]
    last = _last_box(text, len(text), starts)
    if last is None:
        return None
    contents = [last[2].strip()]
    joiners: list[str] = []
    cur = last
    for _ in range(64):
        prev = _last_box(text, cur[0], starts)
        if prev is None or prev[1] > cur[0]:  # none, or an outer box containing this one
            break
        between = text[prev[1] : cur[0]]
        if len(between) > 40 or not _BOX_SEP_RE.match(between):
            break
        joiners.append(" or " if re.search(r"\bor\b", between) else ", ")
        contents.append(prev[2].strip())
        cur = prev
    contents.reverse()
    joiners.reverse()
    out = [contents[0]]
    for joiner, c in zip(joiners, contents[1:]):
        if c != out[-1]:  # \boxed{840}\boxed{840} is one answer
            out.extend((joiner, c))
    return "".join(out), last[1]


# --------------------------------------------------------------------------- answer markers

_MARKER_RE = re.compile(
    r"(?i)(?:\b(?:final\s+answer|(?:the\s+)?answer|correct\s+(?:option|choice))\b(?:\s*\*\*)?\s*"
    r"(?:is|should\s+be|would\s+be|will\s+be|=|:)"
    r"|\bfinal\s+answer\b(?:\s*\*\*|\s*#*)?\s*\n"
    r"|^\s*#{1,4}\s*answer\b\s*\n"
    r"|####)",
    re.MULTILINE,
)
_PAYLOAD_STRIP_RE = re.compile(r"^(?:\s|\*|:|is\b|=|that\b)+", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(
    r"\.(?=\s|$)(?!\s*\d)|\n|\s*,?\s+(?:so|which|because|since|as|that|then|but|where|when)\b|;\s"
)
_SPAN_JOIN_RE = re.compile(r"\s*(,\s*and|,\s*or|,|and|or|&)\s*", re.IGNORECASE)
_ENV_START_RE = re.compile(r"\$\$|\$|\\\(|\\\[")
_ENV_END = {"$$": "$$", "$": "$", r"\(": r"\)", r"\[": r"\]"}


def _math_span_at(text: str, i: int) -> tuple[str, int] | None:
    m = _ENV_START_RE.match(text, i)
    if not m:
        return None
    close = _ENV_END[m.group(0)]
    j = text.find(close, m.end())
    while j > 0 and close == "$" and text[j - 1] == "\\":  # \$ is a dollar sign, not a delimiter
        j = text.find(close, j + 1)
    if j < 0:
        return None
    return text[m.end() : j], j + len(close)


def _payload(text: str, start: int) -> str:
    """The answer written right after a marker (its math span, else its clause)."""
    rest = text[start : start + 600]
    stripped = _PAYLOAD_STRIP_RE.sub("", rest)
    if not stripped.strip():
        return ""
    span = _math_span_at(stripped, 0)
    if span is not None:  # "$3$ or $4$": spans joined by separators form one list answer
        parts, end = [span[0].strip()], span[1]
        for _ in range(20):
            m = _SPAN_JOIN_RE.match(stripped, end)
            nxt = _math_span_at(stripped, m.end()) if m else None
            if m is None or nxt is None:
                break
            parts.append((" or " if "or" in m.group(1).lower() else ", ") + nxt[0].strip())
            end = nxt[1]
        return "".join(parts)
    m = _SENTENCE_END_RE.search(stripped)
    clause = stripped[: m.start()] if m else stripped
    return clause.strip().strip("*").strip()


def _answer_like(s: str) -> bool:
    if not s or len(s) > 300:
        return False
    if any(ch.isdigit() for ch in s) or "\\" in s:
        return True
    return len(s.split()) <= 4


_MARKER_WORDS = ("answer", "####", "correct option", "correct choice")


def _marker_answer(text: str) -> tuple[str, int] | None:
    """The payload of the last answer marker that has an answer-like payload: (payload, marker start).

    Scans backwards with ``rfind`` (C speed) and runs the marker regex only near each hit.
    """
    low = text.lower()
    end = len(text)
    for _ in range(100):
        i = max(low.rfind(k, 0, end) for k in _MARKER_WORDS)
        if i < 0:
            return None
        for m in _MARKER_RE.finditer(text, max(0, i - 16), min(len(text), i + 48)):
            if m.start() <= i < m.end():
                p = _payload(text, m.end())
                if _answer_like(p):
                    return p, m.start()
        end = i
    return None


# --------------------------------------------------------------------------- unanchored

_SPAN_RE = re.compile(
    r"\$\$(.{1,1000}?)\$\$|\\\[(.{1,1000}?)\\\]|\\\((.{1,500}?)\\\)|(?<![\\$])\$((?:\\\$|[^$\n]){1,500}?)(?<!\\)\$",
    re.DOTALL,
)
_BOLD_RE = re.compile(r"\*\*([^*\n]{1,120})\*\*")
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?\s*%?")
_OPERATORS = frozenset("+-*/^=<>()[]|")
_INSTRUCTION_RE = re.compile(
    r"(?i)^\s*(?:simplify|compute|calculate|evaluate|find|solve|determine|express|write|show|prove|"
    r"what|which|how|given|suppose)\b"
)
_BARE_LINE_RE = re.compile(r"^[\s\w\\{}()\[\]^_+\-*/=.,<>|!'%:;&]*$")
_LINE_WORD_RE = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]{2,}")
_MATHY_WORDS = frozenset("sqrt exp log ln sin cos tan pi frac dfrac infty cdot times text or and".split())


def _sentence_of(text: str, i: int, j: int) -> str:
    a = max(text.rfind(". ", 0, i), text.rfind("\n", 0, i), text.rfind("? ", 0, i), text.rfind("! ", 0, i))
    b_candidates = [k for k in (text.find(". ", j), text.find("\n", j), text.find("?", j)) if k >= 0]
    b = min(b_candidates) if b_candidates else len(text)
    return text[a + 1 : b + 1]


def _restates_problem(text: str, i: int, j: int, prompt: str | None) -> bool:
    sentence = _sentence_of(text, i, j)
    if _INSTRUCTION_RE.match(sentence) or sentence.rstrip().endswith("?"):
        return True
    return bool(prompt) and len(sentence.strip()) > 12 and sentence.strip() in prompt  # type: ignore[operator]


def _bare_line(line: str) -> bool:
    if not line or len(line) > 200 or not _BARE_LINE_RE.match(line):
        return False
    if any(w.lower() not in _MATHY_WORDS for w in _LINE_WORD_RE.findall(line)):
        return False
    return len(line) <= 12 or any(ch.isdigit() or ch == "\\" for ch in line)


def _short_words(line: str) -> bool:
    """A last line of at most three words ("Yes", "No solution"): an answer only for a word gold."""
    return (
        0 < len(line) <= 30 and len(line.split()) <= 3 and not any(ch.isdigit() or ch in "\\$" for ch in line)
    )


def _unanchored(text: str, prompt: str | None) -> Extraction | None:
    body = text.rstrip()
    para = body.rfind("\n\n")  # unanchored answers must be in the last paragraph
    tail = body[max(para + 2 if para >= 0 else 0, len(body) - TAIL_CHARS) :]
    cands: list[tuple[int, str, str]] = []  # (end, answer, rule)
    spans = [m for m in _SPAN_RE.finditer(tail) if not _restates_problem(tail, m.start(), m.end(), prompt)]
    spans = [m for m in spans if next(g for g in m.groups() if g is not None).strip()]
    if spans:  # the last span, with the spans joined to it by separators ("$x=1$ and $x=2$")
        k = len(spans) - 1
        body = next(g for g in spans[k].groups() if g is not None).strip()
        while k > 0:
            sep = _SPAN_JOIN_RE.fullmatch(tail, spans[k - 1].end(), spans[k].start())
            if sep is None:
                break
            k -= 1
            prev = next(g for g in spans[k].groups() if g is not None).strip()
            body = prev + (" or " if "or" in sep.group(1).lower() else ", ") + body
        cands.append((spans[-1].end(), body, "math_span"))
    for m in _BOLD_RE.finditer(tail):
        body = m.group(1).strip().rstrip(".:")
        if body and (any(ch.isdigit() for ch in body) or "\\" in body or len(body) <= 3):
            cands.append((m.end(), body, "bold"))
    stripped_tail = tail.rstrip()
    line_start = stripped_tail.rfind("\n") + 1
    last = stripped_tail[line_start:].strip().strip("#>*- ").strip().rstrip(".").strip()
    if last and _bare_line(last):
        cands.append((len(tail), last, "bare_line"))
    elif last and _short_words(last):
        cands.append((len(tail), last, "bare_words"))
    if cands:
        _, body, rule = max(cands, key=lambda c: c[0])
        return Extraction(body, rule)
    # The last number of a plain-prose last line ("So she has 42 apples."); never from a formula.
    raw_last = stripped_tail[line_start:]
    if "\\" not in raw_last and "{" not in raw_last and len(raw_last) <= 2000:
        for m in reversed(list(_NUMBER_RE.finditer(raw_last))):
            before = raw_last[: m.start()].rstrip()[-1:]
            after = raw_last[m.end() :].lstrip()[:1]
            if (before and before in _OPERATORS) or (after and after in _OPERATORS):
                break  # a number inside a formula is not an answer
            i = line_start + m.start()
            if not _restates_problem(tail, i, i + len(m.group(0)), prompt):
                return Extraction(m.group(0).strip().rstrip(","), "last_number")
            break
    return None


# --------------------------------------------------------------------------- entry points


def _mathy(s: str) -> bool:
    return any(ch.isdigit() for ch in s) or "\\" in s or len(s.strip("() ")) == 1


def _core(text: str, prompt: str | None, *, whole_fallback: bool) -> Extraction | None:
    box = _box_group(text)
    marker = _marker_answer(text)
    # A box wins, unless an answer marker with a mathematical payload comes after it
    # ("... I think \boxed{17} is wrong ... so the answer is 7/3").
    if box is not None and not (marker is not None and marker[1] >= box[1] and _mathy(marker[0])):
        return Extraction(box[0], "boxed")
    if marker is not None:
        return Extraction(marker[0], "answer_marker")
    if whole_fallback:
        return None
    return _unanchored(text, prompt)


def extract_answer(completion: str, prompt: str | None = None) -> Extraction | None:
    """The final answer of ``completion``, or None when it has none (see the module docstring)."""
    text = completion
    prefix = ""
    k = text.rfind("</think>")
    if k >= 0:
        text = text[k + len("</think>") :]
        prefix = "after_think:"
        if not text.strip():
            return None
    a = text.rfind("<answer>")
    if a >= 0:
        b = text.find("</answer>", a)
        inner = text[a + len("<answer>") : b if b >= 0 else len(text)]
        if not inner.strip():
            return Extraction("", prefix + "answer_tag")
        sub = _core(inner, prompt, whole_fallback=True)
        if sub is not None:
            return Extraction(sub.text, f"{prefix}answer_tag+{sub.rule}")
        return Extraction(inner.strip(), prefix + "answer_tag")
    found = _core(text, prompt, whole_fallback=False)
    if found is None:
        return None
    return Extraction(found.text, prefix + found.rule) if prefix else found


def extract_gold(reference: str) -> str:
    """The answer part of a gold string: its last box when it has one (MATH solutions), else all of it."""
    if "\\boxed" in reference or "\\fbox" in reference:
        box = _box_group(reference)
        if box is not None:
            return box[0]
    return reference.strip()
