"""DeepSeek-R1's think/answer format and TON's think-or-not variant.

Grammar (``think_answer``): ``\\s*<think>T</think>\\s*<answer>A</answer>\\s*`` with exactly
one block of each, both at the top level, A not blank and T not blank unless
``allow_empty_think`` (DeepSeek-R1, arXiv 2501.12948; open-r1's ``format`` reward).
``think_or_not`` accepts the empty think block ``<think>\\n\\n</think>`` (TON, arXiv 2505.16854).
"""

from __future__ import annotations

import functools
import re
from typing import ClassVar

from ...core import BaseObjective, Sample, Score
from ...errors import ConfigError
from ...registry import register
from .grammar import FormatCheck, TagGrammar, TagSpec, check_tag_name

__all__ = ["ThinkAnswerFormat", "ThinkOrNot", "check_think_answer"]


@functools.lru_cache(maxsize=64)
def _think_answer_grammar(think: str, answer: str, require_answer: bool, ignore_code: bool) -> TagGrammar:
    if require_answer:
        tags = (TagSpec(think, 1, 1), TagSpec(answer, 1, 1, allow_empty=False))
        return TagGrammar(tags, f"<{think}><{answer}>", "whitespace", ignore_code)
    return TagGrammar((TagSpec(think, 1, 1),), f"<{think}>", "after", ignore_code)


def check_think_answer(
    text: str,
    *,
    allow_empty_think: bool = False,
    require_answer: bool = True,
    strict_newlines: bool = False,
    think_prefilled: bool = False,
    think_tag: str = "think",
    answer_tag: str = "answer",
    ignore_code: bool = True,
) -> FormatCheck:
    """Check the think/answer format of DeepSeek-R1 (arXiv 2501.12948) on a string.

    Grammar (``require_answer=True``): ``\\s*<think>T</think>\\s*<answer>A</answer>\\s*`` with
    exactly one block of each, both at the top level, A not blank and T not blank unless
    ``allow_empty_think`` (TON's ``<think>\\n\\n</think>``). With ``require_answer=False``
    the answer is the text after ``</think>`` (DeepSeek-R1 chat output; TRL's
    ``think_format_reward``), which must not be blank. ``strict_newlines`` adds open-r1's
    layout ``<think>\\n…\\n</think>\\n<answer>\\n…\\n</answer>`` (open-r1 ``format_reward``).
    ``think_prefilled``: the prompt already opened ``<think>``, so the completion starts
    inside it and must not open another.

    Differences from the regexes in trainers, on purpose: a second ``</think>`` after the
    answer, or a ``<think>`` mentioned only inside a code block, are judged on structure
    (TRL's ``^<think>(?!.*<think>)(.*?)</think>.*$`` passes the first and fails the second).

    Example:
        >>> check_think_answer("<think>2+2=4</think> <answer>4</answer>").ok
        True
        >>> check_think_answer("<think>\\n\\n</think><answer>4</answer>").rule
        'empty'
        >>> check_think_answer("<think>\\n\\n</think><answer>4</answer>", allow_empty_think=True).ok
        True
    """
    opened = f"<{think_tag}>"
    src = opened + text if think_prefilled else text
    check = _think_answer_grammar(think_tag, answer_tag, require_answer, ignore_code).check(src)
    errors = list(check.errors)
    thinks = [e for e in check.elements if e.name == think_tag]
    answer: str | None = None
    if thinks:
        think = thinks[0]
        if not allow_empty_think and not think.content(src).strip():
            errors.append(("empty", f"<{think_tag}> is empty (allow_empty_think=False)"))
        if require_answer:
            answers = [e for e in check.elements if e.name == answer_tag]
            answer = answers[-1].content(src).strip() if answers else None
        else:
            answer = src[think.end :].strip()
            if not errors and not answer:
                errors.append(("missing", f"no answer text after </{think_tag}>"))
    if strict_newlines and not errors:
        t, a = re.escape(think_tag), re.escape(answer_tag)
        layout = rf"<{t}>\n.*?\n</{t}>\n<{a}>\n.*?\n</{a}>\s*" if require_answer else rf"<{t}>\n.*?\n</{t}>\n.+"
        if re.fullmatch(layout, src, re.DOTALL) is None:
            errors.append(("layout", "not in open-r1's newline layout <think>\\n…\\n</think>\\n<answer>\\n…\\n</answer>"))
    info = {"answer": answer, "think_empty": bool(thinks) and not thinks[0].content(src).strip()}
    return FormatCheck(not errors, tuple(errors), check.elements, info)


_TA_OPTIONS = ("allow_empty_think", "require_answer", "strict_newlines", "think_prefilled", "think_tag", "answer_tag", "ignore_code")


@register("think_answer")
class ThinkAnswerFormat(BaseObjective):
    """1.0 when the completion is in DeepSeek-R1's think/answer format, else 0.0.

    See :func:`check_think_answer` for the grammar and options. ``details["answer"]``
    holds the answer text, ``details["rule"]`` the rule that failed.

    Args:
        allow_empty_think: a blank think block is valid (TON).
        require_answer: the answer is in ``<answer>`` tags (else: the text after ``</think>``).
        strict_newlines: require open-r1's exact newline layout.
        think_prefilled: the prompt ends with ``<think>``.
        think_tag, answer_tag: the tag names.
        ignore_code: ignore tags inside code blocks.
    """

    name: ClassVar[str] = "think_answer"

    def __init__(
        self,
        *,
        allow_empty_think: bool = False,
        require_answer: bool = True,
        strict_newlines: bool = False,
        think_prefilled: bool = False,
        think_tag: str = "think",
        answer_tag: str = "answer",
        ignore_code: bool = True,
    ) -> None:
        check_tag_name(think_tag)
        check_tag_name(answer_tag)
        if think_tag == answer_tag:
            raise ConfigError("think_tag and answer_tag must differ")
        self.allow_empty_think = bool(allow_empty_think)
        self.require_answer = bool(require_answer)
        self.strict_newlines = bool(strict_newlines)
        self.think_prefilled = bool(think_prefilled)
        self.think_tag = think_tag
        self.answer_tag = answer_tag
        self.ignore_code = bool(ignore_code)

    def check(self, text: str) -> FormatCheck:
        """:func:`check_think_answer` with this objective's options."""
        return check_think_answer(text, **{k: getattr(self, k) for k in _TA_OPTIONS})

    def score(self, sample: Sample) -> Score:
        return self.check(sample.completion).to_score()


@register("think_or_not")
class ThinkOrNot(ThinkAnswerFormat):
    """:class:`ThinkAnswerFormat` where skipping thought, ``<think>\\n\\n</think>``, is valid
    (TON, "Think or Not?", arXiv 2505.16854; its GUI tasks use ``answer_tag="action"``)."""

    name: ClassVar[str] = "think_or_not"

    def __init__(
        self,
        *,
        allow_empty_think: bool = True,
        require_answer: bool = True,
        strict_newlines: bool = False,
        think_prefilled: bool = False,
        think_tag: str = "think",
        answer_tag: str = "answer",
        ignore_code: bool = True,
    ) -> None:
        super().__init__(
            allow_empty_think=allow_empty_think,
            require_answer=require_answer,
            strict_newlines=strict_newlines,
            think_prefilled=think_prefilled,
            think_tag=think_tag,
            answer_tag=answer_tag,
            ignore_code=ignore_code,
        )

