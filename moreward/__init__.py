"""moreward: verifiers, shaped rewards and Pareto-aware combiners for RL of reasoning models.

The public API is listed in ``__all__``. Importing ``moreward`` costs almost nothing:
every name loads from its module on first use (so the pytest plugin, which pytest
imports in every session, pulls in no numpy, pydantic or sympy until a case runs).

Example:
    >>> import moreward
    >>> pipe = moreward.Pipeline.from_config(
    ...     {"objectives": {"em": {"type": "exact_match"}}, "combiner": {"method": "weighted_sum"}}
    ... )
    >>> pipe.score([moreward.Sample("42", reference="42")])[0].reward
    1.0
"""

import importlib as _importlib
import typing as _typing

__version__ = "0.1.0"

_LAZY = {
    "BaseObjective": "core",
    "Objective": "core",
    "Result": "core",
    "Sample": "core",
    "Score": "core",
    "Verdict": "core",
    "CombinerConfig": "config",
    "FieldsConfig": "config",
    "ObjectiveConfig": "config",
    "PipelineConfig": "config",
    "load_config": "config",
    "ConfigError": "errors",
    "InputError": "errors",
    "JobTimeout": "errors",
    "JudgeBackendError": "errors",
    "MissingExtraError": "errors",
    "MorewardError": "errors",
    "PoolClosedError": "errors",
    "SandboxError": "errors",
    "UnknownObjectiveError": "errors",
    "WorkerCrashed": "errors",
    "Pipeline": "pipeline",
    "available": "registry",
    "get": "registry",
    "register": "registry",
    "JobResult": "runtime",
    "WorkerPool": "runtime",
    "get_pool": "runtime",
}

__all__ = sorted([*_LAZY, "__version__"])

if _typing.TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .config import CombinerConfig, FieldsConfig, ObjectiveConfig, PipelineConfig, load_config
    from .core import BaseObjective, Objective, Result, Sample, Score, Verdict
    from .errors import (
        ConfigError,
        InputError,
        JobTimeout,
        JudgeBackendError,
        MissingExtraError,
        MorewardError,
        PoolClosedError,
        SandboxError,
        UnknownObjectiveError,
        WorkerCrashed,
    )
    from .pipeline import Pipeline
    from .registry import available, get, register
    from .runtime import JobResult, WorkerPool, get_pool


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'moreward' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
