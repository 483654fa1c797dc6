"""No orphaned or zombie processes and no open fds, after thousands of jobs and at exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import Future

import moreward_rt_jobs as jobs
import pytest

from moreward.core import Verdict
from moreward.runtime import JobResult, WorkerPool

psutil = pytest.importorskip("psutil")


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _zombie_children() -> list[int]:
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                out.append(child.pid)
        except psutil.NoSuchProcess:
            pass
    return out


def test_no_leaks_after_2000_jobs_with_timeouts_and_crashes():
    fds_before = _fds()
    kids_before = _descendants()
    futures: list[tuple[str, Future[JobResult]]] = []
    with WorkerPool(2, name="leaks") as pool:
        assert pool.wait_ready(30)
        for i in range(2000):
            if i % 100 == 50:  # 20 timeouts
                futures.append(("timeout", pool.submit(jobs.sleep, 30, deadline=0.05)))
            elif i % 250 == 125:  # 8 crashes
                futures.append(("crash", pool.submit(jobs.exit_code, 7, deadline=30)))
            elif i % 400 == 10:  # 5 jobs that leave a forked child behind at their timeout
                futures.append(("timeout", pool.submit(jobs.fork_then_sleep, os.devnull, 30, deadline=0.05)))
            else:
                futures.append((str(i), pool.submit(jobs.noop, str(i), deadline=30)))
        kinds = {"timeout": 0, "crash": 0, "ok": 0}
        for expected, fut in futures:
            res = fut.result(timeout=120)
            if expected == "timeout":
                assert res.verdict is Verdict.TIMEOUT, res
                kinds["timeout"] += 1
            elif expected == "crash":
                assert res.verdict is Verdict.ERROR and "exit code 7" in res.reason
                kinds["crash"] += 1
            else:
                assert res.ok and res.value == expected, res
                kinds["ok"] += 1
        assert kinds == {"timeout": 25, "crash": 8, "ok": 1967}
        assert pool.wait_ready(30)
        assert len(pool.worker_pids()) == 2
        # killed workers and their children are reaped asynchronously: none may stay a zombie
        assert jobs.wait_until(lambda: not _zombie_children(), timeout=5), _zombie_children()
        assert pool.run(jobs.noop, 1, deadline=30).value == 1
    assert jobs.wait_until(lambda: _descendants() <= kids_before, timeout=10), _descendants() - kids_before
    assert jobs.wait_until(lambda: not _zombie_children(), timeout=5), _zombie_children()
    assert jobs.wait_until(lambda: _fds() == fds_before, timeout=5), _fds() ^ fds_before


_EXIT_SCRIPT = """
import atexit, json, os, sys, time
import psutil

def check_after_moreward_atexit():  # registered first, so it runs after the runtime's handler
    left = [p.pid for p in psutil.Process().children(recursive=True)]
    print(json.dumps({"closed": pool.closed and shared.closed, "children_left": left}), flush=True)

atexit.register(check_after_moreward_atexit)
from moreward.runtime import WorkerPool, get_pool
pool = WorkerPool(2)
assert pool.wait_ready(30)
shared = get_pool(workers=1)
assert shared.wait_ready(30)
pool.submit(time.sleep, 60, deadline=120)  # still running at exit
time.sleep(0.2)
pids = [p.pid for p in psutil.Process().children(recursive=True)]
print(json.dumps(pids), flush=True)
if sys.argv[1] == "hard":
    os._exit(0)  # no atexit: the fork server must still notice and clean up
"""


@pytest.mark.parametrize("how", ["normal", "hard"])
def test_pool_shuts_down_at_interpreter_exit(how):
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_EXIT_SCRIPT), how],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    pids = json.loads(lines[0])
    assert len(pids) == 5  # two zygotes, three workers
    if how == "normal":  # the runtime's atexit handler shut both pools down and reaped everything
        assert json.loads(lines[1]) == {"closed": True, "children_left": []}
    # with os._exit there is no atexit at all: the fork servers notice their caller is gone
    survivors = lambda: [p for p in pids if jobs.alive(p)]  # noqa: E731
    assert jobs.wait_until(lambda: not survivors(), timeout=10), survivors()


def test_dropped_pool_stops_its_processes():
    import gc

    pool = WorkerPool(1, name="dropped")
    assert pool.run(jobs.noop, 1, deadline=30).value == 1
    pids = [*pool.worker_pids(), psutil.Process(pool.worker_pids()[0]).ppid()]
    del pool
    gc.collect()
    assert jobs.wait_until(lambda: not any(jobs.alive(p) for p in pids), timeout=10)
