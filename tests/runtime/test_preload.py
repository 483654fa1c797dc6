"""``add_preload`` reaches every later job: workers forked before it are replaced, never asked
to import the module inside some job's deadline."""

from __future__ import annotations

import moreward_rt_jobs as _jobs

from moreward.runtime import WorkerPool


def test_add_preload_replaces_workers_forked_before():
    with WorkerPool(2) as pool:
        assert pool.wait_ready(30)
        before = set(pool.worker_pids())
        assert not any(r.value for r in pool.map(_jobs.module_loaded, ["colorsys"] * 4, deadline=10))
        pool.add_preload(["colorsys"])
        results = pool.map(_jobs.module_loaded, ["colorsys"] * 8, deadline=10)
        assert all(r.ok and r.value for r in results), results
        assert pool.wait_ready(30)
        assert not before & set(pool.worker_pids())


def test_add_preload_replaces_a_busy_worker_when_its_job_ends():
    with WorkerPool(1) as pool:
        assert pool.wait_ready(30)
        running = pool.submit(_jobs.sleep, 0.5, "done", deadline=10)
        queued = pool.submit(_jobs.module_loaded, "colorsys", deadline=10)
        pool.add_preload(["colorsys"])
        assert running.result(30).value == "done"  # the busy worker finished its job first
        assert queued.result(30).value is True  # and the next job ran on a fresh worker
