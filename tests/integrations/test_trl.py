"""TRL reward functions: the call contract, picklability, groups, and a real GRPOTrainer run."""

from __future__ import annotations

import asyncio
import math
import pickle
from types import SimpleNamespace

import pytest

from moreward import InputError, Pipeline
from moreward.integrations.trl import (
    AsyncCombinedReward,
    AsyncObjectiveReward,
    acombined_reward,
    areward_funcs,
    build_samples,
    combined_reward,
    reward_funcs,
    reward_weights,
)
from moreward.verifiers.text import ExactMatch, RegexMatch

from .helpers import Broken, GroupMeanCentered, TokenLength, em_regex_pipeline, pipeline

PROMPTS = ["q1", "q1", "q2", "q2"]
COMPLETIONS = ["<answer>4</answer>", "4", "<answer>5</answer>", "<answer>x</answer>"]
REFS = ["4", "4", "5", "6"]


class Recorder:
    """Stands in for TRL's ``log_extra`` / ``log_metric`` keyword arguments."""

    def __init__(self) -> None:
        self.extra: dict[str, list] = {}
        self.metrics: dict[str, list[float]] = {}

    def log_extra(self, column: str, values: list) -> None:
        self.extra.setdefault(column, []).extend(values)

    def log_metric(self, name: str, value: float) -> None:
        self.metrics.setdefault(name, []).append(value)


def call(fn, **extra):
    """Call as TRL does: keywords only, dataset columns, trainer_state and the log hooks."""
    rec = Recorder()
    kwargs = dict(
        prompts=PROMPTS,
        completions=COMPLETIONS,
        completion_ids=[[1] * (i + 1) for i in range(4)],
        reference=REFS,
        trainer_state=SimpleNamespace(global_step=7),
        log_extra=rec.log_extra,
        log_metric=rec.log_metric,
    )
    kwargs.update(extra)
    out = fn(**kwargs)
    if asyncio.iscoroutine(out):
        out = asyncio.run(out)
    return out, rec


class TestRewardFuncs:
    def test_one_function_per_objective_named_after_it(self):
        fns = reward_funcs(em_regex_pipeline())
        assert [f.__name__ for f in fns] == ["em", "fmt"]
        utils = pytest.importorskip("trl.trainer.utils")  # TRL's own naming
        assert [utils.get_callable_name(f) for f in fns] == ["em", "fmt"]

    def test_values_one_per_completion(self):
        em, fmt = reward_funcs(em_regex_pipeline())
        assert call(em)[0] == [1.0, 0.0, 1.0, 0.0]  # "4" without a tag is INVALID -> 0.0
        assert call(fmt)[0] == [1.0, 0.0, 1.0, 1.0]

    def test_conversational_completions(self):
        (em,) = reward_funcs(pipeline({"em": ExactMatch(extract="answer_tag")}))
        chat = [[{"role": "assistant", "content": c}] for c in COMPLETIONS]
        prompts = [[{"role": "user", "content": p}] for p in PROMPTS]
        assert call(em, completions=chat, prompts=prompts)[0] == [1.0, 0.0, 1.0, 0.0]

    def test_token_counts_from_completion_ids(self):
        (fn,) = reward_funcs(pipeline({"len": TokenLength(scale=1.0)}))
        assert call(fn)[0] == [1.0, 2.0, 3.0, 4.0]
        assert call(fn, completion_ids=None)[0] == [None] * 4  # unknown -> SKIP -> None

    def test_infrastructure_failure_is_none_not_zero(self):
        fns = reward_funcs(pipeline({"em": ExactMatch(extract="answer_tag"), "broken": Broken()}))
        out, rec = call(fns[1])
        assert out == [None] * 4
        assert rec.extra["broken/verdict"] == ["error"] * 4
        assert rec.metrics["moreward/broken/missing_frac"] == [1.0]

    def test_extra_columns_reach_meta_and_are_ignored_otherwise(self):
        samples = build_samples(
            PROMPTS,
            COMPLETIONS,
            None,
            {"reference": REFS, "level": [1, 2, 3, 4], "trainer_state": SimpleNamespace(global_step=3), "scalar": 5},
        )
        assert samples[2].meta["level"] == 3 and samples[2].meta["step"] == 3
        assert "scalar" not in samples[0].meta and "trainer_state" not in samples[0].meta
        assert [s.reference for s in samples] == REFS

    def test_wrong_lengths_raise(self):
        (em,) = reward_funcs(pipeline({"em": ExactMatch()}))
        with pytest.raises(InputError, match="prompts has 3 entries for 4 completions"):
            em(prompts=PROMPTS[:3], completions=COMPLETIONS, reference=REFS)

    def test_weights_follow_combiner_and_direction(self):
        pipe = Pipeline.from_config(
            {
                "objectives": {"em": {"type": "exact_match"}, "fmt": {"type": "regex", "pattern": "x", "direction": "min"}},
                "combiner": {"method": "weighted_sum", "weights": {"em": 2.0, "fmt": 0.5}},
            }
        )
        assert reward_weights(pipe) == [2.0, -0.5]
        assert reward_weights(pipeline({"a": ExactMatch()})) == [1.0]

    def test_picklable(self):
        for fn in [*reward_funcs(em_regex_pipeline()), combined_reward(em_regex_pipeline())]:
            clone = pickle.loads(pickle.dumps(fn))
            assert clone.__name__ == fn.__name__
            assert call(clone)[0] == call(fn)[0]

    def test_config_path_is_accepted(self, tmp_path):
        from .helpers import CONFIG_TOML

        path = tmp_path / "p.toml"
        path.write_text(CONFIG_TOML)
        assert [f.__name__ for f in reward_funcs(path)] == ["em", "fmt"]
        assert reward_weights(path) == [1.0, 0.5]

    def test_async_twins(self):
        is_async_callable = pytest.importorskip("trl.trainer.utils").is_async_callable
        fns = areward_funcs(em_regex_pipeline())
        assert all(isinstance(f, AsyncObjectiveReward) and is_async_callable(f) for f in fns)
        assert [call(f)[0] for f in fns] == [call(f)[0] for f in reward_funcs(em_regex_pipeline())]
        comb = acombined_reward(em_regex_pipeline())
        assert isinstance(comb, AsyncCombinedReward) and is_async_callable(comb)
        assert call(comb)[0] == call(combined_reward(em_regex_pipeline()))[0]


class TestCombinedReward:
    def test_weighted_sum_and_component_logs(self):
        pipe = em_regex_pipeline(combiner=GroupMeanCentered())
        out, rec = call(combined_reward(pipe, group_size=2))
        # totals 2, 0 | 2, 1 -> centred per prompt group
        assert out == [1.0, -1.0, 0.5, -0.5]
        assert rec.metrics["moreward/em/mean"] == [0.5]
        assert rec.extra["fmt/verdict"] == ["pass", "fail", "pass", "pass"]

    def test_group_column(self):
        pipe = em_regex_pipeline(combiner=GroupMeanCentered())
        out, _ = call(combined_reward(pipe, group_column="pid"), pid=["a", "b", "a", "b"])
        # totals 2, 0, 2, 1 -> group a (2, 2) -> 0, 0; group b (0, 1) -> -0.5, 0.5
        assert out == [0.0, -0.5, 0.0, 0.5]

    def test_repeated_prompt_split_by_group_size(self):
        pipe = em_regex_pipeline(combiner=GroupMeanCentered())
        out, _ = call(combined_reward(pipe, group_size=2), prompts=["q"] * 4)
        assert out == [1.0, -1.0, 0.5, -0.5]

    def test_partial_group_is_a_clear_error(self):
        fn = combined_reward(em_regex_pipeline(), group_size=4)
        with pytest.raises(InputError, match=r"group .* has 2 rollout\(s\) in this call, expected 4.*num_generations"):
            call(fn)
        with pytest.raises(InputError, match="unequal size"):
            call(combined_reward(em_regex_pipeline()), prompts=["a", "a", "a", "b"])
        with pytest.raises(InputError, match="group column 'pid'"):
            call(combined_reward(em_regex_pipeline(), group_column="pid"))

    def test_all_missing_is_none(self):
        out, _ = call(combined_reward(pipeline({"broken": Broken()})))
        assert out == [None] * 4


# -- a real GRPOTrainer run ---------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.filterwarnings(
    # transformers 5.x renames gradient checkpointing; TRL still uses the old names internally
    r"ignore:`(is_)?gradient_checkpointing(_enable|_disable)?` is deprecated:FutureWarning",
)
def test_grpo_trainer_two_steps_on_cpu(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("trl")
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from moreward.testing.tiny import tiny_causal_lm, tiny_tokenizer

    tok = tiny_tokenizer()
    model = tiny_causal_lm(len(tok))
    rows = [
        {"prompt": [{"role": "user", "content": "what is the answer ?"}], "reference": "42"},
        {"prompt": [{"role": "user", "content": "the cat sat on ?"}], "reference": "mat"},
    ]
    pipe = Pipeline(
        {"has_cat": RegexMatch("cat"), "length": TokenLength(scale=8.0), "answer": ExactMatch(extract="last_line")},
        combiner="weighted_sum",
    )
    seen: list[list[float | None]] = []
    fns = reward_funcs(pipe)

    class Spy:
        """Wraps one reward function to keep what TRL received."""

        __name__ = "length_spy"

        def __call__(self, **kwargs):
            out = fns[1](**kwargs)
            seen.append(out)
            return out

    args = GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        logging_steps=1,
        report_to="none",
        use_cpu=True,
        bf16=False,
        learning_rate=1e-3,
        save_strategy="no",
        seed=0,
        reward_weights=[*reward_weights(pipe), 0.0],
    )
    trainer = GRPOTrainer(
        model=model, reward_funcs=[*fns, Spy()], args=args, train_dataset=Dataset.from_list(rows * 4), processing_class=tok
    )
    trainer.train()

    assert trainer.state.global_step == 2
    steps = [h for h in trainer.state.log_history if "reward" in h]
    assert len(steps) == 2
    for h in steps:
        for name in ("has_cat", "length", "answer"):
            assert f"rewards/{name}/mean" in h and f"rewards/{name}/std" in h
        assert "moreward/length/missing_frac" in h
    values = [v for batch in seen for v in batch]
    assert len(values) == 2 * 4 and all(v is not None and math.isfinite(v) for v in values)
    assert len(set(values)) > 1, f"rewards are all equal: {values}"
