"""The labelled regression corpus (tests/data/math_corpus.jsonl), one test per case.

Each line is ``{"id", "kind", "gold", "completion", "expected", "note"}`` with
``expected`` one of pass / fail / invalid / skip. The corpus covers every answer kind,
the math-verify / Qwen / lm-eval / verl / PRM800K issue reproductions of
docs ``reference/math_verify.md`` in the right direction, self-corrections, hedges,
empty boxes and long chains of thought.

All cases are scored in one ``score_batch`` (so the worker pool is used as in
training) and each case is then checked on its own.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from moreward.core import Sample, Verdict
from moreward.verifiers.math import MathVerifier

CORPUS = Path(__file__).resolve().parents[2] / "data" / "math_corpus.jsonl"
CASES = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
EXPECTED = {"pass": Verdict.PASS, "fail": Verdict.FAIL, "invalid": Verdict.INVALID, "skip": Verdict.SKIP}


@pytest.fixture(scope="module")
def scored() -> dict[str, object]:
    # A generous deadline: this checks correctness, not speed, and the CI machine may be loaded.
    verifier = MathVerifier(timeout=10.0)
    samples = [Sample(c["completion"], reference=c["gold"]) for c in CASES]
    return dict(zip((c["id"] for c in CASES), verifier.score_batch(samples)))


def test_corpus_shape() -> None:
    assert len(CASES) >= 250
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    kinds = Counter(c["kind"] for c in CASES)
    for kind in (
        "integer",
        "rational",
        "decimal",
        "expression",
        "set",
        "tuple",
        "interval",
        "matrix",
        "equation",
        "pm",
        "percent",
        "degree",
        "unit",
        "currency",
        "thousands",
        "text",
        "choice",
        "complex",
        "extraction",
        "hedge",
        "skip",
        "long_cot",
        "issue",
    ):
        assert kinds[kind] >= 3, kind
    assert all(c["expected"] in EXPECTED and "note" in c for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, object], scored: dict[str, object]) -> None:
    score = scored[case["id"]]
    want = EXPECTED[case["expected"]]  # type: ignore[index]
    assert score.verdict is want, (  # type: ignore[attr-defined]
        f"{case['note']}\n gold={case['gold']!r}\n answer={score.details.get('extracted')!r}"  # type: ignore[attr-defined]
        f"\n got {score.verdict} ({score.reason})"  # type: ignore[attr-defined]
    )
    assert score.value == {Verdict.PASS: 1.0, Verdict.FAIL: 0.0, Verdict.INVALID: 0.0}.get(want)  # type: ignore[attr-defined]


def test_fast_path_never_disagrees_with_the_worker() -> None:
    """Wherever the in-process fast path decides a corpus case, the sympy engine decides the same."""
    from moreward.verifiers.math.compare import compare_texts
    from moreward.verifiers.math.extract import extract_answer, extract_gold
    from moreward.verifiers.math.match import FastEngine, Policy, match
    from moreward.verifiers.math.structure import Bad, answer_hints, parse_answer, parse_gold

    decided = 0
    for case in CASES:
        gold, ext = case["gold"], extract_answer(case["completion"])
        if not isinstance(gold, (str, int)) or ext is None or not ext.text.strip():
            continue
        gold_text = extract_gold(str(gold))
        g = parse_gold(gold_text)
        if isinstance(g, Bad):
            continue
        fast, _ = match(g, parse_answer(ext.text, **answer_hints(g)), FastEngine(), Policy())
        if fast is None:
            continue
        decided += 1
        verdict, rule = compare_texts(gold_text, ext.text)
        assert verdict == ("pass" if fast else "fail"), (case["id"], rule)
    assert decided > 150
