""":class:`JobResult`: what a job in the worker pool gives back.

A job never raises into the caller: a timeout, a crash or the job's own
exception all become a result with a :class:`~moreward.core.Verdict` and a
reason, so a reward function can turn it into a ``Score`` (no value: an
infrastructure failure is never trained on as a 0). Callers who prefer
exceptions call :meth:`JobResult.raise_for_status`.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Any

from ..core import Score, Verdict
from ..errors import JobTimeout, WorkerCrashed

__all__ = ["JobResult", "describe_wait_status"]


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job.

    Args:
        ok: True when the job returned normally (its value is in ``value``).
        value: the job's return value (``None`` when not ok).
        verdict: ``None`` when ok; ``Verdict.TIMEOUT`` past the deadline;
            ``Verdict.ERROR`` when the job raised, the worker died or a
            pickling step failed.
        reason: a short explanation, e.g. ``"ValueError: bad input"``,
            ``"deadline of 1.0 s exceeded"`` or ``"worker died with signal SIGSEGV"``.
        elapsed: wall-clock seconds from the job's start in a worker to its result.
        traceback: the job's formatted traceback when it raised (extra to the
            documented contract; empty otherwise).
    """

    ok: bool
    value: Any
    verdict: Verdict | None
    reason: str
    elapsed: float
    traceback: str = ""

    @classmethod
    def success(cls, value: Any, elapsed: float) -> JobResult:
        return cls(True, value, None, "", elapsed)

    @classmethod
    def timeout(cls, deadline: float, elapsed: float) -> JobResult:
        return cls(False, None, Verdict.TIMEOUT, f"deadline of {deadline:g} s exceeded", elapsed)

    @classmethod
    def error(cls, reason: str, elapsed: float, traceback: str = "") -> JobResult:
        return cls(False, None, Verdict.ERROR, reason, elapsed, traceback)

    def to_score(self) -> Score:
        """The result as a :class:`~moreward.core.Score`.

        Failures give ``Score(None, verdict, reason)``. A successful job must
        have returned a ``Score`` (returned as is) or a ``bool``
        (``Score.from_bool``); anything else raises ``TypeError``, because
        guessing a verdict from a number would hide bugs.
        """
        if not self.ok:
            return Score(None, self.verdict or Verdict.ERROR, self.reason)
        if isinstance(self.value, Score):
            return self.value
        if isinstance(self.value, bool):
            return Score.from_bool(self.value)
        raise TypeError(
            f"JobResult.to_score() needs the job to return a Score or a bool, got {type(self.value).__name__}"
        )

    def raise_for_status(self) -> None:
        """Raise :class:`~moreward.errors.JobTimeout` or :class:`~moreward.errors.WorkerCrashed` unless ok.

        For a job that raised, the message is ``"<ExceptionType>: <message>"``
        and the worker's traceback is appended.
        """
        if self.ok:
            return
        if self.verdict is Verdict.TIMEOUT:
            raise JobTimeout(self.reason)
        message = self.reason
        if self.traceback:
            message = f"{message}\n\nTraceback in the worker:\n{self.traceback}"
        raise WorkerCrashed(message)


def describe_wait_status(status: int | None) -> str:
    """Turn a ``waitpid`` status into "worker died with signal SIGSEGV" / "... exit code 3"."""
    if status is None:
        return "worker died (exit status unknown)"
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = str(signum)
        text = f"worker died with signal {name}"
        if signum == signal.SIGKILL:
            text += " (killed from outside the pool, e.g. by the OOM killer)"
        return text
    return f"worker died with exit code {os.WEXITSTATUS(status)}"
