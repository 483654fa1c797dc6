"""Test your rewards like code: a pytest plugin, golden-case files, assertions, hypothesis strategies
and property checks.

- ``assert_score(objective, completion, reference=None, *, value=None, min=None, max=None, verdict=None)``
- ``check_objective(objective, *, bounds=None, ...)``: fuzz with hypothesis, check
  determinism, bounds, pickling, no exceptions, thread safety and unmutated inputs.
- ``fuzz_config(config, *, max_examples=100)``: the same over a pipeline config
  (``moreward check --fuzz CONFIG``).
- ``moreward.testing.strategies``: hypothesis strategies (needs hypothesis).
- ``load_cases(path)``: read a ``reward_cases*`` golden-case file (see :mod:`moreward.testing.cases`).
- The pytest plugin (:mod:`moreward.testing.plugin`) collects golden-case files and
  provides the ``moreward_pipeline`` and ``score`` fixtures.

Names load on first use, so importing this package (as the pytest plugin does)
imports neither hypothesis nor any verifier.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .assertions import PipelineScorer, ScoreAssertionError, assert_score
    from .cases import CASE_FILE_PATTERNS, Case, CaseFileError, load_cases
    from .fuzz import FuzzReport, fuzz_config
    from .properties import PROPERTIES, CheckReport, ObjectiveCheckError, PropertyResult, check_objective

__all__ = [
    "CASE_FILE_PATTERNS",
    "PROPERTIES",
    "Case",
    "CaseFileError",
    "CheckReport",
    "FuzzReport",
    "ObjectiveCheckError",
    "PipelineScorer",
    "PropertyResult",
    "ScoreAssertionError",
    "assert_score",
    "check_objective",
    "fuzz_config",
    "load_cases",
]

_LAZY: dict[str, str] = {
    "CASE_FILE_PATTERNS": "cases",
    "Case": "cases",
    "CaseFileError": "cases",
    "load_cases": "cases",
    "PipelineScorer": "assertions",
    "ScoreAssertionError": "assertions",
    "assert_score": "assertions",
    "PROPERTIES": "properties",
    "CheckReport": "properties",
    "ObjectiveCheckError": "properties",
    "PropertyResult": "properties",
    "check_objective": "properties",
    "FuzzReport": "fuzz",
    "fuzz_config": "fuzz",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
