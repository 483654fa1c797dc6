"""Hypothesis strategies for reward tests.

- :func:`equivalent_numbers`: one number in equivalent forms (fraction, decimal,
  percent, scientific, LaTeX); :func:`equivalent_pairs` draws two of them.
- :func:`latex_answers`: LaTeX answers of each kind in :data:`LATEX_KINDS`, each with a plain form.
- :func:`think_answer_completions` and :func:`perturbed_completions`: well-formed
  ``<think>…</think><answer>…</answer>`` completions and named perturbations of them.
- :func:`chat_messages`: chat-format message lists (``Sample.from_messages`` input).
- :func:`reward_matrices`: ``(R, groups)`` for the combiners: ``R`` an ``(N, K)`` float
  array (``NaN`` = missing), ``groups`` a list of N group ids; :func:`maximise_flags`.
- :func:`arbitrary_text`, :func:`references` and :func:`samples`: fuzzing inputs.

Example:
    >>> from hypothesis import given
    >>> from moreward.testing import strategies as mst
    >>> @given(mst.equivalent_numbers())
    ... def test_forms_agree(n):
    ...     assert len(set(n.forms.values())) >= 1
    >>> test_forms_agree()

Needs hypothesis (the ``dev`` extra).
"""

from __future__ import annotations

import string
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - hypothesis is in the dev extra
    from ..errors import missing_extra

    raise missing_extra("hypothesis", "dev") from exc

import numpy as np

from ..core import Sample
from ._answers import (
    LATEX_KINDS,
    NUMBER_FORMS,
    LatexAnswer,
    NumberForms,
    equivalent_numbers,
    equivalent_pairs,
    latex_answers,
    number_forms,
)

__all__ = [
    "ADVERSARIAL_TEXTS",
    "BREAKING_PERTURBATIONS",
    "LATEX_KINDS",
    "NUMBER_FORMS",
    "PERTURBATIONS",
    "LatexAnswer",
    "NumberForms",
    "PerturbedCompletion",
    "ThinkAnswer",
    "arbitrary_text",
    "chat_messages",
    "equivalent_numbers",
    "equivalent_pairs",
    "latex_answers",
    "maximise_flags",
    "number_forms",
    "perturbed_completions",
    "references",
    "reward_matrices",
    "samples",
    "think_answer_completions",
]

# ---------------------------------------------------------------------------------------------
# think/answer completions and their format perturbations

_WORD = st.text(alphabet=string.ascii_letters + string.digits + ".,;:!?=+-*/()'", min_size=1, max_size=10)
_PHRASE = st.lists(_WORD, min_size=1, max_size=8).map(" ".join)


@dataclass(frozen=True)
class ThinkAnswer:
    """A well-formed completion ``<think>\\nT\\n</think>\\n<answer>\\nA\\n</answer>`` and its parts."""

    think: str
    answer: str
    text: str


def _layout(think: str, answer: str, *, nl: str = "\n") -> str:
    return f"<think>{nl}{think}{nl}</think>{nl}<answer>{nl}{answer}{nl}</answer>"


@st.composite
def think_answer_completions(
    draw: st.DrawFn,
    think: st.SearchStrategy[str] | None = None,
    answer: st.SearchStrategy[str] | None = None,
) -> ThinkAnswer:
    """A :class:`ThinkAnswer` in open-r1's newline layout, valid for loose and strict checkers.

    ``think`` and ``answer`` default to non-blank phrases without ``<`` or ``>``.
    """
    t = draw(think if think is not None else _PHRASE)
    a = draw(answer if answer is not None else _PHRASE)
    return ThinkAnswer(t, a, _layout(t, a))


PERTURBATIONS: tuple[str, ...] = (
    "missing_think_open",
    "missing_think_close",
    "missing_answer",
    "missing_answer_close",
    "swapped_order",
    "truncated",
    "duplicate_answer",
    "uppercase_tags",
    "text_before",
    "text_after",
    "empty_think",
    "nested_think",
    "no_newlines",
    "extra_whitespace",
    "crlf",
)
"""Every named perturbation of :func:`perturbed_completions`."""

BREAKING_PERTURBATIONS: frozenset[str] = frozenset(
    {
        "missing_think_open",
        "missing_think_close",
        "missing_answer",
        "missing_answer_close",
        "swapped_order",
        "truncated",
    }
)
"""Perturbations that break the think/answer format for every checker; whether the
others break it depends on the checker's strictness (empty think, layout, text outside)."""


@dataclass(frozen=True)
class PerturbedCompletion:
    """A perturbed think/answer completion: the ``text``, the ``perturbation`` and the ``base`` it came from."""

    text: str
    perturbation: str
    base: ThinkAnswer

    @property
    def breaking(self) -> bool:
        """True when the perturbation breaks the format for every checker."""
        return self.perturbation in BREAKING_PERTURBATIONS


def _perturb(draw: st.DrawFn, kind: str, b: ThinkAnswer) -> str:
    t, a, text = b.think, b.answer, b.text
    think_block, answer_block = f"<think>\n{t}\n</think>", f"<answer>\n{a}\n</answer>"
    if kind == "missing_think_open":
        return text.replace("<think>", "", 1)
    if kind == "missing_think_close":
        return text.replace("</think>", "", 1)
    if kind == "missing_answer":
        return think_block
    if kind == "missing_answer_close":
        return text[: text.rindex("</answer>")]
    if kind == "swapped_order":
        return f"{answer_block}\n{think_block}"
    if kind == "truncated":
        return text[: draw(st.integers(1, len(text) - 1))]
    if kind == "duplicate_answer":
        return f"{text}\n{answer_block}"
    if kind == "uppercase_tags":
        return _layout(t, a).replace("think>", "THINK>").replace("answer>", "ANSWER>")
    if kind == "text_before":
        return draw(_PHRASE) + "\n" + text
    if kind == "text_after":
        return text + "\n" + draw(_PHRASE)
    if kind == "empty_think":
        return _layout("", a)
    if kind == "nested_think":
        return f"<think>\n<think>\n{t}\n</think>\n</think>\n{answer_block}"
    if kind == "no_newlines":
        return _layout(t, a, nl="")
    if kind == "extra_whitespace":
        return (
            draw(st.sampled_from((" ", "\n", "\n\n", "\t")))
            + text
            + draw(st.sampled_from((" ", "\n", "\n\n")))
        )
    if kind == "crlf":
        return text.replace("\n", "\r\n")
    raise ValueError(f"unknown perturbation {kind!r}; allowed: {', '.join(PERTURBATIONS)}")


def perturbed_completions(
    perturbations: Sequence[str] = PERTURBATIONS,
    base: st.SearchStrategy[ThinkAnswer] | None = None,
) -> st.SearchStrategy[PerturbedCompletion]:
    """A :class:`PerturbedCompletion`: one of ``perturbations`` (default: all of
    :data:`PERTURBATIONS`) applied to a well-formed completion drawn from ``base``."""
    unknown = [p for p in perturbations if p not in PERTURBATIONS]
    if unknown or not perturbations:
        raise ValueError(f"unknown perturbation(s) {unknown}; allowed: {', '.join(PERTURBATIONS)}")
    return _perturbed(tuple(perturbations), base if base is not None else think_answer_completions())


@st.composite
def _perturbed(
    draw: st.DrawFn, perturbations: tuple[str, ...], base: st.SearchStrategy[ThinkAnswer]
) -> PerturbedCompletion:
    b = draw(base)
    kind = draw(st.sampled_from(perturbations))
    return PerturbedCompletion(_perturb(draw, kind, b), kind, b)


# ---------------------------------------------------------------------------------------------
# Chat message lists


def _content(text: st.SearchStrategy[str], parts: bool) -> st.SearchStrategy[Any]:
    if not parts:
        return text
    as_parts = st.lists(text.map(lambda s: {"type": "text", "text": s}), min_size=1, max_size=3)
    return st.one_of(text, as_parts)


@st.composite
def chat_messages(
    draw: st.DrawFn,
    *,
    min_turns: int = 1,
    max_turns: int = 3,
    system: bool | None = None,
    tool_calls: bool = True,
    content_parts: bool = True,
    text: st.SearchStrategy[str] | None = None,
) -> list[dict[str, Any]]:
    """A chat: an optional system message, then user/assistant turns, ending with an assistant message.

    Assistant turns may carry ``tool_calls`` (then ``content`` may be ``None``) followed by
    a ``tool`` message; content may be a string or a list of ``{"type": "text"}`` parts.
    """
    text = text if text is not None else _PHRASE
    msgs: list[dict[str, Any]] = []
    if system if system is not None else draw(st.booleans()):
        msgs.append({"role": "system", "content": draw(text)})
    for turn in range(draw(st.integers(min_turns, max_turns))):
        msgs.append({"role": "user", "content": draw(_content(text, content_parts))})
        calls = tool_calls and draw(st.booleans())
        if calls:
            call = {
                "id": f"call_{turn}",
                "type": "function",
                "function": {"name": draw(st.sampled_from(("python", "search", "calc"))), "arguments": "{}"},
            }
            content = draw(st.one_of(st.none(), text))
            msgs.append({"role": "assistant", "content": content, "tool_calls": [call]})
            msgs.append({"role": "tool", "tool_call_id": call["id"], "content": draw(text)})
        msgs.append({"role": "assistant", "content": draw(_content(text, content_parts))})
    return msgs


# ---------------------------------------------------------------------------------------------
# Reward matrices with groups, for the combiners

_TIES = (0.0, 1.0, 0.5, -1.0)


@st.composite
def reward_matrices(
    draw: st.DrawFn,
    *,
    min_rows: int = 1,
    max_rows: int = 12,
    min_objectives: int = 1,
    max_objectives: int = 4,
    max_groups: int = 4,
    allow_nan: bool = True,
    min_value: float = -10.0,
    max_value: float = 10.0,
) -> tuple[np.ndarray, list[Hashable]]:
    """``(R, groups)``: a float array of shape (N, K) and a list of N group ids.

    Values mix arbitrary floats in ``[min_value, max_value]`` with a few repeated ones
    (ties and duplicate rows, the edge cases of dominance); ``NaN`` marks a missing
    value when ``allow_nan``. Group ids are strings ``"g0"``, ``"g1"``… in any order.
    """
    n = draw(st.integers(min_rows, max_rows))
    k = draw(st.integers(min_objectives, max_objectives))
    ties = [x for x in _TIES if min_value <= x <= max_value] or [min_value]
    element = st.one_of(st.floats(min_value, max_value, allow_nan=False), st.sampled_from(ties))
    if allow_nan:
        element = st.one_of(element, st.just(float("nan")))
    values = draw(st.lists(element, min_size=n * k, max_size=n * k))
    R = np.array(values, dtype=float).reshape(n, k)
    n_groups = draw(st.integers(1, max(1, min(max_groups, n))))
    groups: list[Hashable] = [f"g{draw(st.integers(0, n_groups - 1))}" for _ in range(n)]
    return R, groups


def maximise_flags(k: int) -> st.SearchStrategy[tuple[bool, ...]]:
    """One ``maximise`` flag per objective, for combiners' ``maximise=`` argument."""
    return st.tuples(*(st.booleans() for _ in range(k)))


# ---------------------------------------------------------------------------------------------
# Fuzzing inputs

ADVERSARIAL_TEXTS: tuple[str, ...] = (
    "",
    " ",
    "\n\n",
    "\x00",
    "\ud800",
    "\u202eevil",
    "🙂" * 3,
    "a" * 10_000,
    "9" * 5_000,
    "1e999999",
    "-0",
    "10**10**10",
    "nan",
    "inf",
    "1/0",
    "0/0",
    "\\boxed{",
    "\\boxed{}",
    "\\boxed{\\boxed{\\boxed{1}}}",
    "\\frac{1}{0}",
    "\\sqrt{-1}",
    "\\infty",
    "\\begin{pmatrix}",
    "\\\\",
    "$$",
    "{" * 200,
    "(" * 200,
    "}{",
    "x^{x^{x^{x^{x}}}}",
    "100%",
    "%",
    "<think>",
    "</think>",
    "<think></think>",
    "<answer></answer>",
    "<think><think></think>",
    "<answer>" * 50,
    "<think>\n\n</think>\n<answer>\n42\n</answer>",
    "<tool_call>{}</tool_call>",
    "```python\nimport os\nos._exit(1)\n```",
    "```python\nwhile True:\n    pass\n```",
    "Step 1: Step 1: Step 1:",
    "the the the the the the the the",
)
"""Texts that break naive parsers: empty, NUL, a lone surrogate, huge numbers, unbalanced
braces, stray tags, code that exits or loops."""


def arbitrary_text(*, max_size: int = 300) -> st.SearchStrategy[str]:
    """Any text a model might emit, and worse: random unicode, :data:`ADVERSARIAL_TEXTS`,
    well-formed and perturbed think/answer completions, numbers and boxed LaTeX answers."""
    base = st.one_of(
        st.text(max_size=max_size),
        st.sampled_from(ADVERSARIAL_TEXTS),
        think_answer_completions().map(lambda c: c.text),
        perturbed_completions().map(lambda c: c.text),
        equivalent_numbers().flatmap(lambda n: st.sampled_from(n.texts)),
        latex_answers().map(lambda a: f"The answer is $\\boxed{{{a.latex}}}$."),
    )
    return st.one_of(base, st.lists(base, min_size=2, max_size=3).map(" ".join))


def references() -> st.SearchStrategy[Any]:
    """References of the shapes objectives meet: ``None``, text, numbers, LaTeX, lists of strings."""
    return st.one_of(
        st.none(),
        st.text(max_size=30),
        st.integers(-1000, 1000),
        equivalent_numbers().flatmap(lambda n: st.sampled_from(n.texts)),
        latex_answers().map(lambda a: a.latex),
        st.lists(st.text(max_size=10), min_size=1, max_size=3),
        st.sampled_from(ADVERSARIAL_TEXTS),
    )


_META: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"correct": st.booleans()}),
    st.fixed_dictionaries({"pass_rate": st.floats(0.0, 1.0)}),
    st.fixed_dictionaries({"target_tokens": st.integers(1, 4096)}),
    st.fixed_dictionaries({"step": st.integers(0, 10_000)}),
)


@st.composite
def samples(
    draw: st.DrawFn,
    completions: st.SearchStrategy[str] | None = None,
    refs: st.SearchStrategy[Any] | None = None,
    *,
    chat: bool = True,
) -> Sample:
    """A :class:`Sample` with an arbitrary completion (:func:`arbitrary_text`), reference
    (:func:`references`), sometimes a prompt, group, token count and ``meta``
    (``correct``, ``pass_rate``, ``target_tokens``, ``step``), and with ``chat`` some
    built from chat messages (tool calls land in ``meta``)."""
    reference = draw(refs if refs is not None else references())
    kwargs: dict[str, Any] = {
        "prompt": draw(st.one_of(st.none(), _PHRASE)),
        "group": draw(st.one_of(st.none(), st.sampled_from(("p0", "p1")))),
        "tokens": draw(st.one_of(st.none(), st.integers(0, 50_000))),
        "meta": draw(_META),
    }
    if chat and completions is None and draw(st.integers(0, 9)) == 0:
        return Sample.from_messages(draw(chat_messages()), reference, **kwargs)
    text = draw(completions if completions is not None else arbitrary_text())
    return Sample(text, reference, **kwargs)
