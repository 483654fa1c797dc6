"""Parallel-R1's parallel-thinking format and its parallel ratio (arXiv 2509.07980).

Grammar: ``<Parallel><Path>...</Path><Path>...</Path></Parallel><Summary>...</Summary>``: at
least two paths per block and exactly one summary right after each block, as the
reference checker ``check_parallel_thinking_format`` (zhengkid/Parallel-R1,
``verl/utils/reward_score``) has it, on a real tag tree (tags in code are ignored).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from ...core import BaseObjective, Sample, Score
from ...errors import ConfigError
from ...registry import register
from .grammar import Element, FormatCheck, TagGrammar, TagSpec, check_tag_name

__all__ = ["ParallelThinking", "check_parallel", "parallel_ratio"]


def check_parallel(
    text: str,
    *,
    min_paths: int = 2,
    require_parallel: bool = False,
    tags: tuple[str, str, str] = ("Parallel", "Path", "Summary"),
    allow_nested: bool = False,
    ignore_code: bool = True,
) -> FormatCheck:
    """Parallel-R1's parallel-thinking format (arXiv 2509.07980).

    Grammar: ``<Parallel>`` blocks, anywhere but (unless ``allow_nested``, which the
    reference checker allows) not inside one another, hold at least
    ``min_paths`` ``<Path>`` blocks (a ``<Path>`` only directly inside a ``<Parallel>``);
    the next tag after each ``</Parallel>`` is a ``<Summary>``, and every ``<Summary>``
    follows a ``</Parallel>``: #Summary = #Parallel. Text around the blocks is free, as in
    the reference checker. ``info``: ``parallel`` (at least one well-formed block),
    ``n_parallel``, ``paths`` (per block).

    Example:
        >>> t = "x <Parallel><Path>a</Path><Path>b</Path></Parallel><Summary>s</Summary> y"
        >>> check_parallel(t).info["parallel"]
        True
    """
    par, path, summ = tags
    grammar = _parallel_grammar(tags, allow_nested, ignore_code)
    check = grammar.check(text)
    errors = list(check.errors)
    n_paths: list[int] = []
    n_summary = 0

    def visit(siblings: list[Element]) -> None:
        nonlocal n_summary
        for i, el in enumerate(siblings):
            if el.name == par:
                k = sum(c.name == path for c in el.children)
                n_paths.append(k)
                if k < min_paths:
                    errors.append(("paths", f"<{par}> at offset {el.start} has {k} <{path}> block(s), needs {min_paths}"))
                if i + 1 >= len(siblings) or siblings[i + 1].name != summ:
                    errors.append(("summary", f"<{par}> at offset {el.start} is not followed by <{summ}>"))
            elif el.name == summ:
                n_summary += 1
                if i == 0 or siblings[i - 1].name != par:
                    errors.append(("summary", f"<{summ}> at offset {el.start} does not follow a </{par}>"))
            visit(el.children)

    visit(list(check.elements))
    if require_parallel and not n_paths:
        errors.append(("missing", f"no <{par}> block (require_parallel=True)"))
    info = {"parallel": bool(n_paths) and not errors, "n_parallel": len(n_paths), "paths": n_paths, "n_summary": n_summary}
    return FormatCheck(not errors, tuple(errors), check.elements, info)


@functools.lru_cache(maxsize=16)
def _parallel_grammar(tags: tuple[str, str, str], allow_nested: bool, ignore_code: bool) -> TagGrammar:
    par, path, summ = tags
    specs = (
        TagSpec(par, max=None, parents=None, nest=allow_nested),
        TagSpec(path, max=None, parents=(par,), nest=allow_nested),
        TagSpec(summ, max=None, parents=None, nest=allow_nested),
    )
    return TagGrammar(specs, None, "any", ignore_code)


def parallel_ratio(completions: Iterable[str | Sample], **options: Any) -> float:
    """Parallel-R1's parallel ratio: the share of completions holding at least one
    well-formed parallel block (0.0 for no completions). ``options`` go to :func:`check_parallel`."""
    flags = [check_parallel(c.completion if isinstance(c, Sample) else c, **options).info["parallel"] for c in completions]
    return sum(flags) / len(flags) if flags else 0.0


@register("parallel_thinking")
class ParallelThinking(BaseObjective):
    """1.0 when the completion is in Parallel-R1's format (:func:`check_parallel`), else 0.0.

    ``details["parallel"]`` says whether it used parallel thinking (for the parallel
    ratio and the alternating reward of the paper's stage 2).

    Args:
        min_paths: fewest ``<Path>`` blocks per ``<Parallel>`` (paper: 2).
        require_parallel: fail completions without any ``<Parallel>`` block.
        tags: the three tag names (parallel, path, summary).
        allow_nested: a parallel block may sit inside a path.
        ignore_code: ignore tags in code blocks.
    """

    name: ClassVar[str] = "parallel_thinking"

    def __init__(
        self,
        *,
        min_paths: int = 2,
        require_parallel: bool = False,
        tags: Sequence[str] = ("Parallel", "Path", "Summary"),
        allow_nested: bool = False,
        ignore_code: bool = True,
    ) -> None:
        if isinstance(min_paths, bool) or not isinstance(min_paths, int) or min_paths < 1:
            raise ConfigError(f"min_paths must be an int >= 1, got {min_paths!r}")
        if isinstance(tags, str) or len(tags) != 3 or len(set(tags)) != 3:
            raise ConfigError(f"tags must be three distinct names (parallel, path, summary), got {tags!r}")
        self.min_paths = min_paths
        self.require_parallel = bool(require_parallel)
        self.tags: tuple[str, str, str] = (str(tags[0]), str(tags[1]), str(tags[2]))
        self.allow_nested = bool(allow_nested)
        self.ignore_code = bool(ignore_code)
        for t in self.tags:
            check_tag_name(t)

    def score(self, sample: Sample) -> Score:
        return check_parallel(
            sample.completion, min_paths=self.min_paths, require_parallel=self.require_parallel,
            tags=self.tags, allow_nested=self.allow_nested, ignore_code=self.ignore_code,
        ).to_score()

