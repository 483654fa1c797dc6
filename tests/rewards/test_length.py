"""Length rewards checked against values worked out by hand from each paper's formula."""

from __future__ import annotations

import math

import pytest

from moreward import ConfigError, Sample, Verdict
from moreward.rewards import (
    CosineLength,
    DapoOverlong,
    DifficultyBudget,
    KimiLength,
    L1Exact,
    L1Max,
    cosine_values,
    dapo_overlong_values,
    kimi_length_values,
    parse_target_tokens,
)


def tok(n: int, **meta) -> Sample:
    return Sample("x", tokens=n, meta=meta)


# -- DAPO soft overlong punishment ------------------------------------------------------------


@pytest.mark.parametrize(
    "length,value,verdict",
    [
        (0, 0.0, Verdict.PASS),  # empty completion
        (79, 0.0, Verdict.PASS),
        (80, 0.0, Verdict.PASS),  # exactly at the buffer edge L_max - L_cache
        (81, -0.05, Verdict.PARTIAL),  # (80 - 81) / 20
        (90, -0.5, Verdict.PARTIAL),
        (100, -1.0, Verdict.PARTIAL),  # exactly at L_max: (80 - 100) / 20
        (101, -1.0, Verdict.FAIL),
        (10_000, -1.0, Verdict.FAIL),
    ],
)
def test_dapo_by_hand(length, value, verdict):
    s = DapoOverlong(max_tokens=100, buffer=20).score(tok(length))
    assert s.value == pytest.approx(value, abs=1e-12)
    assert s.verdict is verdict
    assert s.details == {"length": length, "source": "tokens"}


def test_dapo_paper_defaults():
    obj = DapoOverlong()
    assert (obj.max_tokens, obj.buffer, obj.penalty_factor) == (20480, 4096, 1.0)
    assert obj.score(tok(16384)).value == 0.0
    assert obj.score(tok(16385)).value == pytest.approx(-1 / 4096)
    assert obj.score(tok(20480)).value == -1.0


def test_dapo_penalty_factor_and_hard_cut():
    half = DapoOverlong(max_tokens=100, buffer=20, penalty_factor=0.5)
    assert [half.score(tok(n)).value for n in (80, 90, 101)] == [0.0, -0.25, -0.5]
    hard = DapoOverlong(max_tokens=100, buffer=0)
    assert [hard.score(tok(n)).value for n in (100, 101)] == [0.0, -1.0]


def test_dapo_values_match_scores():
    lengths = [0, 50, 80, 85, 99, 100, 101]
    obj = DapoOverlong(max_tokens=100, buffer=20)
    assert obj.values(lengths) == [s.value for s in obj.score_batch([tok(n) for n in lengths])]
    assert dapo_overlong_values(lengths, max_tokens=100, buffer=20).tolist() == obj.values(lengths)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"max_tokens": 0}, "max_tokens must be >= 1"),
        ({"max_tokens": 10, "buffer": 11}, "buffer must be <= 10"),
        ({"buffer": -1}, "buffer must be >= 0"),
        ({"penalty_factor": -0.1}, "penalty_factor must be >= 0"),
        ({"max_tokens": 10.5}, "max_tokens must be an integer"),
        ({"max_tokens": True}, "max_tokens must be an integer"),
        ({"fallback": "chars"}, "allowed: whitespace, skip"),
        ({"tokenizer": "/no/such/tokenizer"}, "no such file"),
    ],
)
def test_dapo_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        DapoOverlong(**kwargs)


# -- where the length comes from --------------------------------------------------------------


def test_length_sources():
    obj = DapoOverlong(max_tokens=10, buffer=5)
    by_tokens = obj.score(Sample("one two three", tokens=7))
    assert by_tokens.details == {"length": 7, "source": "tokens"}
    by_ids = obj.score(Sample("one two three", meta={"completion_ids": [1] * 8}))
    assert by_ids.details == {"length": 8, "source": "tokens"}
    by_words = obj.score(Sample("one two  three\nfour"))
    assert by_words.details == {"length": 4, "source": "whitespace"}  # words, never characters
    empty = obj.score(Sample(""))
    assert (empty.value, empty.details["length"]) == (0.0, 0)


def test_fallback_skip_gives_no_value():
    obj = DapoOverlong(max_tokens=10, buffer=5, fallback="skip")
    s = obj.score(Sample("no count here"))
    assert s.value is None and s.verdict is Verdict.SKIP and "Sample.tokens" in s.reason
    assert obj.score(Sample("x", tokens=3)).value == 0.0


@pytest.fixture(scope="module")
def word_tokenizer(tmp_path_factory):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = {"[UNK]": 0, "hello": 1, "world": 2, ",": 3, "!": 4}
    tk = tokenizers.Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = Whitespace()
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tk.save(str(path))
    return path


def test_tokenizer_file(word_tokenizer):
    obj = DapoOverlong(max_tokens=10, buffer=5, tokenizer=str(word_tokenizer))
    s = obj.score(Sample("hello, world!"))  # hello , world ! -> 4 tokens (whitespace would say 2)
    assert s.details == {"length": 4, "source": "tokenizer"}
    assert obj.score(Sample("hello", tokens=9)).details["source"] == "tokens"  # Sample.tokens wins


def test_tokenizer_directory(word_tokenizer, tmp_path):
    transformers = pytest.importorskip("transformers")
    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=str(word_tokenizer), unk_token="[UNK]")
    fast.save_pretrained(str(tmp_path))
    obj = KimiLength(tokenizer=str(tmp_path))
    scores = obj.score_batch(
        [Sample("hello", group=1, meta={"correct": True}), Sample("hello, world!", group=1, meta={"correct": True})]
    )
    assert [s.details["length"] for s in scores] == [1, 4]
    assert {s.details["source"] for s in scores} == {"tokenizer"}


def test_tokenizer_missing_library(monkeypatch, word_tokenizer):
    import importlib.util

    from moreward import MissingExtraError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tokenizers" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"moreward\[judge\]"):
        DapoOverlong(tokenizer=str(word_tokenizer))


# -- Kimi k1.5 --------------------------------------------------------------------------------


def group(lengths, correct, gid="g"):
    return [Sample("x", tokens=n, group=gid, meta={"correct": c}) for n, c in zip(lengths, correct)]


def test_kimi_by_hand():
    # min 100, max 300: lambda = 0.5 - (len - 100) / 200 -> 0.5, 0, -0.5
    scores = KimiLength().score_batch(group([100, 200, 300], [True, True, False]))
    assert [s.value for s in scores] == [0.5, 0.0, -0.5]
    assert scores[0].details["lambda"] == 0.5 and scores[2].details["min_length"] == 100
    # wrong and short: min(0, 0.5) = 0; correct and long: lambda = -0.5
    assert [s.value for s in KimiLength().score_batch(group([100, 300], [False, True]))] == [0.0, -0.5]
    # wrong, lambda 0.25 -> 0; correct, lambda 0.25 -> 0.25
    assert [s.value for s in KimiLength().score_batch(group([0, 100, 50, 50], [True, True, False, True]))] == [
        0.5,
        -0.5,
        0.0,
        0.0,
    ]


def test_kimi_equal_lengths_and_singletons():
    scores = KimiLength().score_batch(group([42, 42, 42], [True, False, True]))
    assert [s.value for s in scores] == [0.0, 0.0, 0.0]
    assert scores[0].reason == "every length in the group is equal"
    alone = KimiLength().score(Sample("a b c", meta={"correct": True}))
    assert alone.value == 0.0 and alone.reason == "alone in its group"
    empty = KimiLength().score_batch(group([0, 0], [True, True]))
    assert [s.value for s in empty] == [0.0, 0.0]


def test_kimi_groups_are_separate_and_ungrouped_modes():
    batch = group([10, 20], [True, True], "a") + group([100, 300], [True, True], "b")
    assert [s.value for s in KimiLength().score_batch(batch)] == [0.5, -0.5, 0.5, -0.5]
    loose = [Sample("x", tokens=n, meta={"correct": True}) for n in (10, 30)]
    assert [s.value for s in KimiLength().score_batch(loose)] == [0.0, 0.0]
    assert [s.value for s in KimiLength(ungrouped="batch").score_batch(loose)] == [0.5, -0.5]
    assert kimi_length_values([10, 30], [True, True], ["a", "a"]).tolist() == [0.5, -0.5]


def test_kimi_unknown_correctness_still_spans_the_group():
    samples = [*group([100, 200], [True, True]), Sample("x", tokens=300, group="g")]
    scores = KimiLength().score_batch(samples)
    assert [s.value for s in scores[:2]] == [0.5, 0.0]  # the range is 100..300
    assert scores[2].verdict is Verdict.SKIP and scores[2].value is None


def test_correctness_from_an_accuracy_objective():
    obj = KimiLength(accuracy={"type": "exact_match", "extract": "answer_tag"})
    samples = [
        Sample("<answer>4</answer>", reference="4", tokens=10, group=1),
        Sample("<answer>5</answer>", reference="4", tokens=30, group=1),
        Sample("no tag", reference="4", tokens=20, group=1),
    ]
    scores = obj.score_batch(samples)
    assert [s.details["correct"] for s in scores] == [True, False, False]
    assert [s.value for s in scores] == [0.5, -0.5, 0.0]
    skipped = obj.score(Sample("<answer>4</answer>", reference=None, tokens=5))
    assert skipped.value is None and skipped.verdict is Verdict.SKIP
    with pytest.raises(ConfigError, match="'type' key"):
        KimiLength(accuracy={"extract": "full"})
    with pytest.raises(ConfigError, match="accuracy: unknown objective type"):
        KimiLength(accuracy={"type": "no_such_thing"})


def test_correct_key_accepts_bools_and_numbers():
    obj = KimiLength(correct_key="acc")
    scores = obj.score_batch(
        [Sample("x", tokens=10, group=1, meta={"acc": 1.0}), Sample("x", tokens=30, group=1, meta={"acc": -1})]
    )
    assert [s.details["correct"] for s in scores] == [True, False]


# -- cosine -----------------------------------------------------------------------------------


def cos_by_hand(t, T, a, b):
    """CosFn(t, T, a, b) = a + 0.5 (b - a)(1 + cos(pi t / T)), from the paper."""
    return a + 0.5 * (b - a) * (1 + math.cos(math.pi * t / T))


def test_cosine_demystify_defaults_by_hand():
    obj = CosineLength()
    assert (obj.max_tokens, obj.margin, obj.exceed_value) == (14336, 16, -10.0)
    right = lambda n: obj.score(tok(n, correct=True)).value  # noqa: E731
    wrong = lambda n: obj.score(tok(n, correct=False)).value  # noqa: E731
    assert right(0) == 2.0 and wrong(0) == -10.0  # empty completion: r_0
    assert right(7168) == pytest.approx(1.5) and wrong(7168) == pytest.approx(-5.0)
    assert right(14319) == pytest.approx(cos_by_hand(14319, 14336, 1.0, 2.0))
    assert wrong(14319) == pytest.approx(cos_by_hand(14319, 14336, 0.0, -10.0))
    # exactly at the exceed edge: t + margin = 14320 + 16 = T
    exceeded = obj.score(tok(14320, correct=True))
    assert exceeded.value == -10.0 and exceeded.verdict is Verdict.FAIL
    assert wrong(14320) == -10.0


def test_cosine_open_r1_defaults_by_hand():
    obj = CosineLength(preset="open_r1")
    values = [s.value for s in obj.score_batch([tok(500, correct=True), tok(500, correct=False)])]
    assert values == pytest.approx([0.75, -0.75])  # TRL's docstring example
    assert obj.score(tok(0, correct=True)).value == 1.0
    assert obj.score(tok(0, correct=False)).value == -1.0
    assert obj.score(tok(1000, correct=True)).value == 0.5
    assert obj.score(tok(1000, correct=False)).value == -0.5
    assert obj.score(tok(2000, correct=True)).value == 0.5  # clamped
    unclamped = CosineLength(preset="open_r1", clamp=False)
    assert unclamped.score(tok(2000, correct=True)).value == pytest.approx(1.0)  # open-r1's own wrap-around


def test_cosine_overrides_and_errors():
    obj = CosineLength(preset="open_r1", max_tokens=100, exceed_value=-2.0, margin=5)
    assert obj.score(tok(95, correct=True)).value == -2.0
    assert obj.score(tok(94, correct=True)).value == pytest.approx(cos_by_hand(94, 100, 0.5, 1.0))
    assert CosineLength(preset="demystify", exceed_value=None).score(tok(20000, correct=True)).value == 1.0
    with pytest.raises(ConfigError, match="min_value_correct=3 must be <= max_value_correct=2"):
        CosineLength(min_value_correct=3)
    with pytest.raises(ConfigError, match="allowed: demystify, open_r1"):
        CosineLength(preset="kimi")  # type: ignore[arg-type]
    assert cosine_values([0], [True], max_tokens=10, min_value_correct=0, max_value_correct=1,
                         min_value_wrong=-1, max_value_wrong=0).tolist() == [1.0]


# -- L1 ---------------------------------------------------------------------------------------


def l1(n: int, correct: bool, prompt: str = "Solve it. Think for 1000 tokens.", **meta) -> Sample:
    return Sample("x", tokens=n, prompt=prompt, meta={"correct": correct, **meta})


def test_parse_target_tokens():
    assert parse_target_tokens("Let's think step by step. Think for 3500 tokens.") == 3500
    assert parse_target_tokens("... Think for maximum 512 tokens.") == 512
    assert parse_target_tokens("think for 10 tokens. Then: Think for 20 tokens.") == 20
    assert parse_target_tokens("Think for a while.") is None
    assert parse_target_tokens(None) is None
    assert parse_target_tokens("Think for " + "9" * 5000 + " tokens.") is None


def test_l1_exact_by_hand():
    obj = L1Exact()  # alpha = 0.0003
    assert obj.score(l1(1000, True)).value == 1.0  # on target
    assert obj.score(l1(1500, True)).value == pytest.approx(1 - 0.0003 * 500)
    assert obj.score(l1(500, True)).value == pytest.approx(0.85)
    assert obj.score(l1(1500, False)).value == pytest.approx(-0.15)
    assert obj.score(l1(0, True)).value == pytest.approx(0.7)  # empty completion
    code = L1Exact(alpha=1 / 3000)  # the released code: 1 - |d|/3000 (correct), -|d|/3000 (wrong)
    assert code.score(l1(4000, False)).value == pytest.approx(-1.0)
    s = obj.score(l1(1200, True))
    assert s.details["target"] == 1000 and s.details["target_source"] == "prompt"


def test_l1_max_by_hand():
    obj = L1Max()  # alpha = 1/1000, delta = 0.5: the code's (clip((n_gold - n)/500, -1, 1) + 1) / 2
    p = "Think for maximum 1000 tokens."
    assert obj.score(l1(1000, True, p)).value == 0.5
    assert obj.score(l1(500, True, p)).value == 1.0
    assert obj.score(l1(0, True, p)).value == 1.0
    assert obj.score(l1(1200, True, p)).value == pytest.approx(0.3)
    assert obj.score(l1(1500, True, p)).value == 0.0
    assert obj.score(l1(1600, True, p)).value == 0.0
    assert obj.score(l1(500, False, p)).value == 0.0
    for n in (0, 300, 999, 1000, 1001, 1499, 1500):
        code = (max(-1, min(1, (1000 - n) / 500)) + 1) / 2
        assert obj.score(l1(n, True, p)).value == pytest.approx(code)


def test_l1_target_from_meta_or_skip():
    obj = L1Exact()
    assert obj.score(l1(100, True, prompt="no target", target_tokens=100)).value == 1.0
    s = obj.score(l1(100, True, prompt="no target"))
    assert s.value is None and s.verdict is Verdict.SKIP and "Think for N tokens" in s.reason
    with pytest.raises(ConfigError, match="delta must be <= 1"):
        L1Max(delta=2)


# -- difficulty-aware budget ------------------------------------------------------------------


def test_budget_by_hand():
    obj = DifficultyBudget(min_tokens=1000, max_tokens=5000)
    # 3 of 4 correct: p = 0.75, B = 5000 - 0.75 * 4000 = 2000
    lengths = [2000, 3000, 4000, 5000]
    scores = obj.score_batch(group(lengths, [True, True, True, False]))
    assert [s.value for s in scores] == [0.0, -0.5, -1.0, -1.0]
    assert [s.verdict for s in scores] == [Verdict.PASS, Verdict.PARTIAL, Verdict.FAIL, Verdict.FAIL]
    assert scores[0].details["budget"] == 2000.0 and scores[0].details["pass_rate"] == 0.75
    # nothing passes: B = 5000; everything passes: B = 1000
    assert [s.value for s in obj.score_batch(group([5000, 7500], [False, False]))] == [0.0, -0.5]
    assert [s.value for s in obj.score_batch(group([1000, 1500], [True, True]))] == [0.0, -0.5]
    assert obj.score(tok(0, correct=True)).value == 0.0  # empty completion


def test_budget_pass_rate_from_meta_and_tolerance():
    obj = DifficultyBudget(min_tokens=1000, max_tokens=5000, tolerance=0.5)
    s = obj.score(tok(4000, pass_rate=0.5))  # B = 3000, over by 1000 = 1/1.5 of tau*B
    assert s.value == pytest.approx(-1000 / 1500) and s.details["pass_rate_source"] == "meta"
    assert obj.score(Sample("x", tokens=10)).verdict is Verdict.SKIP
    with pytest.raises(ConfigError, match="max_tokens must be >= 1000"):
        DifficultyBudget(min_tokens=1000, max_tokens=500)
    with pytest.raises(ConfigError, match="tolerance must be > 0"):
        DifficultyBudget(tolerance=0)
