"""Plantain's plan-first interleaved reasoning and its time to first response (arXiv 2512.03176).

Plantain ("Plan-Thought-Answer Interleaving") alternates hidden thinking with visible
responses, the first of which is an explicit step-by-step plan; its format reward is
the indicator of a well-formed interleave, ``r = 1_fmt * (1 + r_correct + ...)``. The
time to first response (TTFR) is what the user waits before the first visible block.
The paper's exact tags are not public in the sources read, so the tags are options.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Callable
from typing import Any, ClassVar

from ...core import BaseObjective, Sample, Score
from ...errors import ConfigError, missing_extra
from ...registry import register
from .grammar import _RULE_RANK, FormatCheck, TagGrammar, TagSpec, check_tag_name

__all__ = ["PlanFirst", "check_plan_first", "count_whitespace_tokens"]


_STEP = re.compile(r"^\s*(?:\d+[.):]|[-*•]|#+|step\s*\d+\s*[:.)-]?)\s*\S", re.I | re.M)


def count_whitespace_tokens(text: str) -> int:
    """The explicit whitespace fallback for token counts: the number of whitespace-separated words."""
    return len(text.split())


def check_plan_first(
    text: str,
    *,
    think_tag: str = "think",
    answer_tag: str | None = "answer",
    plan_tag: str | None = None,
    min_responses: int = 2,
    min_plan_steps: int = 2,
    count_tokens: Callable[[str], int] = count_whitespace_tokens,
    ignore_code: bool = True,
) -> FormatCheck:
    """Plantain's plan-first interleaved format (arXiv 2512.03176) and its time to first response.

    Grammar: top-level think blocks and visible blocks, never two think blocks in a row,
    ending with a visible block; at least ``min_responses`` visible blocks. Visible blocks
    are ``<answer>`` blocks, or (``answer_tag=None``) the non-blank text between think
    blocks. The first visible block is the plan: a ``<plan_tag>`` block when ``plan_tag``
    is set, else a block with at least ``min_plan_steps`` step lines (``1.``, ``-``,
    ``Step 2:``...). ``info["ttfr_tokens"]``: tokens before the first visible block's
    content, by ``count_tokens`` (whitespace words by default).
    """
    check = _grammar(think_tag, answer_tag, plan_tag, ignore_code).check(text)
    errors = list(check.errors)
    visible: list[tuple[int, str]] = []  # (offset of the content, content) of each visible block
    if answer_tag:
        visible = [(e.inner_start, e.content(text)) for e in check.elements if e.name != think_tag]
    else:
        pos, prev = 0, None
        for el in [*check.elements, None]:
            seg = text[pos : el.start if el is not None else len(text)]
            if seg.strip():
                visible.append((pos + len(seg) - len(seg.lstrip()), seg))
            elif prev is not None and prev.name == think_tag and (el is None or el.name == think_tag):
                where = "the completion ends with a think block" if el is None else "two think blocks in a row"
                errors.append(("order", where))
            if el is not None:
                if el.name == plan_tag:
                    visible.append((el.inner_start, el.content(text)))
                pos, prev = el.end, el
    if len(visible) < min_responses:
        errors.append(("responses", f"{len(visible)} visible block(s), expected at least {min_responses}"))
    if visible and not plan_tag and min_plan_steps > 0:
        steps = len(_STEP.findall(visible[0][1]))
        if steps < min_plan_steps:
            errors.append(("plan", f"the first visible block has {steps} step line(s), a plan needs {min_plan_steps}"))
    info: dict[str, Any] = {"n_responses": len(visible), "n_think": sum(e.name == think_tag for e in check.elements)}
    if visible:
        info["ttfr_tokens"] = count_tokens(text[: visible[0][0]])
        info["plan"] = visible[0][1].strip()
    errors.sort(key=lambda e: _RULE_RANK.get(e[0], 9))
    return FormatCheck(not errors, tuple(errors), check.elements, info)


@functools.lru_cache(maxsize=64)
def _grammar(think_tag: str, answer_tag: str | None, plan_tag: str | None, ignore_code: bool) -> TagGrammar:
    t, a = f"<{think_tag}>", f"<{answer_tag}>"
    specs = [TagSpec(think_tag, max=None)]
    if answer_tag:
        specs.append(TagSpec(answer_tag, max=None, allow_empty=False))
    if plan_tag:
        specs.append(TagSpec(plan_tag, 1, 1, allow_empty=False))
    if answer_tag:
        order = f"(?:{t})?{f'<{plan_tag}>' if plan_tag else a}(?:(?:{t})?{a})*"
    else:
        order = f"(?:{t})?<{plan_tag}>(?:{t})+" if plan_tag else f"(?:{t})+"
    return TagGrammar(tuple(specs), order, "whitespace" if answer_tag else "any", ignore_code)


@register("plan_first")
class PlanFirst(BaseObjective):
    """1.0 when the completion is plan-first interleaved reasoning (:func:`check_plan_first`), else 0.0.

    ``details["ttfr_tokens"]`` is the time to first response in tokens with
    ``details["ttfr_unit"]``: ``"tokenizer"`` when ``tokenizer`` names a local
    tokenizer (needs ``transformers``), else ``"whitespace"`` (words, never characters).
    ``details["ttfr_fraction"]`` is the share of the completion before the first
    response in that unit; with whitespace counts and a known ``Sample.tokens``,
    ``details["ttfr_tokens_estimate"]`` is that share of ``Sample.tokens``.

    Args:
        think_tag: the hidden block's tag.
        answer_tag: the visible blocks' tag, or ``None`` for plain text between think blocks.
        plan_tag: a tag the first visible block must use, or ``None`` to detect a plan by its steps.
        min_responses: fewest visible blocks (plan + final answer = 2).
        min_plan_steps: fewest step lines in the plan (0: do not check).
        tokenizer: a local tokenizer path for token counts.
        ignore_code: ignore tags in code blocks.
    """

    name: ClassVar[str] = "plan_first"

    def __init__(
        self,
        *,
        think_tag: str = "think",
        answer_tag: str | None = "answer",
        plan_tag: str | None = None,
        min_responses: int = 2,
        min_plan_steps: int = 2,
        tokenizer: str | None = None,
        ignore_code: bool = True,
    ) -> None:
        for n, v in (("min_responses", min_responses), ("min_plan_steps", min_plan_steps)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"{n} must be a non-negative int, got {v!r}")
        tags = [t for t in (think_tag, answer_tag, plan_tag) if t is not None]
        if len(set(tags)) != len(tags):
            raise ConfigError(f"think_tag, answer_tag and plan_tag must differ, got {tags}")
        for t in tags:
            check_tag_name(t)
        self.think_tag, self.answer_tag, self.plan_tag = think_tag, answer_tag, plan_tag
        self.min_responses, self.min_plan_steps = min_responses, min_plan_steps
        if tokenizer is not None:
            if not isinstance(tokenizer, str) or not tokenizer:
                raise ConfigError(f"tokenizer must be a local path or None, got {tokenizer!r}")
            if importlib.util.find_spec("transformers") is None:
                raise missing_extra("transformers", "judge")
        self.tokenizer = tokenizer
        self.ignore_code = bool(ignore_code)
        self._tok: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**vars(self), "_tok": None}

    def _count(self, text: str) -> int:
        if self.tokenizer is None:
            return count_whitespace_tokens(text)
        if self._tok is None:
            self._tok = _load_tokenizer(self.tokenizer)
        return len(self._tok.encode(text, add_special_tokens=False))

    def score(self, sample: Sample) -> Score:
        if self.tokenizer is not None and self._tok is None:
            try:
                self._tok = _load_tokenizer(self.tokenizer)
            except Exception as exc:  # an infrastructure failure, not the sample's
                return Score.error(f"tokenizer {self.tokenizer!r} failed to load: {exc}")
        check = check_plan_first(
            sample.completion, think_tag=self.think_tag, answer_tag=self.answer_tag, plan_tag=self.plan_tag,
            min_responses=self.min_responses, min_plan_steps=self.min_plan_steps,
            count_tokens=self._count, ignore_code=self.ignore_code,
        )
        unit = "whitespace" if self.tokenizer is None else "tokenizer"
        extra: dict[str, Any] = {"ttfr_unit": unit}
        if "ttfr_tokens" in check.info:
            total = self._count(sample.completion)
            fraction = check.info["ttfr_tokens"] / total if total else 0.0
            extra["ttfr_fraction"] = fraction
            if unit == "whitespace" and sample.tokens is not None:
                extra["ttfr_tokens_estimate"] = round(fraction * sample.tokens)
        return check.to_score(**extra)


def _load_tokenizer(path: str) -> Any:
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise missing_extra("transformers", "judge") from exc
    return AutoTokenizer.from_pretrained(path, local_files_only=True)

