"""The process-wide shared pool: :func:`get_pool` and :func:`shutdown_pools`.

Verifiers call ``get_pool(preload=("sympy",))`` instead of each starting
their own processes, so one set of warm workers serves every objective.
The pool is created lazily, re-created transparently in a forked child
(the parent's pool cannot be used there: its processes are not the
child's), and stopped at interpreter exit.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from ._engine import terminate_all
from .pool import WorkerPool

__all__ = ["get_pool", "shutdown_pools"]

_lock = threading.Lock()
_shared: WorkerPool | None = None


def get_pool(*, preload: Sequence[str] = (), workers: int | None = None) -> WorkerPool:
    """The shared :class:`WorkerPool` of this process.

    Args:
        preload: modules the workers need warm; modules not yet preloaded are
            imported in the pool's fork server now (workers forked from then on
            have them).
        workers: the pool size, used only when the pool is created (the first
            call, or after a fork or a shutdown); ``None``: the CPUs available.
    """
    global _shared
    if isinstance(preload, str):
        preload = [preload]
    with _lock:
        pool = _shared
        if pool is None or pool.closed:
            pool = _shared = WorkerPool(workers, preload=preload, name="moreward-shared")
            return pool
    if preload:
        pool.add_preload(preload)
    return pool


def shutdown_pools(wait: bool = True) -> None:
    """Shut down every worker pool of this process, the shared one included.

    Running jobs get an ERROR result; use :meth:`WorkerPool.shutdown` on one
    pool to let its jobs finish instead. A later :func:`get_pool` starts afresh.
    """
    global _shared
    with _lock:
        _shared = None
    if wait:
        terminate_all()
    else:
        _stop_all_nowait()


def _stop_all_nowait() -> None:
    from ._engine import live_engines

    for engine in list(live_engines):
        if engine.pid == os.getpid():
            engine.stop(wait=False, abort=True)


def _reset_lock_in_child() -> None:
    global _lock
    _lock = threading.Lock()  # another thread may have held it at fork time


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_in_child)
