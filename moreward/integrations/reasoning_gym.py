"""reasoning-gym's verifiers as a moreward objective (``type = "reasoning_gym"``).

reasoning-gym's contract (0.1.25, ``dataset.py``/``factory.py``): an entry is
``{"question", "answer", "metadata": {"source_dataset", ...}}`` and
``dataset.score_answer(answer: str | None, entry) -> float`` in [0, 1], or
statelessly ``get_score_answer_fn(source_dataset)(answer, entry)``. The answer is
usually the last ``<answer>...</answer>`` block (``utils.extract_answer``).

The sample's ``reference`` is the whole entry (``answer`` plus ``metadata``, which
many datasets need, e.g. ``knights_knaves``), or the answer string, with
``metadata`` then taken from ``Sample.meta["metadata"]``. The dataset is the
``dataset`` option, else ``metadata.source_dataset``, else ``meta["data_source"]``.

Config::

    [objectives.puzzles]
    type = "reasoning_gym"          # any of reasoning-gym's ~100 datasets
    extract = "answer_tag"          # or "full"
    timeout = 5.0                   # optional: run score_answer in the hard-deadline runtime

Verdicts: 1.0 -> ``PASS``, 0.0 -> ``FAIL``, in between -> ``PARTIAL``; no answer
tag -> ``INVALID`` (0.0); no or unknown dataset -> ``SKIP``; ``score_answer``
raising -> ``ERROR`` (no value); past ``timeout`` -> ``TIMEOUT`` (no value).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

from moreward.core import BaseObjective, Sample, Score, Verdict
from moreward.errors import ConfigError, MissingExtraError
from moreward.registry import register

__all__ = ["ReasoningGymObjective", "available_datasets"]


def _rg() -> Any:
    try:
        import reasoning_gym
    except ImportError as exc:
        raise MissingExtraError("reasoning-gym is not installed; install it with: pip install reasoning-gym") from exc
    return reasoning_gym


def available_datasets() -> list[str]:
    """The names of reasoning-gym's registered datasets."""
    _rg()
    from reasoning_gym.factory import DATASETS

    return sorted(DATASETS)


@functools.cache
def _score_fn(name: str) -> Callable[[str | None, dict[str, Any]], float]:
    rg = _rg()
    return rg.get_score_answer_fn(name)  # type: ignore[no-any-return]


def _verdict(value: float) -> Verdict:
    if value >= 1.0:
        return Verdict.PASS
    if value <= 0.0:
        return Verdict.FAIL
    return Verdict.PARTIAL


def _score_answer(name: str, answer: str | None, entry: dict[str, Any]) -> Score:
    """Run one dataset's ``score_answer`` (module level so the worker pool can run it)."""
    try:
        value = float(_score_fn(name)(answer, entry))
    except Exception as exc:
        return Score.error(f"reasoning-gym {name} score_answer raised {type(exc).__name__}: {exc}")
    return Score(value, _verdict(value), f"reasoning-gym {name} score_answer", {"dataset": name, "answer": answer})


@register("reasoning_gym")
class ReasoningGymObjective(BaseObjective):
    """A reasoning-gym dataset's ``score_answer`` as an objective.

    Args:
        dataset: the reasoning-gym dataset name; ``None`` reads it from each sample.
        extract: ``"answer_tag"`` (the last ``<tag>...</tag>`` block) or ``"full"`` (the stripped completion).
        tag: the answer tag name.
        timeout: seconds; when set, ``score_answer`` runs in moreward's hard-deadline worker pool.

    Raises:
        ConfigError: unknown ``dataset`` or ``extract``, or a non-positive ``timeout``.
    """

    name: ClassVar[str] = "reasoning_gym"

    def __init__(
        self,
        *,
        dataset: str | None = None,
        extract: Literal["answer_tag", "full"] = "answer_tag",
        tag: str = "answer",
        timeout: float | None = None,
    ) -> None:
        if extract not in ("answer_tag", "full"):
            raise ConfigError(f"extract={extract!r} is not allowed; allowed: answer_tag, full")
        if dataset is not None:
            names = available_datasets()
            if dataset not in names:
                import difflib

                close = difflib.get_close_matches(dataset, names, n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise ConfigError(f"unknown reasoning-gym dataset {dataset!r}{hint}")
        if timeout is not None and not timeout > 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.dataset = dataset
        self.extract = extract
        self.tag = tag
        self.timeout = timeout

    def _entry(self, sample: Sample) -> dict[str, Any] | None:
        ref = sample.reference
        if isinstance(ref, Mapping) and "answer" in ref:
            entry = dict(ref)
            entry.setdefault("metadata", dict(sample.meta.get("metadata") or {}))
            return entry
        if isinstance(ref, (str, int, float)) and not isinstance(ref, bool):
            return {"answer": str(ref), "metadata": dict(sample.meta.get("metadata") or {})}
        return None

    def score(self, sample: Sample) -> Score:
        entry = self._entry(sample)
        if entry is None:
            return Score.skip(f"reference must be a reasoning-gym entry or an answer string, got {sample.reference!r:.60}")
        raw_meta = entry.get("metadata")
        meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
        name = self.dataset or meta.get("source_dataset") or sample.meta.get("data_source")
        if not isinstance(name, str) or not name:
            return Score.skip("no reasoning-gym dataset: set dataset= or give metadata.source_dataset")
        if name not in _registered():
            return Score.skip(f"unknown reasoning-gym dataset {name!r}")
        if self.extract == "answer_tag":
            from reasoning_gym.utils import extract_answer

            answer = extract_answer(sample.completion, tag_name=self.tag)
            if answer is None:
                return Score(0.0, Verdict.INVALID, f"no <{self.tag}> block in the completion")
        else:
            answer = sample.completion.strip()
        if self.timeout is None:
            return _score_answer(name, answer, entry)
        from moreward.runtime import get_pool

        return get_pool(preload=("reasoning_gym",)).run(_score_answer, name, answer, entry, deadline=self.timeout).to_score()


@functools.lru_cache(maxsize=1)
def _registered() -> frozenset[str]:
    return frozenset(available_datasets())
