"""Reading tests from many threads at once, as ``CodeVerifier.score_batch`` does.

CPython (up to 3.12) counts the depth of its AST-object builder per interpreter, so
two threads inside ``ast.parse`` at once can corrupt each other's count and raise
``SystemError: AST constructor recursion depth mismatch``. It struck this suite in CI
once. The race needs a thread switch inside the builder; a GC callback that sleeps
forces one at every collection, and a low GC threshold makes collections frequent.
"""

from __future__ import annotations

import gc
import threading
import time

import pytest

from moreward.core import Sample, Verdict
from moreward.verifiers.code import CodeVerifier, parse_tests

_CHECK = "def check(candidate):\n" + "".join(
    f"    assert candidate({'(' * 15}{i}{')' * 15}) == {i} + 1\n" for i in range(40)
)


@pytest.fixture
def thread_switches_inside_collections():
    def yield_gil(phase: str, info: dict) -> None:
        time.sleep(0)

    threshold = gc.get_threshold()
    gc.callbacks.append(yield_gil)
    gc.set_threshold(50)
    try:
        yield
    finally:
        gc.callbacks.remove(yield_gil)
        gc.set_threshold(*threshold)


def _at_depth(depth: int, fn, *args):
    # Threads at different stack depths: the corrupted counter then shows as a mismatch.
    return _at_depth(depth - 1, fn, *args) if depth else fn(*args)


def test_parse_tests_from_many_threads(thread_switches_inside_collections):
    reference = {"test": _CHECK, "entry_point": "inc"}
    errors: list[BaseException] = []

    def work(depth: int) -> None:
        for _ in range(150):
            try:
                _at_depth(depth, parse_tests, reference)
            except BaseException as exc:  # any error at all is the failure
                errors.append(exc)

    threads = [threading.Thread(target=work, args=(3 * i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


def test_score_batch_reads_suites_in_threads_without_error(thread_switches_inside_collections):
    verifier = CodeVerifier(time_limit=3.0)
    reference = {"test": _CHECK, "entry_point": "inc"}
    good = Sample("```python\ndef inc(x):\n    return x + 1\n```", reference=reference)
    bad = Sample("```python\ndef inc(x):\n    return x\n```", reference=reference)
    scores = verifier.score_batch([good, bad] * 8)
    assert [s.verdict for s in scores] == [Verdict.PASS, Verdict.FAIL] * 8, [s.reason for s in scores]
