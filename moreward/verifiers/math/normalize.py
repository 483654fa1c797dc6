"""String-level clean-up of an extracted answer (no sympy, safe in the caller's process).

Everything here is linear in the input and never builds numbers, so it cannot hang:

* :func:`clean` strips delimiters, sizing commands, spacing, markdown and unicode
  variants, and turns the LaTeX thousands forms ``1{,}000`` / ``1\\,000`` into ``1000``.
* :func:`split_top` splits a cleaned answer into its top-level items
  (``,``, ``;``, ``and``, ``or``) without looking inside brackets.
* :func:`strip_decorations` removes what surrounds a number and records it:
  currency, ``%``, degrees, and trailing units.
* :func:`text_answer`, :func:`choice_letter` recognise word answers and
  multiple-choice letters in their usual wrappings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Decorations",
    "choice_letter",
    "clean",
    "is_thousands",
    "match_brace",
    "split_top",
    "strip_decorations",
    "text_answer",
]

MAX_ANSWER_CHARS = 20_000
"""Longer extracted answers are not parsed at all (they are never a real final answer)."""

_UNICODE = {
    "−": "-",
    "–": "-",
    "—": "-",
    "×": r"\times ",
    "÷": r"\div ",
    "·": r"\cdot ",
    "⋅": r"\cdot ",
    "√": r"\sqrt",
    "π": r"\pi ",
    "∞": r"\infty ",
    "≤": r"\le ",
    "≥": r"\ge ",
    "≠": r"\ne ",
    "∪": r"\cup ",
    "∩": r"\cap ",
    "°": r"^\circ ",
    "…": r"\ldots ",
    "\u2009": " ",
    "\u202f": " ",
    "\u00a0": " ",
    "⁄": "/",
    "∈": r"\in ",
    "±": r"\pm ",
    "∓": r"\mp ",
    "²": "^2",
    "³": "^3",
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))

_SIZING_RE = re.compile(r"\\(?:left|right|middle|[bB]igg?[lrm]?)(?![a-zA-Z])\s*")
_FRAC_RE = re.compile(r"\\[dtc]frac(?![a-zA-Z])")
_BINOM_RE = re.compile(r"\\[dt]binom(?![a-zA-Z])")
_DROP_RE = re.compile(
    r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits|!|mathstrut|strut|phantom\{[^{}]*\})(?![a-zA-Z])"
)
_THOUSANDS_LATEX_RE = re.compile(r"(?<=\d)(?:\{,\}|(?<!\\)\\(?:,|\ |;|:|thinspace ?)|~)(?=\d{3}(?!\d))")
_DECIMAL_BRACE_COMMA_RE = re.compile(r"(?<=\d)\{,\}(?=\d)")
_SPACING_RE = re.compile(r"(?<!\\)\\(?:,|;|:|>| |quad|qquad|enspace|thinspace|hspace\{[^{}]*\})|~")
_HOPE_RE = re.compile(r"I hope (?:it|this) is correct.*$", re.IGNORECASE | re.DOTALL)
_WS_RE = re.compile(r"\s+")
_UPRIGHT_CONST_RE = re.compile(r"\\(?:mathrm|text|textrm|operatorname)\{\s*([ei])\s*\}")
_TEXT_NUMBER_RE = re.compile(r"\\(?:text|textbf|mathrm|mathbf|textrm|mbox)\s*\{\s*(-?[\d.,]+)\s*\}")
_INFINITY_WORD_RE = re.compile(r"(?<![\\a-zA-Z])(?:infinity|\\infinity)(?![a-zA-Z])", re.IGNORECASE)
_POWER_NUM_RE = re.compile(r"(?<=[\w)\]}])\*\*\s*(-?\d+(?:\.\d+)?|[A-Za-z])")
_POWER_STARS_RE = re.compile(r"(?<=[\w)\]}])\*\*(?=[\w(\-{])")
_MD_WRAP_RE = re.compile(r"^(\*\*|__|`+)(.*)\1$", re.DOTALL)
_TEXT_SEP_RE = re.compile(
    r"\\(?:text|mbox|textrm|mathrm)\s*\{\s*(,?\s*(?:and|or)\s*,?|,)\s*\}", re.IGNORECASE
)


def match_brace(s: str, i: int, open_: str = "{", close: str = "}") -> int:
    """Index of the brace closing the one at ``s[i]``, or -1. Backslash escapes are skipped."""
    depth = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _strip_delimiters(s: str) -> str:
    """Remove math delimiters and markdown wrappers around the whole answer, repeatedly."""
    for _ in range(6):
        t = s.strip()
        m = _MD_WRAP_RE.match(t)
        if m:
            t = m.group(2).strip()
        for a, b in (("$$", "$$"), (r"\[", r"\]"), (r"\(", r"\)"), ("$", "$")):
            if t.startswith(a) and t.endswith(b) and len(t) >= len(a) + len(b):
                t = t[len(a) : len(t) - len(b)].strip()
                break
        if t == s:
            return t
        s = t
    return s


_SCI_RE = re.compile(r"(?<![\w.\\^{])(\d+(?:\.\d+)?)[eE]([+-]?\d{1,4})(?![\w.])")
_FRAC_DIGITS_RE = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_DIGIT_BRACE_RE = re.compile(r"\\frac\s*(\d)\s*(?=\{)")
_FRAC_BRACE_DIGIT_RE = re.compile(r"\\frac\s*(\{[^{}]*\})\s*(\d)")
_SQRT_BARE_RE = re.compile(r"\\sqrt\s*([0-9a-zA-Z])")
_CMD_PAREN_RE = re.compile(r"\\?(sqrt|exp)\s*\(")


_PLAIN_FUNC_RE = re.compile(
    r"(?<![\\A-Za-z])(pi|ln|log|sin|cos|tan|sec|csc|cot|arcsin|arccos|arctan)(?![A-Za-z])"
)


def _fix_malformed(s: str) -> str:
    """``\\frac12`` -> ``\\frac{1}{2}``, ``\\sqrt2`` -> ``\\sqrt{2}``, ``\\sqrt(x+1)`` -> ``\\sqrt{x+1}``."""
    if "\\frac" in s:
        s = _FRAC_DIGITS_RE.sub(r"\\frac{\1}{\2}", s)
        s = _FRAC_DIGIT_BRACE_RE.sub(r"\\frac{\1}", s)
        s = _FRAC_BRACE_DIGIT_RE.sub(r"\\frac\1{\2}", s)
    if "sqrt" in s or "exp" in s:
        out = []
        i = 0
        for _ in range(200):
            m = _CMD_PAREN_RE.search(s, i)
            if not m:
                break
            j = match_brace(s, m.end() - 1, "(", ")")
            if j < 0:
                break
            if m.group(1) == "sqrt":
                out.append(s[i : m.start()] + "\\sqrt{" + s[m.end() : j] + "}")
            else:
                out.append(s[i : m.start()] + "e^{" + s[m.end() : j] + "}")
            i = j + 1
        s = "".join(out) + s[i:]
        s = _SQRT_BARE_RE.sub(r"\\sqrt{\1}", s)
    return s


def clean(s: str) -> str:
    """Whole-answer clean-up that keeps the answer's meaning (see the module docstring)."""
    s = s.strip()
    if len(s) > MAX_ANSWER_CHARS:
        return s
    # Whitespace first: several patterns below start with \s*, which is quadratic on long runs.
    s = _WS_RE.sub(" ", s)
    s = _HOPE_RE.sub("", s).rstrip(" .")
    s = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], s)
    s = _strip_delimiters(s)
    # Stray inline delimiters inside ("$x$ = $3$") and escaped currency are handled later.
    s = s.replace("$$", " ").replace(r"\(", " ").replace(r"\)", " ").replace(r"\[", " ").replace(r"\]", " ")
    s = re.sub(r"(?<!\\)\$", " ", s)
    s = _SIZING_RE.sub("", s)
    s = _FRAC_RE.sub(r"\\frac", s)
    s = _BINOM_RE.sub(r"\\binom", s)
    s = _DROP_RE.sub("", s)
    s = _THOUSANDS_LATEX_RE.sub("", s)
    s = _DECIMAL_BRACE_COMMA_RE.sub(".", s)
    s = _TEXT_SEP_RE.sub(lambda m: " " + m.group(1).strip() + " ", s)
    s = _SPACING_RE.sub(" ", s)
    s = _TEXT_NUMBER_RE.sub(r"\1", s)
    s = _UPRIGHT_CONST_RE.sub(r"\1", s)
    s = s.replace(r"\langle", "(").replace(r"\rangle", ")")
    s = (
        s.replace(r"\lbrace", r"\{")
        .replace(r"\rbrace", r"\}")
        .replace(r"\lbrack", "[")
        .replace(r"\rbrack", "]")
    )
    s = _INFINITY_WORD_RE.sub(r"\\infty ", s)
    s = _SCI_RE.sub(r"\1\\times 10^{\2}", s)
    s = _PLAIN_FUNC_RE.sub(r"\\\1", s)
    s = _fix_malformed(s)
    s = s.replace(r"\dots", r"\ldots").replace(r"\cdots", r"\ldots")
    s = s.replace(r"\leqslant", r"\le").replace(r"\geqslant", r"\ge")
    s = _WS_RE.sub(" ", s).strip()
    s = s.rstrip(" .;:,").strip()
    if "**" in s:
        s = _POWER_NUM_RE.sub(r"^{\1}", s)
        s = _POWER_STARS_RE.sub("^", s).replace("**", "")
    return _strip_delimiters(s)


# --------------------------------------------------------------------------- splitting

_SEP_WORD_RE = re.compile(r"(?:and|or)(?![A-Za-z])")


def split_top(s: str) -> tuple[list[str], bool]:
    """Split at top-level ``,`` ``;`` ``and`` ``or``. Returns the items and whether ``or`` joined them.

    Brackets ``() [] {} \\{ \\}`` and ``\\begin..\\end`` environments are not looked into, so
    ``(1, 2)``, ``[1, 2)`` and ``\\frac{1,000}{3}`` stay whole.
    """
    items: list[str] = []
    hedged = False
    depth = 0
    env = 0
    start = 0
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            if s.startswith(r"\begin", i):
                env += 1
            elif s.startswith(r"\end", i):
                env = max(0, env - 1)
            elif s.startswith(r"\{", i):
                depth += 1
            elif s.startswith(r"\}", i):
                depth = max(0, depth - 1)
            i += 2
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0 and env == 0:
            if c in ",;":
                items.append(s[start:i])
                start = i + 1
            elif c in "ao" and (i == 0 or not s[i - 1].isalpha()) and (i == 0 or s[i - 1] in " }"):
                m = _SEP_WORD_RE.match(s, i)
                if m and (m.end() == n or not s[m.end()].isalnum()):
                    hedged = hedged or m.group(0) == "or"
                    items.append(s[start:i])
                    start = i = m.end()
                    continue
        i += 1
    items.append(s[start:])
    out = [t.strip() for t in items]
    return [t for t in out if t], hedged


_THOUSANDS_RE = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACE_THOUSANDS_RE = re.compile(r"^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$")


def is_thousands(s: str) -> bool:
    """``1,000`` or ``12,345.6`` (commas) or ``1 000 000`` (spaces)."""
    return bool(_THOUSANDS_RE.match(s) or _SPACE_THOUSANDS_RE.match(s))


# --------------------------------------------------------------------------- decorations


@dataclass(frozen=True)
class Decorations:
    """What :func:`strip_decorations` removed from an item."""

    pct: bool = False
    deg: bool = False
    unit: str = ""
    currency: bool = False


_CURRENCY_PREFIX_RE = re.compile(r"^(?:\\\$|US\\?\$|USD|EUR|GBP|Rs\.?|INR|[€£¥₹])\s*")
_CURRENCY_SUFFIX_RE = re.compile(
    r"\s*(?:\\\$|USD|EUR|dollars?|cents?|euros?|pounds?|rupees?|yuan|[€£¥₹])$", re.I
)
_PCT_RE = re.compile(
    r"\s*(?:\\%|%|\\text\{\s*\\?%\s*\}|\\(?:text|mbox)\{\s*(?:percent|per cent|pct)\s*\}|(?<![a-zA-Z])(?:percent|per cent|pct)\.?)$"
)
_DEG_RE = re.compile(
    r"\s*(?:\^\s*\{?\s*\\circ\s*\}?(?:\s*(?:\\(?:text|mathrm)\{\s*[CF]\s*\}|[CF](?![A-Za-z])))?|\\circ|\\degree|"
    r"\\(?:text|mbox)\{\s*(?:degrees?|deg)\s*\}|(?<![a-zA-Z])degrees?|(?<![a-zA-Z])deg)$"
)
_UNIT_TEXT_RE = re.compile(
    r"\s*\\(?:text|mbox|mathrm|textrm|textnormal|operatorname)\s*\{\s*([A-Za-z][A-Za-z .\-/]*?)\s*\}\s*(?:\^\s*\{?\s*[23]\s*\}?)?$"
)
_UNIT_WORDS_RE = re.compile(
    r"\s+([A-Za-z][A-Za-z.\-/]*(?:\s+[A-Za-z][A-Za-z.\-/]*){0,3})(?:\s*\^\s*\{?\s*[23]\s*\}?)?$"
)
_NOT_UNITS = frozenset(
    "sin cos tan cot sec csc log ln exp sqrt pi and or i e x y z n k m t a b c d infty inf".split()
)
_TRIG_RE = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)")
_ONE_LETTER_UNITS = frozenset("m g s h l L N J W V K".split())
_DIGIT_END_RE = re.compile(r"\d\s*$")
_NUMERICISH_RE = re.compile(r"[\d}]\s*$|\\pi\s*$|\\infty\s*$")


def strip_decorations(s: str) -> tuple[str, Decorations]:
    """Remove currency, percent, degree and unit decorations from one item."""
    pct = deg = currency = False
    unit = ""
    s = s.strip()
    for _ in range(3):
        before = s
        m = _CURRENCY_PREFIX_RE.match(s)
        if m and len(s) > m.end():
            s, currency = s[m.end() :].strip(), True
        m = _CURRENCY_SUFFIX_RE.search(s)
        if m and m.start() > 0 and _NUMERICISH_RE.search(s[: m.start()]):
            s, currency = s[: m.start()].strip(), True
        m = _PCT_RE.search(s)
        if m and m.start() > 0:
            s, pct = s[: m.start()].strip(), True
        m = _DEG_RE.search(s)
        if m and m.start() > 0 and not _TRIG_RE.search(s[: m.start()]):
            s, deg = s[: m.start()].strip(), True
        m = _UNIT_TEXT_RE.search(s)
        if (
            m
            and m.start() > 0
            and _NUMERICISH_RE.search(s[: m.start()])
            and (len(m.group(1)) >= 2 or m.group(1) in _ONE_LETTER_UNITS)
        ):
            s, unit = s[: m.start()].strip(), m.group(1)
        m = _UNIT_WORDS_RE.search(s)
        if m and m.start() > 0 and _DIGIT_END_RE.search(s[: m.start()]):
            words = m.group(1).lower().split()
            if m.group(1) in _ONE_LETTER_UNITS or (
                not any(w in _NOT_UNITS for w in words) and len(m.group(1)) >= 2
            ):
                s, unit = s[: m.start()].strip(), m.group(1)
        if s == before:
            break
    return s, Decorations(pct, deg, unit, currency)


# --------------------------------------------------------------------------- words and letters

_TEXT_CMD_RE = re.compile(
    r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mbox|textsf|mathsf|emph)\s*\{"
)
_WORD_RE = re.compile(r"[A-Za-z]{3,}")
_MATH_WORDS = frozenset(
    "sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh log ln exp sqrt frac pi infty lim sum prod int "
    "cdot times div binom mod gcd lcm det circ le ge leq geq ne neq pm mp cup cap".split()
)


def unwrap_text(s: str) -> str:
    """``\\text{abc}`` -> ``abc`` for every text-like command (braces matched)."""
    out = []
    i = 0
    for _ in range(1000):
        m = _TEXT_CMD_RE.search(s, i)
        if not m:
            break
        j = match_brace(s, m.end() - 1)
        if j < 0:
            break
        out.append(s[i : m.start()])
        out.append(s[m.end() : j])
        i = j + 1
    out.append(s[i:])
    return "".join(out)


_ARTICLE_RE = re.compile(r"^(?:the|a|an)\s+")


def text_answer(s: str, *, force: bool = False) -> str | None:
    """A normalised word answer (``\\text{Monday}`` -> ``monday``), or None when ``s`` is math.

    A word answer has no digits and no math outside text commands, and either was
    written inside ``\\text{}`` or has a word of three letters or more that is not a
    math function name. ``force`` accepts any letters (used when the gold is a word).
    """
    had_text = force or bool(_TEXT_CMD_RE.search(s))
    inner = unwrap_text(s)
    if any(ch.isdigit() for ch in inner) or "\\" in inner or any(ch in inner for ch in "=<>^_+*/|"):
        return None
    words = inner.replace("{", " ").replace("}", " ")
    words = re.sub(r"[^A-Za-z'\- ]", " ", words)
    words = _WS_RE.sub(" ", words).strip().lower()
    if not words:
        return None
    if not had_text:
        found = _WORD_RE.findall(words)
        if not found or all(w in _MATH_WORDS for w in found):
            return None
    words = _ARTICLE_RE.sub("", words)
    return words or None


_CHOICE_RES = (
    re.compile(r"^\(?\s*([A-J])\s*\)?$"),
    re.compile(r"^\(\s*([A-Ja-j])\s*\)(?:\s.*)?$", re.DOTALL),
    re.compile(r"^\[\s*([A-Ja-j])\s*\](?:\s.*)?$", re.DOTALL),
    re.compile(r"^([A-J])\s*[.:)](?:\s.*)?$", re.DOTALL),
    re.compile(
        r"^(?:option|choice|answer)\s*:?\s*\(?\s*([A-Ja-j])\s*\)?(?:[.:)]?\s.*)?$", re.IGNORECASE | re.DOTALL
    ),
    re.compile(r"^([a-j])$"),
)


def choice_letter(s: str, *, strict: bool = False) -> str | None:
    """The multiple-choice letter of ``s`` (``C``, ``(C)``, ``\\text{(C)}``, ``**C**``, ``C. 42``...).

    ``strict`` (used for golds) only accepts a lone upper-case letter or a letter in
    brackets, so a gold ``e`` stays Euler's number.
    """
    t = unwrap_text(s).replace("{", "").replace("}", "").replace("*", "").strip().rstrip(".")
    t = t.strip()
    for rx in _CHOICE_RES[:3] if strict else _CHOICE_RES:
        m = rx.match(t)
        if m:
            return m.group(1).upper()
    return None
