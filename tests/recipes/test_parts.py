"""The ``affine`` and ``column`` objectives that the recipes add."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from moreward import ConfigError, Sample, Score, Verdict, registry
from moreward.core import BaseObjective
from moreward.recipes.parts import Affine, Column


class _Fixed(BaseObjective):
    name = "fixed"

    def __init__(self, scores: list[Score]) -> None:
        self.scores = scores

    def score_batch(self, samples):  # type: ignore[no-untyped-def]
        return self.scores[: len(samples)]


def test_affine_rescales_and_keeps_verdicts():
    acc = registry.get("affine", objective={"type": "exact_match"}, scale=2.0, shift=-1.0)
    assert isinstance(acc, Affine)
    a, b = acc.score_batch([Sample("4", reference="4"), Sample("5", reference="4")])
    assert (a.value, a.verdict, a.details["inner_value"]) == (1.0, Verdict.PASS, 1.0)
    assert (b.value, b.verdict) == (-1.0, Verdict.FAIL)
    neg = Affine({"type": "exact_match"}, scale=-1.0, shift=1.0)
    assert [neg.score(Sample(c, reference="4")).value for c in ("4", "5")] == [0.0, 1.0]


def test_affine_never_turns_a_missing_value_into_the_shift():
    inner = _Fixed([Score.timeout(), Score.error("boom"), Score.skip("no ref")])
    out = Affine(inner, scale=2.0, shift=-1.0).score_batch([Sample("x")] * 3)
    assert [s.value for s in out] == [None, None, None]
    assert [s.verdict for s in out] == [Verdict.TIMEOUT, Verdict.ERROR, Verdict.SKIP]


def test_affine_contains_a_broken_inner_objective():
    short = Affine(_Fixed([Score.from_bool(True)])).score_batch([Sample("x"), Sample("y")])
    assert [s.verdict for s in short] == [Verdict.ERROR, Verdict.ERROR]

    class _Raises(BaseObjective):
        def score_batch(self, samples):  # type: ignore[no-untyped-def]
            raise RuntimeError("down")

    out = Affine(_Raises()).score_batch([Sample("x")])
    assert out[0].verdict is Verdict.ERROR and "down" in out[0].reason


def test_affine_async_and_pickle():
    acc = Affine({"type": "exact_match"}, scale=2.0, shift=-1.0)
    out = asyncio.run(acc.ascore_batch([Sample("4", reference="4"), Sample("5", reference="4")]))
    assert [s.value for s in out] == [1.0, -1.0]
    again = pickle.loads(pickle.dumps(acc))
    assert again == acc and again.score(Sample("4", reference="4")).value == 1.0


def test_affine_options_are_checked():
    with pytest.raises(ConfigError, match="scale"):
        Affine({"type": "exact_match"}, scale="2")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'type'"):
        Affine({"kind": "exact_match"})
    with pytest.raises(ConfigError, match="unknown option"):
        registry.get("affine", objective={"type": "exact_match"}, offset=1)


def test_column_reads_the_trainer_column():
    col = registry.get("column", key="vis")
    assert isinstance(col, Column)
    assert col.score(Sample("", meta={"vis": 0.25})).value == 0.25
    assert col.score(Sample("", meta={"vis": True})).value == 1.0
    missing = col.score(Sample(""))
    assert missing.value is None and missing.verdict is Verdict.SKIP and "vis" in missing.reason
    assert col.score(Sample("", meta={"vis": "high"})).verdict is Verdict.SKIP
    assert col.score(Sample("", meta={"vis": float("nan")})).verdict is Verdict.SKIP
    assert Column(key="vis", default=0.0).score(Sample("")).value == 0.0
    with pytest.raises(ConfigError, match="key"):
        Column(key="")
    assert pickle.loads(pickle.dumps(col)) == col


@pytest.mark.parametrize("module", ["moreward.recipes", "moreward.recipes.parts"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0
