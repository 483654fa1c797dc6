"""The public surface other modules code against."""

from __future__ import annotations

import inspect

import moreward_rt_jobs as jobs

import moreward.runtime as rt
from moreward.runtime import JobResult, WorkerPool


def test_exports():
    assert set(rt.__all__) >= {"WorkerPool", "JobResult", "get_pool", "shutdown_pools"}
    for name in rt.__all__:
        assert getattr(rt, name) is not None


def test_signatures_match_the_contract():
    sig = inspect.signature(WorkerPool.submit)
    assert sig.parameters["fn"].kind is inspect.Parameter.POSITIONAL_ONLY
    assert sig.parameters["deadline"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["memory_limit"].default is None
    init = inspect.signature(WorkerPool.__init__).parameters
    assert [p for p in init if init[p].kind is inspect.Parameter.KEYWORD_ONLY] == [
        "preload",
        "memory_limit",
        "name",
    ]
    assert [f for f in JobResult.__dataclass_fields__][:5] == ["ok", "value", "verdict", "reason", "elapsed"]


def test_context_manager_and_kwargs(pool):
    assert not pool.closed and pool.workers == 2
    assert pool.run(jobs.sleep, 0, value="kw", deadline=10).value == "kw"
    fut = pool.submit(jobs.add, 1, b=2, deadline=10)
    assert fut.result().value == 3
    assert "WorkerPool(" in repr(pool)
