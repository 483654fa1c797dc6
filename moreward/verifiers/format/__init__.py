"""Tag-format verifiers: a tag-grammar validator and the output formats of the papers.

Presets (registry name: grammar, source):

- ``think_answer``: ``\\s*<think>T</think>\\s*<answer>A</answer>\\s*`` with one of each,
  T and A not blank (DeepSeek-R1, arXiv 2501.12948; open-r1's ``format`` reward), with
  options for an empty think (TON), open-r1's exact newlines, free text after
  ``</think>`` (TRL's ``think_format_reward``) and a think tag opened by the prompt.
  :func:`check_think_answer` is the same check on a plain string.
- ``think_or_not``: ``<think>\\n\\n</think>`` is valid (TON, arXiv 2505.16854).
- ``parallel_thinking``: ``<Parallel><Path>...</Path><Path>...</Path></Parallel><Summary>...</Summary>``
  (Parallel-R1, arXiv 2509.07980) and :func:`parallel_ratio`.
- ``plan_first``: interleaved thinking whose first visible block is a plan, with the
  time to first response in tokens (Plantain, arXiv 2512.03176).
- ``tool_blocks``: ```` ```python ```` blocks each followed by an ```` ```output ```` block
  (START, arXiv 2503.04625).
- ``tag_count``: open-r1's partial credit, ``1/k`` for each of k strings present exactly once.
- ``tag_grammar``: a :class:`TagGrammar` given in the config.

None of them raises on any completion: a malformed one gets ``Verdict.FAIL`` (0.0) with
the rule that failed in ``details["rule"]`` and every violation in ``details["errors"]``.
"""

from __future__ import annotations

from .grammar import (
    OPEN_R1_TAGS,
    TOP,
    Element,
    Fence,
    FormatCheck,
    TagCount,
    TagGrammar,
    TagGrammarFormat,
    TagSpec,
    code_spans,
    fenced_blocks,
    parse_tags,
    tag_count,
)
from .parallel import ParallelThinking, check_parallel, parallel_ratio
from .plan import PlanFirst, check_plan_first, count_whitespace_tokens
from .think import ThinkAnswerFormat, ThinkOrNot, check_think_answer
from .tools import ToolBlocks, check_tool_blocks

__all__ = [
    "OPEN_R1_TAGS",
    "TOP",
    "Element",
    "Fence",
    "FormatCheck",
    "ParallelThinking",
    "PlanFirst",
    "TagCount",
    "TagGrammar",
    "TagGrammarFormat",
    "TagSpec",
    "ThinkAnswerFormat",
    "ThinkOrNot",
    "ToolBlocks",
    "check_parallel",
    "check_plan_first",
    "check_think_answer",
    "check_tool_blocks",
    "code_spans",
    "count_whitespace_tokens",
    "fenced_blocks",
    "parallel_ratio",
    "parse_tags",
    "tag_count",
]
