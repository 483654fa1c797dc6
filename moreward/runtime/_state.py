"""Plain state of the caller side of the pool: jobs, workers, result decoding.

Kept apart from the dispatcher so that the process management
(``_procs.py``) and the job hand-off (``_engine.py``) share one vocabulary.
"""

from __future__ import annotations

import io
import math
import os
import pickle
import signal
import socket
from concurrent.futures import Future
from typing import Any

from .result import JobResult

__all__ = ["Job", "Settled", "Worker", "close_quietly", "fail", "killpg", "loads_result", "resolve"]


class Job:
    """One submitted job: its future, its encoded frame and its timing."""

    __slots__ = ("deadline", "deadline_at", "frame", "future", "memory_limit", "running", "started")

    def __init__(self, future: Future[JobResult], frame: bytes, deadline: float, memory_limit: int | None):
        self.future = future
        self.frame = frame
        self.deadline = deadline
        self.memory_limit = memory_limit
        self.started = 0.0
        self.deadline_at = math.inf
        self.running = False  # set_running_or_notify_cancel() was called (once only)


class Worker:
    """The caller's view of one worker process: its socket, pid and current job."""

    __slots__ = (
        "broken",
        "buf",
        "close_pending",
        "gen",
        "job",
        "pid",
        "ready",
        "retired",
        "sending",
        "sock",
        "token",
    )

    def __init__(self, token: int, sock: socket.socket) -> None:
        self.token = token
        self.sock = sock
        self.pid: int | None = None
        self.ready = False  # it sent its ready frame: jobs may go to it
        self.job: Job | None = None
        self.buf = bytearray()
        self.sending = False  # a thread is writing a job to sock (do not close it under that write)
        self.close_pending = False
        self.broken = False  # a write failed: retire it
        self.retired = False
        self.gen = 0  # the preload generation it was forked with (see Engine.preload_gen)


Settled = list[tuple[Job, JobResult]]
"""Jobs decided under the lock, resolved after it is released (callbacks may submit again)."""


def resolve(settled: Settled) -> None:
    for job, result in settled:
        if not job.future.done():
            job.future.set_result(result)


def fail(settled: Settled, job: Job | None, reason: str, ended: float | None = None) -> None:
    """Record an ERROR result for ``job`` (ended at ``ended``; 0 s if it never started)."""
    if job is not None:
        elapsed = 0.0 if ended is None or not job.started else max(0.0, ended - job.started)
        settled.append((job, JobResult.error(reason, elapsed)))


class _MainAwareUnpickler(pickle.Unpickler):
    """Objects of classes from the caller's ``__main__`` come back named ``__mp_main__``."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "__mp_main__":
            module = "__main__"
        return super().find_class(module, name)


def loads_result(body: bytes) -> Any:
    """Unpickle a result body (after its kind byte)."""
    if body.find(b"__mp_main__", 1) == -1:
        return pickle.loads(memoryview(body)[1:])
    return _MainAwareUnpickler(io.BytesIO(memoryview(body)[1:])).load()


def close_quietly(obj: Any) -> None:
    try:
        obj.close()
    except OSError:
        pass


def killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
