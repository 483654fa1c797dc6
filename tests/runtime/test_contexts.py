"""Callers run rewards from threads, event loops, daemon threads, forked and spawned children."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import moreward_rt_jobs as jobs
import pytest

from moreward.core import Verdict
from moreward.errors import PoolClosedError
from moreward.runtime import JobResult, WorkerPool, get_pool, shutdown_pools


def test_eight_threads_submitting_at_once(pool):
    barrier = threading.Barrier(8)

    def caller(t):
        barrier.wait()
        futures = [pool.submit(jobs.add, t * 1000, i, deadline=30) for i in range(40)]
        got = [pool.run(jobs.add, t, -i, deadline=30).value for i in range(10)]
        return [f.result().value for f in futures], got

    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(caller, range(8)))
    for t, (submitted, ran) in enumerate(results):
        assert submitted == [t * 1000 + i for i in range(40)]
        assert ran == [t - i for i in range(10)]


def test_asyncio(pool):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick_task = asyncio.create_task(ticker())
        one = await pool.asubmit(jobs.add, 2, 3, deadline=10)
        many = await pool.amap(jobs.noop, range(20), deadline=10)
        slow, fast = await asyncio.gather(
            pool.asubmit(jobs.sleep, 30, deadline=0.3), pool.asubmit(jobs.sleep, 0.1, "x", deadline=10)
        )
        tick_task.cancel()
        return one, many, slow, fast, ticks

    one, many, slow, fast, ticks = asyncio.run(main())
    assert one.value == 5
    assert [r.value for r in many] == list(range(20))
    assert slow.verdict is Verdict.TIMEOUT and fast.value == "x"
    assert ticks >= 10  # the loop kept running while jobs ran


def test_daemon_thread(pool):
    out: list[JobResult] = []

    def body():
        out.append(pool.run(jobs.add, 1, 2, deadline=10))
        out.append(get_pool(workers=2).run(jobs.add, 3, 4, deadline=30))
        out.append(pool.run(jobs.sleep, 30, deadline=0.2))

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert [r.value for r in out[:2]] == [3, 7]
    assert out[2].verdict is Verdict.TIMEOUT


def _fork():
    with warnings.catch_warnings():  # Python 3.12+ warns about forking a threaded process: that is the test
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def test_inside_a_forked_child(pool):
    parent_shared = get_pool(workers=2)
    assert parent_shared.run(jobs.add, 1, 1, deadline=30).value == 2
    r, w = os.pipe()
    pid = _fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            os.close(r)
            report = {}
            try:
                pool.submit(jobs.noop, 1, deadline=1)
            except PoolClosedError as exc:
                report["inherited_closed"] = "forked child" in str(exc)
            shared = get_pool(workers=1)
            report["new_shared"] = shared is not parent_shared
            report["shared"] = shared.run(jobs.add, 2, 3, deadline=30).value
            with WorkerPool(1, name="in-child") as own:
                report["own"] = own.run(jobs.add, 4, 5, deadline=30).value
                report["timeout"] = own.run(jobs.sleep, 30, deadline=0.2).verdict.value
            shutdown_pools()
            os.write(w, json.dumps(report).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert json.loads(data) == {
        "inherited_closed": True,
        "new_shared": True,
        "shared": 5,
        "own": 9,
        "timeout": "timeout",
    }
    # the parent's pools were not disturbed by the child
    assert pool.run(jobs.add, 1, 2, deadline=10).value == 3
    assert parent_shared.run(jobs.add, 2, 2, deadline=10).value == 4


def test_forked_child_does_not_keep_the_parents_pool_alive():
    """A forked child drops its copy of the parent's sockets, so shutdown is not held up by it."""
    p = WorkerPool(1, name="fork-parent")
    assert p.run(jobs.noop, 1, deadline=30).value == 1
    pid = _fork()
    if pid == 0:
        try:
            time.sleep(4)
        finally:
            os._exit(0)
    try:
        start = time.monotonic()
        p.shutdown()
        assert time.monotonic() - start < 2.5
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


_SPAWN_CHILD = """
import operator, time
from moreward.runtime import WorkerPool, get_pool, shutdown_pools
ok = get_pool(workers=1).run(operator.add, 2, 3, deadline=30)
with WorkerPool(1) as pool:
    late = pool.run(time.sleep, 30, deadline=0.2)
shutdown_pools()
conn.send((ok.value, late.verdict.value))
conn.close()
"""


def test_inside_a_spawned_child():
    ctx = multiprocessing.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    # daemonic, like a DataLoader or multiprocessing.Pool worker: those may not start
    # multiprocessing children, so the pool must not rely on multiprocessing
    proc = ctx.Process(target=exec, args=(_SPAWN_CHILD, {"conn": child_conn}), daemon=True)
    proc.start()
    child_conn.close()
    try:
        assert parent_conn.poll(120), "spawned child did not report"
        assert parent_conn.recv() == (5, "timeout")
    finally:
        proc.join(30)
        parent_conn.close()
    assert proc.exitcode == 0


def test_get_pool_is_shared_and_preloads():
    p = get_pool(workers=2)
    assert get_pool() is p
    p2 = get_pool(preload=["json"])
    assert p2 is p and "json" in p.preload
    with pytest.raises(ModuleNotFoundError):
        get_pool(preload=["no_such_module_for_moreward"])


def test_closed_pool_rejects_jobs():
    p = WorkerPool(1, name="closing")
    assert p.run(jobs.noop, 1, deadline=10).value == 1
    p.shutdown()
    assert p.closed
    with pytest.raises(PoolClosedError):
        p.submit(jobs.noop, 1, deadline=1)
    with pytest.raises(PoolClosedError):
        p.map(jobs.noop, [1], deadline=1)
    with pytest.raises(PoolClosedError):
        asyncio.run(p.asubmit(jobs.noop, 1, deadline=1))
    p.shutdown()  # idempotent


def test_shutdown_waits_for_running_and_queued_jobs():
    p = WorkerPool(1, name="draining")
    futures = [p.submit(jobs.sleep, 0.1, i, deadline=10) for i in range(3)]
    start = time.monotonic()
    p.shutdown(wait=True)
    assert time.monotonic() - start >= 0.2
    assert [f.result().value for f in futures] == [0, 1, 2]


def test_terminate_fails_running_jobs():
    p = WorkerPool(1, name="terminating")
    running = p.submit(jobs.sleep, 30, deadline=60)
    queued = p.submit(jobs.noop, 1, deadline=60)
    time.sleep(0.2)
    start = time.monotonic()
    p.terminate()
    assert time.monotonic() - start < 5
    assert running.result().verdict is Verdict.ERROR and "shut down" in running.result().reason
    assert queued.result().verdict is Verdict.ERROR


def test_queued_job_can_be_cancelled():
    with WorkerPool(1, name="cancel") as p:
        assert p.wait_ready(30)
        busy = p.submit(jobs.sleep, 0.3, "busy", deadline=10)
        queued = p.submit(jobs.noop, "queued", deadline=10)
        assert queued.cancel()
        after = p.submit(jobs.noop, "after", deadline=10)
        assert busy.result().value == "busy" and after.result().value == "after"
        assert queued.cancelled()
