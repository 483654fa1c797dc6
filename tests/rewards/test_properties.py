"""Hypothesis properties: bounds as documented, monotone in length where the formula is,
never raising on arbitrary text."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from moreward import Sample, Score
from moreward.rewards import (
    Alternating,
    CosineLength,
    DapoOverlong,
    DifficultyBudget,
    KimiLength,
    L1Exact,
    L1Max,
    LinearWarmup,
    NgramRepetition,
    Piecewise,
    ReasoningSteps,
    Scheduled,
    cosine_values,
    dapo_overlong_values,
    l1_max_values,
    ngram_repetition_values,
)

EPS = 1e-9
lengths = st.integers(min_value=0, max_value=60_000)
SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(
    st.lists(lengths, min_size=1, max_size=30),
    st.integers(min_value=1, max_value=30_000),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=5),
)
def test_dapo_bounded_and_monotone(ls, max_tokens, frac, factor):
    buffer = int(frac * max_tokens)
    ls = sorted(ls)
    v = dapo_overlong_values(ls, max_tokens=max_tokens, buffer=buffer, penalty_factor=factor)
    assert all(-factor - EPS <= x <= 0.0 for x in v)
    assert all(b <= a + EPS for a, b in itertools.pairwise(v))  # never rises with length


@SETTINGS
@given(st.lists(st.tuples(lengths, st.booleans(), st.integers(0, 3)), min_size=1, max_size=24))
def test_kimi_bounded_and_monotone_in_group(rows):
    samples = [Sample("x", tokens=n, group=g, meta={"correct": c}) for n, c, g in rows]
    scores = KimiLength().score_batch(samples)
    for (_n, c, _g), s in zip(rows, scores):
        assert -0.5 - EPS <= s.value <= 0.5 + EPS
        if not c:
            assert s.value <= 0.0
    # inside a group, with the same correctness, longer never scores higher
    for (n1, c1, g1), s1 in zip(rows, scores):
        for (n2, c2, g2), s2 in zip(rows, scores):
            if g1 == g2 and c1 == c2 and n1 <= n2:
                assert s2.value <= s1.value + EPS


@SETTINGS
@given(
    st.lists(lengths, min_size=1, max_size=20),
    st.integers(min_value=1, max_value=20_000),
    st.sampled_from(["demystify", "open_r1"]),
    st.booleans(),
)
def test_cosine_bounded_and_monotone(ls, max_tokens, preset, clamp):
    obj = CosineLength(preset=preset, max_tokens=max_tokens, clamp=True)
    ls = sorted(ls)
    right = obj.values(ls, [True] * len(ls))
    wrong = obj.values(ls, [False] * len(ls))
    ex = obj.exceed_value
    for n, r, w in zip(ls, right, wrong):
        exceeded = ex is not None and n + obj.margin >= max_tokens
        if exceeded:
            assert r == ex and w == ex
        else:
            assert obj.min_value_correct - EPS <= r <= obj.max_value_correct + EPS
            assert obj.min_value_wrong - EPS <= w <= obj.max_value_wrong + EPS
    keep = [i for i, n in enumerate(ls) if ex is None or n + obj.margin < max_tokens]
    r = [right[i] for i in keep]
    w = [wrong[i] for i in keep]
    assert all(b <= a + EPS for a, b in itertools.pairwise(r))  # correct: shorter is better
    assert all(b >= a - EPS for a, b in itertools.pairwise(w))  # wrong: longer is better
    if not clamp:  # unclamped values stay inside the same envelope
        v = cosine_values(ls, [True] * len(ls), max_tokens=max_tokens, min_value_correct=0.5, max_value_correct=1.0,
                          min_value_wrong=-1.0, max_value_wrong=-0.5, clamp=False)
        assert all(0.5 - EPS <= x <= 1.0 + EPS for x in v)


@SETTINGS
@given(st.lists(lengths, min_size=1, max_size=20), st.integers(0, 20_000), st.booleans())
def test_l1_bounds_and_monotone(ls, target, correct):
    ls = sorted(ls)
    v = l1_max_values(ls, [target] * len(ls), [correct] * len(ls), alpha=0.001, delta=0.5).tolist()
    assert all(0.0 <= x <= 1.0 for x in v)
    assert all(b <= a + EPS for a, b in itertools.pairwise(v))
    if not correct:
        assert set(v) == {0.0}
    prompt = f"Think for {target} tokens."
    ex = L1Exact().score_batch([Sample("x", tokens=n, prompt=prompt, meta={"correct": correct}) for n in ls])
    assert all(s.value <= 1.0 for s in ex)
    above = [s.value for n, s in zip(ls, ex) if n >= target]
    assert all(b <= a + EPS for a, b in itertools.pairwise(above))  # past the target, longer is worse


@SETTINGS
@given(st.lists(st.tuples(lengths, st.booleans()), min_size=1, max_size=16))
def test_budget_bounded_and_monotone(rows):
    obj = DifficultyBudget(min_tokens=100, max_tokens=4000)
    scores = obj.score_batch([Sample("x", tokens=n, group=0, meta={"correct": c}) for n, c in rows])
    assert all(-1.0 <= s.value <= 0.0 for s in scores)
    pairs = sorted(zip((n for n, _ in rows), (s.value for s in scores)))
    assert all(b <= a + EPS for (_, a), (_, b) in itertools.pairwise(pairs))


@SETTINGS
@given(st.lists(st.lists(st.integers(0, 40), max_size=200), min_size=1, max_size=8), st.integers(1, 6))
def test_repetition_bounded(seqs, n):
    ratio = ngram_repetition_values(seqs, ngram_size=n, penalty=-1.0)
    assert all(-1.0 <= x <= 0.0 for x in ratio)
    dense = ngram_repetition_values(seqs, ngram_size=n, penalty=-0.05, mode="dense")
    assert all(-0.05 * len(s) - EPS <= x <= 0.0 for s, x in zip(seqs, dense))


@SETTINGS
@given(st.integers(-5, 10**7))
def test_schedules_bounded(step):
    s = max(step, 0)
    w = LinearWarmup(1000, start=0.2, end=0.8, delay=50)
    assert 0.2 <= w(s) <= 0.8
    assert w(s) <= w(s + 1)
    a = Alternating()
    assert a(s) in (0.0, 1.0)
    assert sum(a(10 * (s // 10) + k) == 0.0 for k in range(10)) == 8
    p = Piecewise(boundaries=[100, 200], values=[4096, 8192, 16384])
    assert p(s) <= p(s + 1)


ANY_META = st.dictionaries(
    st.sampled_from(["correct", "step", "pass_rate", "completion_ids", "target_tokens", "other"]),
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=5),
              st.lists(st.integers(-3, 10**6), max_size=50)),
    max_size=4,
)
OBJECTIVES = [
    DapoOverlong(max_tokens=50, buffer=10),
    KimiLength(),
    KimiLength(ungrouped="batch"),
    CosineLength(),
    CosineLength(preset="open_r1", max_tokens=20),
    L1Exact(),
    L1Max(),
    DifficultyBudget(),
    NgramRepetition(),
    NgramRepetition(ngram_size=2, mode="dense", unit="words"),
    NgramRepetition(ngram_size=40, fallback="skip"),
    ReasoningSteps(),
    Scheduled({"type": "dapo_overlong", "max_tokens": 30, "buffer": 5}, LinearWarmup(10)),
    Scheduled({"type": "l1_max"}, Piecewise(boundaries=[3], values=[0.4, 0.6]), param="delta"),
]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=300), st.one_of(st.none(), st.text(max_size=60)), st.one_of(st.none(), st.integers(0, 3)),
                  st.one_of(st.none(), st.integers(0, 10**5)), ANY_META),
        min_size=1,
        max_size=6,
    )
)
def test_never_raise_on_arbitrary_text(rows):
    samples = [Sample(c, prompt=p, group=g, tokens=t, meta=m) for c, p, g, t, m in rows]
    for obj in OBJECTIVES:
        scores = obj.score_batch(samples)
        assert len(scores) == len(samples)
        for s in scores:
            assert isinstance(s, Score)
            assert s.value is None or math.isfinite(s.value)
