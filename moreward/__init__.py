"""moreward: verifiers, shaped rewards and Pareto-aware combiners for RL of reasoning models.

The public API is listed in ``__all__``. Importing ``moreward`` is light: verifiers
that need sympy, torch or a sandbox load when first used, and so does the runtime.

Example:
    >>> import moreward
    >>> pipe = moreward.Pipeline.from_config({"objectives": {"em": {"type": "exact_match"}}})
    >>> pipe.score([moreward.Sample("42", reference="42")])[0].reward
    1.0
"""

__version__ = "0.1.0"

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

# The runtime starts processes; it is imported only when one of its names is used.
_LAZY = {"WorkerPool": "moreward.runtime", "JobResult": "moreward.runtime", "get_pool": "moreward.runtime"}

__all__ = [
    "BaseObjective",
    "CombinerConfig",
    "ConfigError",
    "FieldsConfig",
    "InputError",
    "JobResult",
    "JobTimeout",
    "JudgeBackendError",
    "MissingExtraError",
    "MorewardError",
    "Objective",
    "ObjectiveConfig",
    "Pipeline",
    "PipelineConfig",
    "PoolClosedError",
    "Result",
    "Sample",
    "SandboxError",
    "Score",
    "UnknownObjectiveError",
    "Verdict",
    "WorkerCrashed",
    "WorkerPool",
    "__version__",
    "available",
    "get",
    "get_pool",
    "load_config",
    "register",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'moreward' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
