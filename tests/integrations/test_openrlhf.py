"""OpenRLHF: prompt stripping, the returned tensors, and loading the file the way OpenRLHF 0.11 does."""

from __future__ import annotations

import asyncio
import importlib.util
import math
import pickle
import sys
from pathlib import Path

import pytest

import moreward.integrations.openrlhf as orl
from moreward import InputError
from moreward.integrations import MissingRewardError
from moreward.integrations.openrlhf import RewardFunc, strip_prompt

from .helpers import CONFIG_TOML, Broken, em_regex_pipeline, pipeline


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


QWEN_PROMPT = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
LLAMA_PROMPT = (
    "<|start_header_id|>user<|end_header_id|>\n\n2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
)


@pytest.mark.parametrize(
    ("query", "prompt", "expected"),
    [
        # exact prefix, then the end-of-turn and EOS tokens decoded with skip_special_tokens=False
        (QWEN_PROMPT + "<answer>4</answer><|im_end|>\n<|endoftext|>", QWEN_PROMPT, "<answer>4</answer>"),
        # the tokenizer prepended a BOS that the prompt string does not have
        ("<|begin_of_text|>" + LLAMA_PROMPT + "four<|eot_id|>", LLAMA_PROMPT, "four"),
        # the prompt did not round-trip exactly (trailing space lost): found inside the query
        ("<s>[INST] 2+2? [/INST]4</s>", "[INST] 2+2? [/INST] ", "4"),
        # no usable prompt: the text after the last assistant header
        (QWEN_PROMPT + "x<|im_end|>", None, "x"),
        # no template at all
        ("Q: 2+2? A: 4", "Q: 2+2? A:", " 4"),
        # the response itself mentions the prompt: only the prefix is removed
        (QWEN_PROMPT + "2+2? is 4<|im_end|>", QWEN_PROMPT, "2+2? is 4"),
    ],
)
def test_strip_prompt(query, prompt, expected):
    assert strip_prompt(query, prompt) == expected


def test_returns_tensors_of_batch_shape(torch):
    fn = RewardFunc(em_regex_pipeline())
    queries = [QWEN_PROMPT + "<answer>4</answer><|im_end|>", QWEN_PROMPT + "4<|im_end|>", QWEN_PROMPT + "<answer>5</answer>"]
    out = fn(queries, [QWEN_PROMPT] * 3, ["4", "4", "4"])
    assert set(out) == {"rewards", "scores", "extra_logs"}
    for t in (out["rewards"], out["scores"], *out["extra_logs"].values()):
        assert isinstance(t, torch.Tensor) and t.shape == (3,) and t.dtype == torch.float32
    assert out["rewards"].tolist() == [2.0, 0.0, 1.0]  # weighted_sum with weights 1, 1
    assert torch.equal(out["scores"], out["rewards"])
    assert set(out["extra_logs"]) == {"em", "fmt", "moreward_valid"}
    assert out["extra_logs"]["em"].tolist() == [1.0, 0.0, 0.0]


def test_score_objective_and_batch_of_one(torch):
    fn = RewardFunc(em_regex_pipeline(), score_objective="em")
    out = fn([QWEN_PROMPT + "<answer>5</answer>"], [QWEN_PROMPT], ["4"])
    assert out["rewards"].tolist() == [1.0] and out["scores"].tolist() == [0.0]
    with pytest.raises(InputError, match="score_objective 'nope'"):
        RewardFunc(em_regex_pipeline(), score_objective="nope")


def test_missing_reward(torch):
    pipe = pipeline({"broken": Broken()})
    with pytest.raises(MissingRewardError, match=r"broken: error \(Broken raised RuntimeError: backend down\)"):
        RewardFunc(pipe)(["q a"], ["q"], [None])
    out = RewardFunc(pipe, on_missing=0.25)(["q a"], ["q"], [None])
    assert out["rewards"].tolist() == [0.25]
    assert out["extra_logs"]["moreward_valid"].tolist() == [0.0]
    assert math.isnan(out["extra_logs"]["broken"].item())


def test_bad_input_is_named():
    fn = RewardFunc(em_regex_pipeline())
    with pytest.raises(InputError, match="2 queries, 1 prompts and 2 labels"):
        fn.compute(["a", "b"], ["a"], ["x", "y"])
    with pytest.raises(InputError, match=r"queries\[1\] must be a string"):
        fn.compute(["a", 3], None, None)


def test_token_counts_with_a_tokenizer(torch):
    from .helpers import TokenLength

    class Words:
        def encode(self, text, add_special_tokens=False):
            return text.split()

    out = RewardFunc(pipeline({"len": TokenLength(scale=1.0)}), tokenizer=Words())(["P: one two three"], ["P:"], [None])
    assert out["rewards"].tolist() == [3.0]


def test_picklable(torch):
    fn = RewardFunc(em_regex_pipeline(), on_missing=0.0)
    clone = pickle.loads(pickle.dumps(fn))
    assert clone([QWEN_PROMPT + "<answer>4</answer>"], [QWEN_PROMPT], ["4"])["rewards"].tolist() == [2.0]


def _load_like_openrlhf(path: str):
    """OpenRLHF 0.11 ``SingleTurnAgentExecutor.__init__``: the file is loaded under the name ``reward_func``."""
    spec = importlib.util.spec_from_file_location("reward_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.reward_func


def test_module_file_loaded_by_path_with_env_config(tmp_path, monkeypatch, torch):
    cfg = tmp_path / "p.toml"
    cfg.write_text(CONFIG_TOML)
    monkeypatch.setenv("MOREWARD_CONFIG", str(cfg))
    monkeypatch.setenv("MOREWARD_ON_MISSING", "-1")
    reward_func = _load_like_openrlhf(orl.__file__)

    async def fetch():  # SingleTurnAgentExecutor._fetch_rewards_via_func: one sample, in a thread
        return await asyncio.gather(
            *(asyncio.to_thread(reward_func, [q], [QWEN_PROMPT], ["4"]) for q in ("<answer>4</answer>", "nothing"))
        )

    a, b = asyncio.run(fetch())
    assert a["rewards"].tolist() == [1.5] and b["rewards"].tolist() == [0.0]
    assert a["extra_logs"]["fmt"].tolist() == [1.0]


def test_module_level_reward_func_needs_the_env(monkeypatch):
    monkeypatch.delenv("MOREWARD_CONFIG", raising=False)
    monkeypatch.setattr(orl, "_default", None)
    with pytest.raises(InputError, match="MOREWARD_CONFIG"):
        orl.reward_func(["a"], ["a"], [None])


def _openrlhf_agent(monkeypatch):
    """OpenRLHF's own ``utils/agent.py``, loaded as its tests do (needs openrlhf's files and aiohttp)."""
    pytest.importorskip("aiohttp")
    spec = importlib.util.find_spec("openrlhf")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("openrlhf is not installed")
    agent_py = Path(next(iter(spec.submodule_search_locations))) / "utils" / "agent.py"
    import logging
    from types import SimpleNamespace

    monkeypatch.setitem(sys.modules, "openrlhf.utils.logging_utils", SimpleNamespace(init_logger=logging.getLogger))
    agent_spec = importlib.util.spec_from_file_location("_openrlhf_agent_test", agent_py)
    agent = importlib.util.module_from_spec(agent_spec)
    agent_spec.loader.exec_module(agent)
    return agent


def test_through_openrlhf_agent_executor(tmp_path, monkeypatch, torch):
    agent = _openrlhf_agent(monkeypatch)
    cfg = tmp_path / "p.toml"
    cfg.write_text(CONFIG_TOML)
    monkeypatch.setenv("MOREWARD_CONFIG", str(cfg))
    monkeypatch.setattr(orl, "_default", None)
    executor = agent.SingleTurnAgentExecutor(orl.__file__)
    (info,) = asyncio.run(executor._fetch_rewards_via_func([QWEN_PROMPT + "<answer>4</answer>"], [QWEN_PROMPT], ["4"]))
    assert info["rewards"].tolist() == [1.5]
