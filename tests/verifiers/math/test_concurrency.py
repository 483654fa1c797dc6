"""Same results sequentially, from 8 threads at once, from asyncio and inside a Ray-like worker process."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from moreward.core import Sample, Verdict
from moreward.verifiers.math import MathVerifier
from moreward.verifiers.math.verifier import clear_caches

PAIRS = [
    ("\\boxed{\\sqrt{12}}", "2\\sqrt{3}"),
    ("\\boxed{\\sqrt{11}}", "2\\sqrt{3}"),
    ("\\boxed{0.5}", "\\frac12"),
    ("\\boxed{1,000}", "1000"),
    ("\\boxed{3 \\text{ or } 4}", "3"),
    ("\\boxed{(x+1)^2}", "x^2+2x+1"),
    ("\\boxed{(x-1)^2}", "x^2+2x+1"),
    ("\\boxed{[1,2)}", "[1,2)"),
    ("\\boxed{x > 3}", "(3, \\infty)"),
    ("\\boxed{\\begin{pmatrix}1\\\\2\\end{pmatrix}}", "(1, 2)"),
    ("\\boxed{C}", "\\text{(C)}"),
    ("\\boxed{3+4\\mathrm{i}}", "3+4i"),
    ("\\boxed{45^\\circ}", "\\frac{\\pi}{4}"),
    ("\\boxed{y=2x+1}", "2x-y+1=0"),
    ("no answer", "5"),
    ("\\boxed{\\frac{1}{2^{98}}}", "\\frac{1}{2^{99}}"),
    ("\\boxed{5}", "\\frac{1}{"),
    ("\\boxed{2\\pm\\sqrt{3}}", "2+\\sqrt{3}, 2-\\sqrt{3}"),
    ("\\boxed{\\text{monday}}", "\\text{Monday}"),
    ("\\boxed{9999999999^{9999999999}}", "5"),
    ("pi/2", "\\frac{\\pi}{2}"),
    ("\\boxed{\\ln 4}", "2\\ln 2"),
]
SAMPLES = [Sample(c, reference=g) for c, g in PAIRS]


@pytest.fixture(scope="module")
def expected() -> list[Verdict]:
    clear_caches()
    v = MathVerifier(timeout=10.0)
    got = [v.score(s).verdict for s in SAMPLES]
    assert Verdict.PASS in got and Verdict.FAIL in got and Verdict.INVALID in got and Verdict.SKIP in got
    return got


def test_order_does_not_matter(expected: list[Verdict]) -> None:
    v = MathVerifier(timeout=10.0)
    order = list(range(len(SAMPLES)))
    random.Random(7).shuffle(order)
    clear_caches()
    got = {i: v.score(SAMPLES[i]).verdict for i in order}
    assert [got[i] for i in range(len(SAMPLES))] == expected
    clear_caches()
    assert [s.verdict for s in v.score_batch(SAMPLES[::-1])][::-1] == expected


def test_eight_threads(expected: list[Verdict]) -> None:
    v = MathVerifier(timeout=10.0)
    clear_caches()

    def run(seed: int) -> list[Verdict]:
        order = list(range(len(SAMPLES)))
        random.Random(seed).shuffle(order)
        if seed % 2:
            batch = v.score_batch([SAMPLES[i] for i in order])
            got = dict(zip(order, (s.verdict for s in batch)))
        else:
            got = {i: v.score(SAMPLES[i]).verdict for i in order}
        return [got[i] for i in range(len(SAMPLES))]

    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(run, range(8)))
    assert all(r == expected for r in results)


def test_asyncio(expected: list[Verdict]) -> None:
    v = MathVerifier(timeout=10.0)
    clear_caches()

    async def main() -> tuple[list[Verdict], list[Verdict]]:
        one_by_one = await asyncio.gather(*(v.ascore(s) for s in SAMPLES))
        batch = await v.ascore_batch(SAMPLES)
        return [s.verdict for s in one_by_one], [s.verdict for s in batch]

    singles, batch = asyncio.run(main())
    assert singles == expected and batch == expected


# Run with exec() in the child: test modules are not importable by name (importlib mode).
_CHILD = """
from moreward.verifiers.math.verifier import clear_caches
clear_caches()  # a forked child inherits the parent's caches: make it decide for itself
conn.send([s.verdict.value for s in verifier.score_batch(samples)])
conn.send([verifier.score(s).verdict.value for s in samples])
conn.close()
"""


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_inside_a_worker_process(method: str, expected: list[Verdict]) -> None:
    """A Ray-like actor: the verifier is pickled into another process, which starts its own pool."""
    ctx = multiprocessing.get_context(method)
    parent, child = ctx.Pipe(duplex=False)
    with warnings.catch_warnings():  # 3.12+ warns about forking a threaded process: that is the test
        warnings.simplefilter("ignore", DeprecationWarning)
        env = {"conn": child, "verifier": MathVerifier(timeout=10.0), "samples": SAMPLES}
        proc = ctx.Process(target=exec, args=(_CHILD, env))
        proc.start()
    child.close()
    try:
        assert parent.poll(120), "the worker process gave no answer"
        batch = parent.recv()
        assert parent.poll(120)
        singles = parent.recv()
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
    assert batch == [v.value for v in expected]
    assert singles == [v.value for v in expected]
