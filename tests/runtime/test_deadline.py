"""The hard deadline: enforced from outside, whatever the job is doing."""

from __future__ import annotations

import time

import moreward_rt_jobs as jobs
import pytest

from moreward.core import Verdict
from moreward.runtime import WorkerPool

SLACK = 0.3  # the contract: TIMEOUT within deadline + 0.3 s


def _timed(pool, fn, *args, deadline):
    start = time.monotonic()
    res = pool.run(fn, *args, deadline=deadline)
    return res, time.monotonic() - start


def test_sleeping_job_times_out_within_slack(pool):
    res, took = _timed(pool, jobs.sleep, 30, deadline=0.5)
    assert res.verdict is Verdict.TIMEOUT and not res.ok
    assert "deadline" in res.reason
    assert 0.5 <= took <= 0.5 + SLACK
    assert res.value is None and res.elapsed >= 0.5


def test_job_stuck_in_c_code_is_killed(pool):
    res, took = _timed(pool, jobs.stuck_in_c, deadline=0.5)
    assert res.verdict is Verdict.TIMEOUT
    assert took <= 0.5 + SLACK


def test_timed_out_worker_is_replaced_and_pool_goes_on(pool):
    assert pool.wait_ready(10)
    before = set(pool.worker_pids())
    res = pool.run(jobs.sleep, 30, deadline=0.2)
    assert res.verdict is Verdict.TIMEOUT
    assert pool.wait_ready(10)
    after = set(pool.worker_pids())
    assert len(after) == 2 and after != before  # exactly one was replaced
    assert len(before - after) == 1
    assert [pool.run(jobs.add, i, 1, deadline=5).value for i in range(5)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("job", [jobs.fork_then_sleep, jobs.subprocess_then_sleep])
def test_children_of_a_timed_out_job_are_killed(pool, tmp_path, job):
    pidfile = tmp_path / "child.pid"
    res, took = _timed(pool, job, str(pidfile), 30, deadline=1.0)
    assert res.verdict is Verdict.TIMEOUT
    assert took <= 1.0 + SLACK
    child = int(pidfile.read_text())
    assert jobs.wait_until(lambda: not jobs.alive(child), timeout=5), f"orphan {child} survived"


def test_queued_jobs_are_not_charged_for_waiting():
    """The deadline counts from the job's start in a worker, not from submit."""
    with WorkerPool(1, name="queue") as p:
        assert p.wait_ready(30)
        futures = [p.submit(jobs.sleep, 0.2, i, deadline=0.6) for i in range(3)]
        results = [f.result() for f in futures]
    assert [r.value for r in results] == [0, 1, 2]
    assert all(r.ok for r in results)


def test_no_deadline_with_inf(pool):
    res = pool.run(jobs.sleep, 0.05, "done", deadline=float("inf"))
    assert res.ok and res.value == "done"


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "1", None])
def test_bad_deadline_is_rejected(pool, bad):
    with pytest.raises(ValueError, match="deadline"):
        pool.submit(jobs.noop, 1, deadline=bad)


def test_huge_sympy_expansion_is_killed():
    pytest.importorskip("sympy")
    with WorkerPool(1, preload=["sympy"], name="sympy") as p:
        assert p.wait_ready(60)
        assert p.run(jobs.sympy_expand, 2, deadline=30).value == 6  # warm: sympy is preloaded
        start = time.monotonic()
        res = p.run(jobs.sympy_expand, 400, deadline=0.5)
        took = time.monotonic() - start
    assert res.verdict is Verdict.TIMEOUT
    assert took <= 0.5 + SLACK
