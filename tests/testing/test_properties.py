"""check_objective catches each kind of broken objective, with a (shrunk) failing example."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from hypothesis import strategies as st

from moreward import BaseObjective, Sample, Score, Verdict
from moreward.testing import PROPERTIES, CheckReport, ObjectiveCheckError, check_objective

N = 25  # examples per run: enough to find these bugs, small enough to stay fast


class Good(BaseObjective):
    name: ClassVar[str] = "good"

    def score(self, sample: Sample) -> Score:
        return Score(min(1.0, len(sample.completion) / 100), Verdict.PARTIAL)


class RaisesOnX(BaseObjective):
    name: ClassVar[str] = "raises_on_x"

    def score(self, sample: Sample) -> Score:
        if "x" in sample.completion:
            raise KeyError("x")
        return Score(0.0, Verdict.FAIL)


class OutOfBounds(BaseObjective):
    name: ClassVar[str] = "out_of_bounds"

    def score(self, sample: Sample) -> Score:
        return Score(float(len(sample.completion)), Verdict.PARTIAL)


class NaNs(BaseObjective):
    name: ClassVar[str] = "nans"

    def score(self, sample: Sample) -> Score:
        return Score(float("nan") if sample.completion else 0.0, Verdict.PARTIAL)


class Counter(BaseObjective):
    """Nondeterministic: each call scores differently."""

    name: ClassVar[str] = "counter"

    def __init__(self) -> None:
        self._n = itertools.count()

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._n = itertools.count()

    def score(self, sample: Sample) -> Score:
        return Score(float(next(self._n) % 2), Verdict.PARTIAL)


class Unpicklable(Good):
    name: ClassVar[str] = "unpicklable"

    def __init__(self) -> None:
        self.fn = lambda s: s


class ForgetsOptions(BaseObjective):
    """Pickles, but the copy loses its option: it scores differently."""

    name: ClassVar[str] = "forgets"

    def __init__(self, bonus: float = 0.0) -> None:
        self.bonus = bonus

    def __reduce__(self) -> tuple[Any, ...]:
        return (ForgetsOptions, ())

    def score(self, sample: Sample) -> Score:
        return Score(self.bonus, Verdict.PARTIAL)


class SharedBuffer(BaseObjective):
    """Thread-unsafe: score_batch uses one buffer on the instance."""

    name: ClassVar[str] = "shared_buffer"

    def __init__(self) -> None:
        self._buf: list[float] = []

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._buf = []

    def score(self, sample: Sample) -> Score:
        return Score(1.0, Verdict.PASS)

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        self._buf.clear()
        for _ in samples:
            self._buf.append(1.0)
            time.sleep(0.0005)
        return [Score(float(len(self._buf)), Verdict.PARTIAL) for _ in samples]


class Mutates(BaseObjective):
    name: ClassVar[str] = "mutates"

    def score(self, sample: Sample) -> Score:
        if isinstance(sample.reference, list):
            sample.reference.append("seen")
        return Score(0.0, Verdict.FAIL)


class NotAScore(BaseObjective):
    name: ClassVar[str] = "not_a_score"

    def score(self, sample: Sample) -> Score:
        return 1.0  # type: ignore[return-value]


def failed(report: CheckReport) -> set[str]:
    return {r.name for r in report.failures}


def test_a_good_objective_passes_every_property() -> None:
    report = check_objective(Good(), bounds=(0.0, 1.0), max_examples=N)
    assert report.ok and set(report.results) == set(PROPERTIES) and report.examples >= N
    text = str(report)
    assert (
        text.startswith("Good(): ok (") and "ok    threads" in text and "values in [0.0, 1.0] or None" in text
    )


def test_registry_names_and_mappings() -> None:
    assert check_objective("exact_match", bounds=(0, 1), max_examples=10).ok
    assert check_objective({"type": "regex", "pattern": "a+"}, max_examples=10, references=["a", None]).ok


@pytest.mark.parametrize(
    ("objective", "kwargs", "expected", "message"),
    [
        (RaisesOnX(), {}, {"never_raises"}, "score() raised KeyError"),
        (NotAScore(), {}, {"never_raises"}, "score() returned float, not a Score"),
        (OutOfBounds(), {"bounds": (0, 1)}, {"bounds"}, "is outside [0, 1]"),
        (NaNs(), {}, {"bounds"}, "value nan is not finite"),
        (Counter(), {}, {"deterministic"}, "scored 0.0 (partial) then 1.0 (partial)"),
        (Unpicklable(), {}, {"picklable"}, "pickle round trip failed"),
        (
            ForgetsOptions(bonus=0.5),
            {},
            {"picklable"},
            "the unpickled copy scored 0.0 (partial), the original 0.5",
        ),
        (SharedBuffer(), {"threads": 4}, {"threads"}, "from a thread"),
        (Mutates(), {"references": [["a"]]}, {"not_mutated"}, "scoring changed the sample"),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, BaseObjective) else None,
)
def test_each_broken_objective_fails_its_property(
    objective: Any, kwargs: dict, expected: set, message: str
) -> None:
    report = check_objective(objective, max_examples=N, raise_on_failure=False, **kwargs)
    assert failed(report) == expected, str(report)
    if expected == {"deterministic"}:
        assert "--    threads        not checked: scores are not deterministic" in str(report)
    (result,) = report.failures
    assert message in result.message, str(report)
    assert (result.example is None) == ("round trip" in message)
    if isinstance(objective, RaisesOnX):  # shrunk to a small example
        assert "x" in result.example.completion and len(result.example.completion) < 50
    assert f"FAIL  {result.name}" in str(report)
    assert ("example: " in str(report)) == (result.example is not None)


def test_several_failures_are_all_reported() -> None:
    class Both(RaisesOnX):
        name: ClassVar[str] = "both"

        def score(self, sample: Sample) -> Score:
            super().score(sample)
            return Score(-1.0, Verdict.FAIL)

    report = check_objective(Both(), bounds=(0, 1), max_examples=N, raise_on_failure=False)
    assert failed(report) == {"never_raises", "bounds", "picklable"}  # a local class does not pickle


def test_raise_on_failure() -> None:
    with pytest.raises(ObjectiveCheckError) as info:
        check_objective(OutOfBounds(), bounds=(None, 1), max_examples=N)
    assert isinstance(info.value, AssertionError) and not info.value.report.ok
    assert "OutOfBounds(): 1 failed" in str(info.value)


def test_custom_strategies_and_bad_arguments() -> None:
    seen: list[str] = []
    lock = threading.Lock()

    class Records(Good):
        def score(self, sample: Sample) -> Score:
            with lock:
                seen.append(sample.completion)
            return super().score(sample)

    check_objective(
        Records(), completions=st.sampled_from(["only this"]), max_examples=5, raise_on_failure=False
    )
    assert set(seen) == {"only this"}
    with pytest.raises(ValueError, match="bounds"):
        check_objective(Good(), bounds=(2, 1))
    with pytest.raises(ValueError, match=">= 1"):
        check_objective(Good(), threads=0)
