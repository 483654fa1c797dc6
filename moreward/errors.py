"""The one exception tree of moreward.

Verifiers never raise for a bad *completion*: they return a :class:`~moreward.core.Score`
whose verdict says what happened. Exceptions are for the caller's mistakes (a bad
config, an unknown objective) and for infrastructure that cannot go on::

    MorewardError
    ├── ConfigError(ValueError)            bad config file, key or value
    │   └── UnknownObjectiveError(KeyError) registry name not found (lists close matches)
    ├── MissingExtraError(ImportError)     an optional dependency is not installed
    ├── InputError(ValueError)             a malformed sample, JSONL line or field
    ├── RuntimeErrorBase                   the hard-deadline worker pool
    │   ├── PoolClosedError(RuntimeError)  submit after shutdown
    │   ├── JobTimeout(TimeoutError)       only raised on request (``result.raise_for_status()``)
    │   └── WorkerCrashed(RuntimeError)    likewise
    ├── SandboxError(RuntimeError)         the code sandbox could not be set up
    └── JudgeBackendError(RuntimeError)    a model-based judge failed
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "JobTimeout",
    "JudgeBackendError",
    "MissingExtraError",
    "MorewardError",
    "PoolClosedError",
    "RuntimeErrorBase",
    "SandboxError",
    "UnknownObjectiveError",
    "WorkerCrashed",
]


class MorewardError(Exception):
    """Base of every exception that moreward raises on purpose."""


class ConfigError(MorewardError, ValueError):
    """A configuration is invalid: the message names the file, the key and the allowed values."""


class UnknownObjectiveError(ConfigError, KeyError):
    """A registry name is unknown; the message lists the close matches."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingExtraError(MorewardError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class InputError(MorewardError, ValueError):
    """An input sample or line is malformed."""


class RuntimeErrorBase(MorewardError):
    """Errors of the hard-deadline worker runtime."""


class PoolClosedError(RuntimeErrorBase, RuntimeError):
    """A job was submitted to a pool that has been shut down."""


class JobTimeout(RuntimeErrorBase, TimeoutError):
    """A job ran past its deadline (raised only when the caller asks for it)."""


class WorkerCrashed(RuntimeErrorBase, RuntimeError):
    """A worker died while running a job (raised only when the caller asks for it)."""


class SandboxError(MorewardError, RuntimeError):
    """The code sandbox could not be set up or failed outside the program under test."""


class JudgeBackendError(MorewardError, RuntimeError):
    """A model-based judge backend failed."""


def missing_extra(package: str, extra: str) -> MissingExtraError:
    """Build the error raised when an optional dependency is absent."""
    return MissingExtraError(
        f"{package} is not installed; install it with: pip install 'moreward[{extra}]'"
    )
