"""N-gram repetition penalty and reasoning-step count, by hand and against a plain-Python reference."""

from __future__ import annotations

import random

import pytest

from moreward import ConfigError, Sample, Verdict
from moreward.rewards import (
    NgramRepetition,
    ReasoningSteps,
    count_reasoning_steps,
    ngram_repetition_values,
    ngram_stats,
)


def reference_ratio(ids, n, penalty=-1.0):
    """TRL's / open-r1's formula, written out: (1 - unique / total) * penalty; 0 below n."""
    if len(ids) < n:
        return 0.0
    grams = list(zip(*[ids[i:] for i in range(n)]))
    scaling = 1 - len(set(grams)) / len(grams)
    return scaling * penalty if scaling else 0.0


def reference_dense(ids, n, penalty):
    """Demystify's dense penalty summed: `penalty` on every position of a repeated n-gram occurrence."""
    seen, marked = set(), set()
    for start in range(len(ids) - n + 1):
        g = tuple(ids[start : start + n])
        if g in seen:
            marked.update(range(start, start + n))
        seen.add(g)
    return penalty * len(marked)


def ids_sample(ids, **kw):
    return Sample("ignored", meta={"completion_ids": ids}, **kw)


def test_ratio_by_hand():
    obj = NgramRepetition(ngram_size=2)
    assert obj.score(ids_sample([1, 2, 3, 4])).value == 0.0
    s = obj.score(ids_sample([5, 5, 5, 5, 5]))  # 4 bigrams, 1 distinct: (1 - 1/4) * -1
    assert s.value == -0.75 and s.verdict is Verdict.PARTIAL
    assert s.details == {"length": 5, "source": "tokens", "ngrams": 4, "unique_ngrams": 1}
    assert obj.score(ids_sample([7])).value == 0.0  # fewer than n
    empty = obj.score(ids_sample([]))
    assert empty.value == 0.0 and empty.verdict is Verdict.PASS
    exact_n = obj.score(ids_sample([3, 3]))  # exactly n tokens: one bigram, nothing repeats
    assert exact_n.value == 0.0 and exact_n.details["ngrams"] == 1
    assert NgramRepetition(ngram_size=2, penalty=-0.5).score(ids_sample([5, 5, 5, 5, 5])).value == -0.375


def test_words_by_hand():
    words = NgramRepetition(ngram_size=2, unit="words")
    s = words.score(Sample("The cat the cat"))  # (the,cat) (cat,the) (the,cat): 1 - 2/3
    assert s.value == pytest.approx(-1 / 3) and s.details["source"] == "whitespace"
    assert NgramRepetition(ngram_size=2, unit="words", lowercase=False).score(Sample("The cat the cat")).value == 0.0
    assert words.score(Sample("")).value == 0.0
    assert words.score(Sample("one")).value == 0.0
    # unit="token_ids" with no ids and no tokenizer falls back to words, and says so
    fallback = NgramRepetition(ngram_size=2).score(Sample("a b a b"))
    assert fallback.details["source"] == "whitespace" and fallback.value == pytest.approx(-1 / 3)
    skip = NgramRepetition(ngram_size=2, fallback="skip").score(Sample("a b a b"))
    assert skip.value is None and skip.verdict is Verdict.SKIP


def test_dense_by_hand():
    # bigrams at 0 (1,2), 1 (2,1), 2 (1,2) repeat -> {2,3}, 3 (2,1) repeat -> {3,4}: 3 positions
    obj = NgramRepetition(ngram_size=2, mode="dense")
    s = obj.score(ids_sample([1, 2, 1, 2, 1]))
    assert obj.penalty == -0.05
    assert s.value == pytest.approx(-0.15) and s.details["repeated_tokens"] == 3
    assert obj.score(ids_sample([1, 2, 3])).value == 0.0
    assert ngram_stats([5, 5, 5, 5, 5], 2, dense=True).repeated_tokens == 4


def test_matches_reference_on_random_sequences():
    rng = random.Random(0)
    for n in (1, 2, 3, 5, 40):
        for vocab in (3, 50, 150_000):
            for _ in range(5):
                ids = [rng.randrange(vocab) for _ in range(rng.randrange(0, 400))]
                if rng.random() < 0.5 and len(ids) > 50:  # splice in a long repeat
                    ids = ids + ids[10:50]
                assert ngram_repetition_values([ids], ngram_size=n)[0] == reference_ratio(ids, n)
                dense = ngram_repetition_values([ids], ngram_size=n, penalty=-0.05, mode="dense")[0]
                assert dense == pytest.approx(reference_dense(ids, n, -0.05))


def test_negative_and_numpy_ids():
    np = pytest.importorskip("numpy")
    assert ngram_repetition_values([[-1, -1, -1]], ngram_size=2) == [-0.5]
    assert ngram_repetition_values([np.array([9, 9, 9], dtype=np.int32)], ngram_size=2) == [-0.5]
    assert NgramRepetition(ngram_size=2).score(ids_sample(np.array([4, 4, 4]))).value == -0.5


def test_repetition_config_errors():
    with pytest.raises(ConfigError, match="penalty must be <= 0"):
        NgramRepetition(penalty=0.5)
    with pytest.raises(ConfigError, match="ngram_size must be >= 1"):
        NgramRepetition(ngram_size=0)
    with pytest.raises(ConfigError, match="allowed: ratio, dense"):
        NgramRepetition(mode="sum")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="allowed: token_ids, words"):
        NgramRepetition(unit="chars")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text,steps,value,verdict",
    [
        ("", 0, 0.0, Verdict.FAIL),
        ("Just the answer.", 0, 0.0, Verdict.FAIL),
        ("Step 1: add.\nStep 2: carry.", 2, 2 / 3, Verdict.PARTIAL),
        ("1. add\n2. carry\n3. check", 3, 1.0, Verdict.PASS),  # line-start numbers, every line
        ("First, add. Next, carry. Finally, check. Second, no.", 4, 1.0, Verdict.PASS),
        ("Plan:\n- a\n* b", 2, 2 / 3, Verdict.PARTIAL),
    ],
)
def test_reasoning_steps_by_hand(text, steps, value, verdict):
    s = ReasoningSteps().score(Sample(text))
    assert s.details["steps"] == steps and s.value == pytest.approx(value) and s.verdict is verdict
    assert count_reasoning_steps(text) == steps


def test_reasoning_steps_options():
    assert ReasoningSteps(target_steps=1).score(Sample("Step 1: go")).value == 1.0
    assert ReasoningSteps(pattern=r"^>").score(Sample("> a\n> b\n> c")).value == 1.0
    with pytest.raises(ConfigError, match="does not compile"):
        ReasoningSteps(pattern="(")
