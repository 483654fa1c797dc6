"""Dead workers, failing jobs and memory caps: always a result, never an exception."""

from __future__ import annotations

import moreward_rt_jobs as jobs
import pytest

from moreward.core import Verdict
from moreward.errors import JobTimeout, WorkerCrashed
from moreward.runtime import JobResult, WorkerPool


def _pool_still_works(pool):
    assert [pool.run(jobs.add, i, 10, deadline=10).value for i in range(6)] == list(range(10, 16))


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (jobs.segfault, "worker died with signal SIGSEGV"),
        ((jobs.exit_code, 3), "worker died with exit code 3"),
        (jobs.kill_self, "worker died with signal SIGKILL"),
    ],
    ids=["segfault", "exit3", "sigkill"],
)
def test_dead_worker_gives_error_and_pool_goes_on(pool, job, expected):
    fn, *args = job if isinstance(job, tuple) else (job,)
    res = pool.run(fn, *args, deadline=10)
    assert not res.ok and res.verdict is Verdict.ERROR
    assert expected in res.reason
    _pool_still_works(pool)


def test_exception_in_job_gives_error_with_type(pool):
    res = pool.run(jobs.raise_value, "bad input", deadline=10)
    assert res.verdict is Verdict.ERROR
    assert res.reason == "ValueError: bad input"
    assert "raise_value" in res.traceback
    with pytest.raises(WorkerCrashed, match="ValueError: bad input"):
        res.raise_for_status()
    score = res.to_score()
    assert score.value is None and score.verdict is Verdict.ERROR and score.reason == res.reason


CAP = 128 << 20  # a bare worker maps about 20 MiB


def test_memory_cap_gives_error_and_is_restored(pool):
    assert pool.run(jobs.vm_size, deadline=10).value < CAP // 2
    res = pool.run(jobs.alloc, 8 << 30, deadline=20, memory_limit=CAP)
    assert res.verdict is Verdict.ERROR
    assert "memory" in res.reason.lower()
    assert res.reason.startswith("MemoryError")
    assert pool.run(jobs.alloc, 1 << 20, deadline=20, memory_limit=CAP).value == 1 << 20  # small ones fit
    # the cap was lifted after the job: both workers can now allocate more than it
    big = CAP + (32 << 20)
    assert [r.value for r in pool.map(jobs.alloc, [big, big], deadline=20)] == [big, big]


def test_pool_default_memory_cap():
    with WorkerPool(1, memory_limit=CAP, name="memcap") as p:
        res = p.run(jobs.alloc, 8 << 30, deadline=20)
        assert res.verdict is Verdict.ERROR and "memory" in res.reason.lower()
        assert p.run(jobs.alloc, 1 << 20, deadline=20).value == 1 << 20
        assert p.run(jobs.alloc, 1 << 20, deadline=20, memory_limit=4 * CAP).value == 1 << 20


def test_memory_error_raised_by_job(pool):
    res = pool.run(jobs.raise_memory_error, deadline=10)
    assert res.verdict is Verdict.ERROR and res.reason.startswith("MemoryError")


def test_unpicklable_result_gives_error(pool):
    res = pool.run(jobs.unpicklable_result, deadline=10)
    assert res.verdict is Verdict.ERROR
    assert "could not be pickled" in res.reason and "lock" in res.reason


def test_unpicklable_job_is_a_caller_error(pool):
    with pytest.raises(TypeError, match="picklable"):
        pool.submit(lambda: 1, deadline=1)
    with pytest.raises(TypeError, match="picklable"):
        pool.submit(jobs.noop, jobs.threading.Lock(), deadline=1)


def test_objects_of_job_module_classes_round_trip(pool):
    res = pool.run(jobs.make_point, 1, 2, deadline=10)
    assert res.ok and res.value == jobs.Point(1, 2)
    assert pool.run(jobs.noop, jobs.Point(3, 4), deadline=10).value == jobs.Point(3, 4)


def test_system_exit_in_job_is_an_error_not_a_crash(pool):
    import sys

    res = pool.run(sys.exit, 4, deadline=10)
    assert res.verdict is Verdict.ERROR and res.reason == "SystemExit: 4"


def test_job_result_helpers():
    ok = JobResult.success(True, 0.1)
    assert ok.to_score().passed
    ok.raise_for_status()
    timeout = JobResult.timeout(1.0, 1.0)
    assert timeout.to_score().verdict is Verdict.TIMEOUT and timeout.to_score().value is None
    with pytest.raises(JobTimeout):
        timeout.raise_for_status()
    with pytest.raises(TypeError):
        JobResult.success(3.5, 0.1).to_score()


def test_crash_is_seen_even_if_a_child_keeps_the_socket_open(pool, tmp_path):
    pidfile = tmp_path / "child.pid"
    res = pool.run(jobs.fork_then_exit, str(pidfile), 5, deadline=60)
    assert res.verdict is Verdict.ERROR and "exit code 5" in res.reason
    assert res.elapsed < 5  # told by the fork server, not by the deadline
    child = int(pidfile.read_text())
    assert jobs.wait_until(lambda: not jobs.alive(child), timeout=5), "the job's child survived its worker"
    _pool_still_works(pool)


def test_fork_server_death_fails_running_jobs_and_pool_recovers():
    psutil = pytest.importorskip("psutil")
    import os
    import signal

    with WorkerPool(2, name="zygote-death") as p:
        assert p.wait_ready(30)
        old_workers = p.worker_pids()
        zygote = psutil.Process(old_workers[0]).ppid()
        running = p.submit(jobs.sleep, 30, deadline=60)
        jobs.wait_until(lambda: False, timeout=0.2)
        os.kill(zygote, signal.SIGKILL)
        res = running.result(timeout=20)
        assert res.verdict is Verdict.ERROR and "fork server" in res.reason
        assert p.wait_ready(30)
        assert [p.run(jobs.add, i, 1, deadline=30).value for i in range(4)] == [1, 2, 3, 4]
        new_zygote = psutil.Process(p.worker_pids()[0]).ppid()
        assert new_zygote != zygote
        assert jobs.wait_until(lambda: not any(jobs.alive(w) for w in old_workers), timeout=5), (
            "orphaned workers"
        )
