"""Property checks of an objective, fuzzed with hypothesis: :func:`check_objective`.

The properties (names as in :data:`PROPERTIES`):

- ``never_raises``: ``score()`` and ``score_batch()`` return :class:`~moreward.core.Score`
  objects and never raise, whatever the text.
- ``bounds``: every value is ``None`` or within the documented bounds (default: finite).
- ``deterministic``: a second call gives the same value and verdict.
- ``picklable``: the objective survives ``pickle`` and the copy scores the same.
- ``threads``: ``score_batch`` run from several threads at once gives the serial result.
- ``not_mutated``: the samples (reference, meta) and the batch list are left unchanged.

Two scores are "the same" when verdict and value agree (NaN equals NaN); a
``TIMEOUT`` on either side is inconclusive (a loaded machine is not a bug). Reasons
and details are not compared: they may hold timings.
"""

from __future__ import annotations

import math
import pickle
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ..core import Sample, Score, Verdict
from ..errors import missing_extra
from ._outcome import short

__all__ = [
    "PROPERTIES",
    "CheckReport",
    "ObjectiveCheckError",
    "PropertyResult",
    "check_objective",
]

PROPERTIES: tuple[str, ...] = (
    "never_raises",
    "bounds",
    "deterministic",
    "picklable",
    "threads",
    "not_mutated",
)

Bounds = tuple[float | None, float | None]


class ObjectiveCheckError(AssertionError):
    """An objective failed a property check; the message is the :class:`CheckReport`."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass
class PropertyResult:
    """The outcome of one property: ``ok``, what was checked or what failed, and a failing example."""

    name: str
    ok: bool = True
    message: str = ""
    example: Sample | list[Sample] | None = None
    checked: bool = True

    def lines(self) -> list[str]:
        """The result as report lines."""
        mark = ("ok  " if self.checked else "--  ") if self.ok else "FAIL"
        out = [f"  {mark}  {self.name:<14} {self.message}"]
        if not self.ok and self.example is not None:
            out.append(f"        example: {short(self.example, 400)}")
        return out


@dataclass
class CheckReport:
    """The results of :func:`check_objective` on one objective."""

    objective: str
    results: dict[str, PropertyResult] = field(default_factory=dict)
    examples: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every property holds."""
        return all(r.ok for r in self.results.values())

    @property
    def failures(self) -> list[PropertyResult]:
        """The properties that failed."""
        return [r for r in self.results.values() if not r.ok]

    def __str__(self) -> str:
        head = f"{self.objective}: {'ok' if self.ok else f'{len(self.failures)} failed'}"
        head += f" ({self.examples} examples, {self.elapsed:.1f}s)"
        lines = [head]
        for r in self.results.values():
            lines += r.lines()
        return "\n".join(lines)


class _Failed(Exception):
    def __init__(self, prop: str, message: str, example: Any) -> None:
        super().__init__(f"{prop}: {message}")
        self.prop, self.message, self.example = prop, message, example


def _same(a: Score, b: Score) -> bool:
    if a.verdict is Verdict.TIMEOUT or b.verdict is Verdict.TIMEOUT:
        return True
    if a.verdict is not b.verdict:
        return False
    if a.value is None or b.value is None:
        return a.value is b.value
    if math.isnan(a.value) or math.isnan(b.value):
        return math.isnan(a.value) and math.isnan(b.value)
    return a.value == b.value or math.isclose(a.value, b.value, rel_tol=1e-12, abs_tol=1e-12)


def _desc(s: Score) -> str:
    return f"{s.value!r} ({s.verdict.value})"


def _snapshot(sample: Sample) -> str:
    return repr(
        (sample.completion, sample.reference, sample.prompt, sample.group, sample.tokens, dict(sample.meta))
    )


class _Checker:
    """Runs the checks on one sample or one batch, raising :class:`_Failed` for the first active property that fails."""

    def __init__(self, obj: Any, clone: Any, bounds: Bounds | None, threads: int, active: set[str]) -> None:
        self.obj, self.clone, self.bounds, self.threads, self.active = obj, clone, bounds, threads, active
        self.count = 0

    def fail(self, prop: str, message: str, example: Any) -> None:
        if prop in self.active:
            raise _Failed(prop, message, example)

    def call(self, fn: Any, sample: Sample, what: str) -> Score | None:
        try:
            s = fn(sample)
        except Exception as exc:
            self.fail("never_raises", f"{what} raised {type(exc).__name__}: {short(str(exc), 200)}", sample)
            return None
        if not isinstance(s, Score):
            self.fail("never_raises", f"{what} returned {type(s).__name__}, not a Score", sample)
            return None
        return s

    def check_bounds(self, s: Score, example: Any) -> None:
        v = s.value
        if v is None:
            return
        if not math.isfinite(v):
            self.fail("bounds", f"value {v!r} is not finite (verdict {s.verdict.value})", example)
            return
        if self.bounds is not None:
            lo, hi = self.bounds
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                self.fail(
                    "bounds",
                    f"value {v!r} is outside {list(self.bounds)} (verdict {s.verdict.value})",
                    example,
                )

    def sample(self, sample: Sample) -> None:
        self.count += 1
        before = _snapshot(sample)
        first = self.call(self.obj.score, sample, "score()")
        if first is None:
            return
        self.check_bounds(first, sample)
        if "deterministic" in self.active:
            second = self.call(self.obj.score, sample, "score()")
            if second is not None and not _same(first, second):
                self.fail("deterministic", f"scored {_desc(first)} then {_desc(second)}", sample)
        if self.clone is not None and "picklable" in self.active:
            copy = self.call(self.clone.score, sample, "the unpickled copy's score()")
            if copy is not None and not _same(first, copy):
                self.fail(
                    "picklable",
                    f"the unpickled copy scored {_desc(copy)}, the original {_desc(first)}",
                    sample,
                )
        if _snapshot(sample) != before:
            self.fail("not_mutated", f"scoring changed the sample: was {short(before, 200)}", sample)

    def batch(self, batch: list[Sample], pool: ThreadPoolExecutor) -> None:
        self.count += len(batch)
        ids = [id(s) for s in batch]
        snaps = [_snapshot(s) for s in batch]
        try:
            serial = list(self.obj.score_batch(batch))
        except Exception as exc:
            self.fail(
                "never_raises", f"score_batch() raised {type(exc).__name__}: {short(str(exc), 200)}", batch
            )
            return
        if len(serial) != len(batch) or not all(isinstance(s, Score) for s in serial):
            self.fail(
                "never_raises", f"score_batch() returned {short(serial, 120)} for {len(batch)} samples", batch
            )
            return
        for s in serial:
            self.check_bounds(s, batch)
        if "threads" in self.active:
            barrier = threading.Barrier(self.threads)

            def run() -> list[Score]:
                barrier.wait(timeout=30)
                return list(self.obj.score_batch(batch))

            futures = [pool.submit(run) for _ in range(self.threads)]
            for fut in futures:
                try:
                    got = fut.result()
                except Exception as exc:
                    self.fail(
                        "threads", f"score_batch() raised {type(exc).__name__} in a thread: {exc}", batch
                    )
                    continue
                if len(got) != len(serial):
                    self.fail(
                        "threads",
                        f"score_batch() returned {len(got)} scores in a thread, {len(serial)} serially",
                        batch,
                    )
                    continue
                bad = [i for i, (a, b) in enumerate(zip(serial, got)) if not _same(a, b)]
                if bad:
                    i = bad[0]
                    self.fail(
                        "threads",
                        f"sample {i}: serial {_desc(serial[i])}, from a thread {_desc(got[i])}",
                        batch,
                    )
        if [id(s) for s in batch] != ids or [_snapshot(s) for s in batch] != snaps:
            self.fail("not_mutated", "score_batch() changed the batch list or its samples", batch)


def _hypothesis() -> Any:
    try:
        import hypothesis
    except ImportError as exc:  # pragma: no cover - hypothesis is in the dev extra
        raise missing_extra("hypothesis", "dev") from exc
    return hypothesis


def _run(test: Any, strategy: Any, *, max_examples: int, seed: int | None) -> _Failed | None:
    """Run ``test`` under hypothesis; the (shrunk) failure, or ``None`` when every example passed."""
    hyp = _hypothesis()
    from hypothesis import HealthCheck, Phase, Verbosity

    settings = hyp.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    wrapped = settings(hyp.given(strategy)(test))
    if seed is not None:
        wrapped = hyp.seed(seed)(wrapped)
    try:
        wrapped()
    except _Failed as exc:
        return exc
    except Exception as exc:  # hypothesis' Flaky* wrap a failure it could not reproduce
        found = _find_failed(exc)
        if found is not None:
            return found
        raise
    return None


def _find_failed(exc: BaseException) -> _Failed | None:
    if isinstance(exc, _Failed):
        return exc
    for sub in getattr(exc, "exceptions", ()) or ():
        found = _find_failed(sub)
        if found is not None:
            return found
    for sub in (exc.__cause__, exc.__context__):
        if sub is not None and sub is not exc:
            found = _find_failed(sub)
            if found is not None:
                return found
    return None


def check_objective(
    objective: Any,
    /,
    *,
    bounds: Bounds | None = None,
    completions: Any = None,
    references: Any = None,
    max_examples: int = 100,
    threads: int = 4,
    seed: int | None = 0,
    raise_on_failure: bool = True,
) -> CheckReport:
    """Fuzz an objective with hypothesis and check the properties in :data:`PROPERTIES`.

    Args:
        objective: an objective, a registry name or ``{"type": name, **options}``.
        bounds: ``(lo, hi)`` the values must lie in (either side ``None`` for open);
            by default values must be finite. ``None`` values are always allowed.
        completions: a hypothesis strategy of completion texts
            (default :func:`~moreward.testing.strategies.arbitrary_text`).
        references: a strategy of references, or a list of references to pick from
            (default :func:`~moreward.testing.strategies.references`).
        max_examples: examples per property run (the thread check runs a tenth of them, in batches).
        threads: how many threads score one batch at once.
        seed: hypothesis seed, for reproducible runs (``None``: random).
        raise_on_failure: raise :class:`ObjectiveCheckError` when a property fails.

    Returns:
        A :class:`CheckReport`; ``str(report)`` is printable, ``report.ok`` the verdict.

    Raises:
        ObjectiveCheckError: a property failed and ``raise_on_failure``; it carries the report.
        MissingExtraError: hypothesis is not installed.
    """
    _hypothesis()
    from hypothesis import strategies as st

    from . import strategies as mst
    from .assertions import resolve_objective

    if bounds is not None and (len(bounds) != 2 or (None not in bounds and bounds[0] > bounds[1])):  # type: ignore[operator]
        raise ValueError(f"bounds must be (lo, hi) with lo <= hi, got {bounds!r}")
    if threads < 1 or max_examples < 1:
        raise ValueError("threads and max_examples must be >= 1")
    obj, label = resolve_objective(objective)
    start = time.perf_counter()
    report = CheckReport(label)
    results = {name: PropertyResult(name) for name in PROPERTIES}
    report.results = results

    clone = None
    try:
        clone = pickle.loads(pickle.dumps(obj))
    except Exception as exc:
        results["picklable"] = PropertyResult(
            "picklable", False, f"pickle round trip failed: {type(exc).__name__}: {exc}"
        )
    if isinstance(references, Sequence) and not isinstance(references, str):
        references = st.sampled_from(list(references))
    strategy = mst.samples(completions, references)

    active = {p for p in PROPERTIES if results[p].ok}
    checker = _Checker(obj, clone, bounds, threads, active)
    per_sample = {"never_raises", "bounds", "deterministic", "picklable", "not_mutated"}

    def one(sample: Sample) -> None:
        checker.sample(sample)

    while active & per_sample:
        failed = _run(one, strategy, max_examples=max_examples, seed=seed)
        if failed is None:
            break
        results[failed.prop] = PropertyResult(failed.prop, False, failed.message, failed.example)
        active.discard(failed.prop)
    if not results["deterministic"].ok:  # thread results cannot be compared to anything
        results["threads"] = PropertyResult(
            "threads", True, "not checked: scores are not deterministic", checked=False
        )
        active.discard("threads")
    batches = st.lists(strategy, min_size=2, max_size=6)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="moreward-check") as pool:

        def many(batch: list[Sample]) -> None:
            checker.batch(batch, pool)

        while active:
            failed = _run(many, batches, max_examples=max(3, max_examples // 10), seed=seed)
            if failed is None:
                break
            results[failed.prop] = PropertyResult(failed.prop, False, failed.message, failed.example)
            active.discard(failed.prop)
    _describe_passes(results, bounds, threads)
    report.examples = checker.count
    report.elapsed = time.perf_counter() - start
    if raise_on_failure and not report.ok:
        raise ObjectiveCheckError(report)
    return report


def _describe_passes(results: Mapping[str, PropertyResult], bounds: Bounds | None, threads: int) -> None:
    lo, hi = bounds if bounds is not None else (None, None)
    texts = {
        "never_raises": "score() and score_batch() always returned Scores",
        "bounds": f"values in [{lo}, {hi}] or None" if bounds is not None else "values finite or None",
        "deterministic": "a second call gave the same value and verdict",
        "picklable": "the unpickled copy scored the same",
        "threads": f"score_batch() from {threads} threads matched the serial result",
        "not_mutated": "samples and batches unchanged",
    }
    for name, r in results.items():
        if r.ok and r.checked:
            r.message = texts[name]
