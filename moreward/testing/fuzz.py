"""Fuzz every objective of a pipeline config, and the pipeline itself: :func:`fuzz_config`.

The engine behind ``moreward check --fuzz CONFIG``. Each objective goes through
:func:`~moreward.testing.check_objective`; the whole pipeline is then fuzzed with
batches of samples: it must return one result per sample, rewards finite or
``None``, the same rewards on a second call.

Example:
    >>> from moreward.testing import fuzz_config
    >>> report = fuzz_config({"objectives": {"em": {"type": "exact_match"}}}, max_examples=5)
    >>> report.ok
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import Result, Sample, Verdict
from ._outcome import spec_label
from .properties import Bounds, CheckReport, PropertyResult, _Failed, _hypothesis, _run, check_objective

__all__ = ["FuzzReport", "fuzz_config"]


@dataclass
class FuzzReport:
    """What :func:`fuzz_config` found: one :class:`CheckReport` per objective and the pipeline's result.

    ``str(report)`` is the printable report; ``ok`` is true when every check passed.
    """

    config: str
    objectives: dict[str, CheckReport] = field(default_factory=dict)
    pipeline: PropertyResult = field(default_factory=lambda: PropertyResult("pipeline"))
    max_examples: int = 0
    seed: int | None = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every objective and the pipeline passed."""
        return self.pipeline.ok and all(r.ok for r in self.objectives.values())

    @property
    def failed(self) -> int:
        """How many checks failed."""
        return sum(len(r.failures) for r in self.objectives.values()) + (0 if self.pipeline.ok else 1)

    def __str__(self) -> str:
        lines = [
            f"moreward fuzz: {self.config} ({self.max_examples} examples per property, seed {self.seed})"
        ]
        for report in self.objectives.values():
            lines.append(str(report))
        lines += self.pipeline.lines()
        total = sum(len(r.results) for r in self.objectives.values()) + 1
        verdict = "all checks passed" if self.ok else f"{self.failed} of {total} checks failed"
        lines.append(f"fuzz: {verdict} in {self.elapsed:.1f}s")
        return "\n".join(lines)


def _same_reward(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _timed_out(r: Result) -> bool:
    return any(s.verdict is Verdict.TIMEOUT for s in r.components.values())


def _check_pipeline(pipeline: Any, batch: list[Sample]) -> None:
    try:
        first = pipeline.score(batch)
    except Exception as exc:
        raise _Failed("pipeline", f"score() raised {type(exc).__name__}: {exc}", batch) from None
    if len(first) != len(batch):
        raise _Failed("pipeline", f"score() returned {len(first)} results for {len(batch)} samples", batch)
    for i, r in enumerate(first):
        if r.reward is not None and not math.isfinite(r.reward):
            raise _Failed("pipeline", f"sample {i}: reward {r.reward!r} is not finite (raw {r.raw})", batch)
    second = pipeline.score(batch)
    for i, (a, b) in enumerate(zip(first, second)):
        if not (_timed_out(a) or _timed_out(b)) and not _same_reward(a.reward, b.reward):
            raise _Failed(
                "pipeline", f"sample {i}: reward {a.reward!r} then {b.reward!r} on a second call", batch
            )


def fuzz_config(
    config: str | Path | Mapping[str, Any],
    /,
    *,
    max_examples: int = 100,
    seed: int | None = 0,
    threads: int = 4,
    bounds: Mapping[str, Bounds] | None = None,
) -> FuzzReport:
    """Run :func:`check_objective` on every objective of a pipeline config, then fuzz the pipeline.

    Args:
        config: a config file (TOML/YAML/JSON) or mapping, as for ``Pipeline.from_config``.
        max_examples: hypothesis examples per property run.
        seed: hypothesis seed (``None``: random).
        threads: threads of the thread-safety check.
        bounds: objective name -> ``(lo, hi)`` value bounds; objectives not named must give finite values.

    Returns:
        A :class:`FuzzReport`; never raises for a failed check (look at ``report.ok``).

    Raises:
        ConfigError: the config is invalid (the message names the file and key).
        MissingExtraError: hypothesis is not installed.
    """
    _hypothesis()
    from hypothesis import strategies as st

    from ..pipeline import Pipeline
    from . import strategies as mst

    start = time.perf_counter()
    pipeline = Pipeline.from_config(config)
    cfg = pipeline.config
    bounds = dict(bounds or {})
    unknown = sorted(set(bounds) - set(pipeline.names))
    if unknown:
        raise ValueError(f"bounds name unknown objective(s) {unknown}; objectives: {pipeline.names}")
    report = FuzzReport(
        str(config) if isinstance(config, (str, Path)) else "config", max_examples=max_examples, seed=seed
    )
    for name, obj in pipeline.objectives.items():
        result = check_objective(
            obj,
            bounds=bounds.get(name),
            max_examples=max_examples,
            threads=threads,
            seed=seed,
            raise_on_failure=False,
        )
        if cfg is not None:
            ocfg = cfg.objectives[name]
            result.objective = f"{name} = {spec_label({'type': ocfg.type, **ocfg.options})}"
        report.objectives[name] = result

    def batch_check(batch: list[Sample]) -> None:
        _check_pipeline(pipeline, batch)

    batches = st.lists(mst.samples(), min_size=1, max_size=8)
    failed = _run(batch_check, batches, max_examples=max(5, max_examples // 5), seed=seed)
    combiner = getattr(pipeline.combiner, "name", type(pipeline.combiner).__name__)
    if failed is None:
        report.pipeline = PropertyResult(
            "pipeline", True, f"{combiner}: one result per sample, rewards finite or None, deterministic"
        )
    else:
        report.pipeline = PropertyResult("pipeline", False, f"{combiner}: {failed.message}", failed.example)
    report.elapsed = time.perf_counter() - start
    return report
