"""Shared contract of the shaped rewards: registry names, pickling, pipeline use, options."""

from __future__ import annotations

import pickle

import pytest

import moreward.rewards as rewards
from moreward import ConfigError, Pipeline, Sample, registry
from moreward.rewards import (
    Alternating,
    Constant,
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
    TokenCounter,
)

NAMES = {
    "dapo_overlong": DapoOverlong,
    "kimi_length": KimiLength,
    "cosine_length": CosineLength,
    "l1_exact": L1Exact,
    "l1_max": L1Max,
    "difficulty_budget": DifficultyBudget,
    "ngram_repetition": NgramRepetition,
    "reasoning_steps": ReasoningSteps,
}


@pytest.mark.parametrize("name,cls", sorted(NAMES.items()))
def test_registry_name_is_stable_name(name, cls):
    assert name in registry.available()
    assert registry.get_factory(name) is cls
    obj = registry.get(name)
    assert obj.name == name and obj.__name__ == name  # TRL's metric key


def test_scheduled_registered():
    assert registry.get_factory("scheduled") is Scheduled


def test_unknown_option_lists_allowed():
    with pytest.raises(ConfigError, match=r"unknown option\(s\) 'max_len'; allowed: max_tokens, buffer"):
        registry.get("dapo_overlong", max_len=10)


def sample_batch():
    return [
        Sample("Step 1: a b a b a b", tokens=90, group=1, prompt="Think for 50 tokens.",
               meta={"correct": True, "step": 3, "completion_ids": [1, 2, 1, 2, 1, 2]}),
        Sample("<answer>x</answer>", tokens=40, group=1, prompt="Think for 50 tokens.",
               meta={"correct": False, "step": 3}),
        Sample("", group=2, prompt="Think for maximum 10 tokens.", meta={"correct": True, "step": 12}),
    ]


PICKLED = [
    DapoOverlong(max_tokens=100, buffer=20),
    KimiLength(accuracy={"type": "exact_match"}),
    CosineLength(preset="open_r1", max_tokens=100),
    L1Exact(alpha=0.01),
    L1Max(),
    DifficultyBudget(min_tokens=10, max_tokens=100),
    NgramRepetition(ngram_size=2, mode="dense"),
    ReasoningSteps(pattern=r"^\d+\)"),
    Scheduled({"type": "kimi_length"}, {"kind": "alternating"}),
    Scheduled({"type": "dapo_overlong", "buffer": 0}, Piecewise(boundaries=[10], values=[50, 100]), param="max_tokens"),
]


@pytest.mark.parametrize("obj", PICKLED, ids=lambda o: type(o).__name__)
def test_pickle_round_trip(obj):
    copy = pickle.loads(pickle.dumps(obj))
    assert copy == obj and repr(copy) == repr(obj) and copy.__name__ == obj.__name__
    batch = sample_batch()
    assert copy.score_batch(batch) == obj.score_batch(batch)


@pytest.mark.parametrize("sched", [Constant(2), LinearWarmup(5, delay=1), Piecewise(boundaries=[1], values=[0, 1]), Alternating()])
def test_schedules_pickle(sched):
    copy = pickle.loads(pickle.dumps(sched))
    assert copy == sched and [copy(s) for s in range(25)] == [sched(s) for s in range(25)]


def test_token_counter_pickles_without_its_tokenizer(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    tk = tokenizers.Tokenizer(WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    tk.pre_tokenizer = Whitespace()
    tk.save(str(tmp_path / "t.json"))
    counter = TokenCounter(str(tmp_path / "t.json"))
    assert counter.lengths([Sample("a a, a")]) == [(4, "tokenizer")]
    assert counter._tok is not None
    copy = pickle.loads(pickle.dumps(counter))
    assert copy._tok is None and copy == counter
    assert copy.lengths([Sample("a a")]) == [(2, "tokenizer")]


def test_pipeline_from_config():
    pipe = Pipeline.from_config(
        {
            "objectives": {
                "length": {"type": "dapo_overlong", "max_tokens": 100, "buffer": 20},
                "kimi": {"type": "kimi_length"},
                "rep": {"type": "ngram_repetition", "ngram_size": 2},
                "steps": {"type": "reasoning_steps"},
                "warm": {"type": "scheduled", "objective": {"type": "l1_max"}, "schedule": {"kind": "linear_warmup", "warmup_steps": 6}},
            }
        }
    )
    results = pipe.score(sample_batch())
    first = results[0].components
    assert first["length"].value == -0.5
    assert first["kimi"].value == -0.5
    assert first["rep"].value == pytest.approx(-0.6)  # bigrams 12,21,12,21,12: (1 - 2/5) * -1
    assert first["steps"].value == pytest.approx(1 / 3)
    # step 3 of a 6-step warm-up: 0.5 * (0.5 + (50 - 90) / 1000)
    assert first["warm"].value == pytest.approx(0.23) and first["warm"].details["weight"] == 0.5
    # step 12: weight 1; 0 tokens against a target of 10: 0.5 + 10 / 1000
    assert results[2].components["warm"].value == pytest.approx(0.51)
    assert results[2].components["length"].details["source"] == "whitespace"


def test_public_names():
    assert sorted(rewards.__all__) == rewards.__all__
    for name in rewards.__all__:
        assert getattr(rewards, name) is not None


@pytest.mark.parametrize("module", ["_common", "length", "budget", "repetition", "schedules"])
def test_docstring_examples(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"moreward.rewards.{module}")
    result = doctest.testmod(mod, extraglobs={"Sample": Sample}, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
