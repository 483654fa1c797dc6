"""The hard-deadline runtime: warm forked worker processes, each job with a wall-clock deadline.

Nothing that can hang (sympy, LaTeX parsing, user code) runs in the caller's
process: it runs in a worker forked from a single-threaded fork server, the
caller's dispatcher thread enforces the deadline from outside, and a worker
past it is killed with its whole process group and replaced. The job's
result is then ``Verdict.TIMEOUT``; a worker that dies gives ``Verdict.ERROR``
with the reason. No ``signal.alarm``: it works from any thread, from asyncio,
and inside forked or spawned (even daemonic) children.

Good to know:

- A job's deadline counts from its start in a worker, not from ``submit``.
- Workers are reused: a job that changes global state (cwd, env, module
  globals) leaves it for the next job on that worker.
- Job functions must be picklable. A function from a module that is not
  importable by name (a script's ``__main__``, a test file) is loaded by
  file in the workers; its import time counts against the first job's
  deadline on each worker, so use ``preload`` for heavy modules.
- ``memory_limit`` caps the worker's whole address space while the job
  runs (interpreter and preloaded modules included).

Example:
    >>> from moreward.runtime import WorkerPool
    >>> with WorkerPool(2) as pool:                        # doctest: +SKIP
    ...     pool.run(pow, 10, 10**9, deadline=0.5).verdict
    <Verdict.TIMEOUT: 'timeout'>
"""

from __future__ import annotations

from .pool import WorkerPool, default_workers
from .result import JobResult
from .shared import get_pool, shutdown_pools

__all__ = ["JobResult", "WorkerPool", "default_workers", "get_pool", "shutdown_pools"]
