"""The MathVerifier objective: API, verdicts and values, details, options, caching."""

from __future__ import annotations

import asyncio
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest

from moreward import registry
from moreward.core import BaseObjective, Objective, Sample, Verdict
from moreward.errors import ConfigError
from moreward.verifiers.math import MathVerifier, compare_answers
from moreward.verifiers.math.verifier import clear_caches


def test_registry_and_protocol() -> None:
    v = registry.get("math", timeout=2.0)
    assert isinstance(v, MathVerifier) and isinstance(v, BaseObjective) and isinstance(v, Objective)
    assert v.name == "math" == v.__name__ and v.timeout == 2.0
    with pytest.raises(ConfigError, match="unknown option"):
        registry.get("math", deadline=1)
    with pytest.raises(ConfigError):
        registry.get("math", timeout=0)


def test_pickle_round_trip() -> None:
    v = MathVerifier(timeout=3.0, approx_irrational=True)
    v.score(Sample("\\boxed{\\sqrt{8}}", reference="2\\sqrt{2}"))  # the pool exists now
    w = pickle.loads(pickle.dumps(v))
    assert w == v and w is not v and w.approx_irrational
    assert w.score(Sample("\\boxed{\\sqrt{8}}", reference="2\\sqrt{2}")).passed


@pytest.mark.parametrize(
    "completion,reference,verdict,value",
    [
        ("\\boxed{2}", "2", Verdict.PASS, 1.0),
        ("\\boxed{3}", "2", Verdict.FAIL, 0.0),
        ("no answer here", "2", Verdict.INVALID, 0.0),
        ("\\boxed{}", "2", Verdict.INVALID, 0.0),
        ("\\boxed{2}", "\\frac{1}{", Verdict.SKIP, None),
        ("\\boxed{2}", None, Verdict.SKIP, None),
        ("\\boxed{2}", float("nan"), Verdict.SKIP, None),
        ("\\boxed{2}", {"a": 1}, Verdict.SKIP, None),
        ("\\boxed{2}", True, Verdict.SKIP, None),
    ],
)
def test_verdicts_and_values(
    completion: str, reference: object, verdict: Verdict, value: float | None
) -> None:
    s = MathVerifier().score(Sample(completion, reference=reference))
    assert (s.verdict, s.value) == (verdict, value), s.reason


@pytest.mark.parametrize(
    "reference",
    [2, 2.0, Fraction(2), Decimal("2.0"), "2", "$2$", "The answer is $\\boxed{2}$.", ["7", "2"], ("2",)],
)
def test_reference_types(reference: object) -> None:
    assert MathVerifier().score(Sample("so \\boxed{2}", reference=reference)).passed


def test_details_say_what_was_extracted_and_which_rule_decided() -> None:
    clear_caches()
    s = MathVerifier().score(Sample("Thus $\\boxed{\\sqrt{8}}$.", reference="2\\sqrt{2}"))
    assert s.passed
    assert s.details["extracted"] == "\\sqrt{8}" and s.details["extraction"] == "boxed"
    assert s.details["gold"] == "2\\sqrt{2}" and s.details["decided_by"] and s.details["path"] == "worker"
    fast = MathVerifier().score(Sample("Answer: 0.5", reference="\\frac{1}{2}"))
    assert fast.details["path"] == "fast" and fast.details["decided_by"] == "exact rational"
    hedged = MathVerifier().score(Sample("\\boxed{3 \\text{ or } 4}", reference="3"))
    assert hedged.verdict is Verdict.FAIL and "hedged" in hedged.reason
    assert s.to_dict(with_details=True)["details"]["extracted"] == "\\sqrt{8}"
    again = MathVerifier().score(Sample("Thus $\\boxed{\\sqrt{8}}$.", reference="2\\sqrt{2}"))
    assert again.passed and again.details["path"] == "cache"


def test_options() -> None:
    gold, interval = "(3, \\infty)", Sample("\\boxed{x > 3}", reference="(3, \\infty)")
    assert MathVerifier().score(interval).passed
    assert MathVerifier(inequality_as_interval=False).score(interval).verdict is Verdict.FAIL
    root2 = Sample("\\boxed{1.4142}", reference="\\sqrt{2}")
    assert MathVerifier().score(root2).verdict is Verdict.FAIL
    assert MathVerifier(approx_irrational=True).score(root2).passed
    other_var = Sample("\\boxed{y = 3}", reference="x = 3")
    assert MathVerifier().score(other_var).verdict is Verdict.FAIL
    assert MathVerifier(strict_variables=False).score(other_var).passed
    del gold


def test_fast_path_and_workers_agree() -> None:
    """Turning the fast path off sends everything to the workers: same verdicts."""
    cases = [
        ("\\boxed{0.5}", "\\frac12"),
        ("\\boxed{1,000}", "1000"),
        ("\\boxed{3 or 4}", "3"),
        ("\\boxed{(2,1)}", "(1,2)"),
        ("\\boxed{[1,2)}", "[1,2]"),
        ("\\boxed{C}", "\\text{(C)}"),
        ("\\boxed{monday}", "\\text{Monday}"),
        ("\\boxed{9\\%}", "9"),
        ("\\boxed{0.09}", "9"),
        ("\\boxed{0.333}", "\\frac{1}{3}"),
        ("\\boxed{x=3}", "3"),
        ("\\boxed{\\frac{1}{2^{98}}}", "\\frac{1}{2^{99}}"),
        ("\\boxed{2\\sqrt{3}}", "\\sqrt{11}"),
    ]
    samples = [Sample(c, reference=g) for c, g in cases]
    clear_caches()
    fast = [s.verdict for s in MathVerifier().score_batch(samples)]
    clear_caches()
    slow = MathVerifier(fast_path=False).score_batch(samples)
    assert fast == [s.verdict for s in slow]
    assert all(s.details.get("path") == "worker" for s in slow)


def test_score_batch_dedupes_and_matches_score() -> None:
    samples = [Sample("\\boxed{\\sqrt{12}}", reference="2\\sqrt{3}")] * 20 + [
        Sample("\\boxed{7}", reference="7")
    ]
    v = MathVerifier()
    batch = v.score_batch(samples)
    assert [s.verdict for s in batch] == [v.score(s).verdict for s in samples]
    assert v(samples[0]).passed and len(v(samples)) == 21  # type: ignore[arg-type]


def test_async() -> None:
    v = MathVerifier()
    samples = [Sample("\\boxed{\\sqrt{12}}", reference="2\\sqrt{3}"), Sample("\\boxed{5}", reference="4")]

    async def main() -> tuple[object, object]:
        return await v.ascore_batch(samples), await v.ascore(samples[0])

    batch, one = asyncio.run(main())
    assert [s.verdict for s in batch] == [Verdict.PASS, Verdict.FAIL]  # type: ignore[attr-defined]
    assert one.passed  # type: ignore[attr-defined]


def test_compare_answers_in_process() -> None:
    assert compare_answers("\\frac{1}{\\sqrt{n}}", "\\sqrt{1/n}")[0] == "pass"
    assert compare_answers("\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}")[0] == "fail"
    assert compare_answers("\\frac{1}{", "1")[0] == "skip"


def test_raise_on_error_reraises_worker_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    from moreward.verifiers.math import verifier as mod

    def broken(self: object, sample: Sample, index: int = 0) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(mod.MathVerifier, "_prepare", broken)
    s = MathVerifier().score(Sample("\\boxed{1}", reference="1"))
    assert s.verdict is Verdict.ERROR and s.value is None and "boom" in s.reason
    with pytest.raises(RuntimeError, match="boom"):
        MathVerifier(raise_on_error=True).score(Sample("\\boxed{1}", reference="1"))
