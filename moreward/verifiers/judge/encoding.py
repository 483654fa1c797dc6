"""Rendering judge inputs and cutting them to a maximum length (keeping the response's end).

The template is rendered once with a sentinel in place of its long field (the response,
the thinking or the answer), so the character span of that field in the final text is
known; the fast tokenizer's offsets map the span to tokens, and an over-long input
loses tokens from the *start* of that field only. The instructions before it and the
question and generation prompt after it are kept, as is the end of the response, where
the final answer is (a reasoning trace is long at the front, decisive at the back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .templates import JudgeTemplate

__all__ = ["Encoded", "Truncation", "encode", "render", "truncate_ids"]

Truncation = Literal["keep_end", "keep_start", "skip"]
_SENTINEL = "\ue000moreward-judge-field\ue001"  # private-use code points: never in real text


@dataclass(frozen=True)
class Encoded:
    """One judge input.

    Attributes:
        ids: token ids, ready for the model.
        dropped: tokens removed to fit ``max_length`` (0 when it fitted).
        too_long: it did not fit and the policy is ``"skip"``.
    """

    ids: list[int]
    dropped: int = 0
    too_long: bool = False


def render(
    template: JudgeTemplate, values: dict[str, str], tokenizer: Any, *, use_chat: bool, judge_prompt: bool
) -> tuple[str, tuple[int, int] | None]:
    """The input text and the character span of the template's long field in it (``None`` if unknown).

    ``judge_prompt``: the model answers after the text (a next-token judge), so the
    generation prompt and ``template.answer_prefix`` are appended.
    """
    field = template.long_field
    value = values[field]
    marked = dict(values)
    marked[field] = _SENTINEL
    if use_chat:
        text = tokenizer.apply_chat_template(
            template.messages(marked), tokenize=False, add_generation_prompt=judge_prompt and template.assistant is None
        )
        if not isinstance(text, str):  # pragma: no cover - tokenize=False returns a str
            raise TypeError(f"apply_chat_template returned {type(text).__name__}, not str")
    else:
        text = template.plain(marked)
        if judge_prompt:
            text += "\n"
    if judge_prompt:
        text += template.answer_prefix
    if text.count(_SENTINEL) == 1:
        start = text.index(_SENTINEL)
        return text[:start] + value + text[start + len(_SENTINEL) :], (start, start + len(value))
    return text.replace(_SENTINEL, value), None


def truncate_ids(
    ids: Sequence[int], token_span: tuple[int, int] | None, limit: int, policy: Truncation
) -> tuple[list[int], int]:
    """``ids`` cut to ``limit`` tokens: ``(ids, dropped)``.

    ``keep_end`` drops tokens from the start of the long field (``token_span``,
    ``[start, stop)``), ``keep_start`` from its end; when that is not enough (or the
    span is unknown) the whole input loses its start (``keep_end``) or end
    (``keep_start``).

    Example:
        >>> truncate_ids(list(range(10)), (2, 8), 6, "keep_end")
        ([0, 1, 6, 7, 8, 9], 4)
        >>> truncate_ids(list(range(10)), (2, 8), 6, "keep_start")
        ([0, 1, 2, 3, 8, 9], 4)
    """
    ids = list(ids)
    original = len(ids)
    excess = original - limit
    if excess <= 0:
        return ids, 0
    if token_span is not None:
        start, stop = token_span
        cut = min(excess, max(stop - start, 0))
        if policy == "keep_end":
            ids = ids[:start] + ids[start + cut :]
        else:
            ids = ids[: stop - cut] + ids[stop:]
        excess -= cut
    if excess > 0:
        ids = ids[excess:] if policy == "keep_end" else ids[: len(ids) - excess]
    return ids, original - len(ids)


def _token_span(offsets: Sequence[tuple[int, int]], span: tuple[int, int]) -> tuple[int, int] | None:
    lo, hi = span
    inside = [t for t, (a, b) in enumerate(offsets) if b > a and a < hi and b > lo]
    if not inside:
        return None
    return inside[0], inside[-1] + 1


def encode(
    texts: Sequence[str],
    spans: Sequence[tuple[int, int] | None],
    tokenizer: Any,
    *,
    add_special_tokens: bool,
    max_length: int,
    policy: Truncation,
    eos_id: int | None = None,
) -> list[Encoded]:
    """Tokenize ``texts`` in one call and fit each to ``max_length`` by ``policy``.

    ``eos_id``: append this token (once; reward models trained OpenRLHF-style read the
    score at a final EOS), reserving room for it.
    """
    fast = bool(getattr(tokenizer, "is_fast", False))
    enc = tokenizer(
        list(texts),
        add_special_tokens=add_special_tokens,
        return_offsets_mapping=fast,
        return_attention_mask=False,
        truncation=False,
        verbose=False,  # over-long inputs are cut below, by policy
    )
    limit = max_length - (1 if eos_id is not None else 0)
    out: list[Encoded] = []
    for i, ids in enumerate(enc["input_ids"]):
        ids = list(ids)
        if eos_id is not None and ids and ids[-1] == eos_id:
            ids.pop()
        dropped = 0
        if len(ids) > limit:
            if policy == "skip":
                out.append(Encoded(ids, 0, too_long=True))
                continue
            span = spans[i]
            token_span = _token_span(enc["offset_mapping"][i], span) if fast and span is not None else None
            ids, dropped = truncate_ids(ids, token_span, limit, policy)
        if eos_id is not None:
            ids.append(eos_id)
        out.append(Encoded(ids, dropped))
    return out
