"""verl: compute_score called the way verl 0.9.1's reward loop calls it.

verl does not import without its heavy dependencies (``import verl`` pulls
tensordict, ray, hydra; ``pip install verl --no-deps`` is not enough), so the
loader and managers below replicate, line for line where it matters, verl
0.9.1's ``trainer/ppo/reward.py::get_custom_reward_fn`` +
``utils/import_utils.py::load_module``, the naive manager's ``run_single``
(``experimental/reward_loop/reward_manager/naive.py``), the reward loop's
``reward_extra_info`` collection (``reward_loop.py``: keys of the first sample,
``np.array`` per key) and the batch manager's call
(``workers/reward_manager/batch.py``). When verl is importable, the last test
goes through verl's own loader.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import math
import os
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import moreward.integrations.verl as verl_mod
from moreward import ConfigError
from moreward.integrations import MissingRewardError
from moreward.integrations.verl import compute_score, compute_score_batch

from .helpers import CONFIG_TOML


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "pipeline.toml"
    path.write_text(CONFIG_TOML)
    return path


# -- verl 0.9.1, replicated --------------------------------------------------------------


def load_extern_object(module_path: str, object_name: str):
    """verl ``utils/import_utils.py``: ``pkg://`` imports a module, anything else loads a file."""
    if module_path.startswith("pkg://"):
        module = importlib.import_module(module_path[len("pkg://") :].replace("/", "."))
    else:
        spec = importlib.util.spec_from_file_location(f"custom_module_{hash(os.path.abspath(module_path))}", module_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return getattr(module, object_name)


def _call_with_kwargs(raw_fn, extra_kwargs, *args, **kwargs):
    return raw_fn(*args, **{**kwargs, **extra_kwargs})


async def _call_with_kwargs_async(raw_fn, extra_kwargs, *args, **kwargs):
    return await raw_fn(*args, **{**kwargs, **extra_kwargs})


def get_custom_reward_fn(path: str, name: str, reward_kwargs: dict):
    raw_fn = load_extern_object(path, name)
    if not inspect.iscoroutinefunction(raw_fn):
        return partial(_call_with_kwargs, raw_fn, reward_kwargs)
    return partial(_call_with_kwargs_async, raw_fn, reward_kwargs)


async def naive_run_single(compute_score_fn, row: dict, response_str: str) -> dict:
    """``NaiveRewardManager.run_single`` after decoding (is_async checked on the partial, as verl does)."""
    data_source = row["data_source"]
    ground_truth = row["reward_model"]["ground_truth"]
    extra_info = dict(row.get("extra_info", {}))
    extra_info["num_turns"] = None
    extra_info["rollout_reward_scores"] = {}
    loop = asyncio.get_running_loop()
    if inspect.iscoroutinefunction(compute_score_fn):
        result = await compute_score_fn(
            data_source=data_source, solution_str=response_str, ground_truth=ground_truth, extra_info=extra_info
        )
    else:
        result = await loop.run_in_executor(
            None,
            lambda: compute_score_fn(
                data_source=data_source, solution_str=response_str, ground_truth=ground_truth, extra_info=extra_info
            ),
        )
    reward_extra_info = {}
    if isinstance(result, dict):
        score = result["score"]
        reward_extra_info.update(result)
    else:
        score = result
        reward_extra_info["acc"] = score
    return {"reward_score": score, "reward_extra_info": reward_extra_info}


def reward_loop(compute_score_fn, rows: list[dict], responses: list[str]):
    """The reward loop over a batch: concurrent run_single, then the first sample's keys for all."""

    async def run():
        return await asyncio.gather(*(naive_run_single(compute_score_fn, r, s) for r, s in zip(rows, responses)))

    outputs = asyncio.run(run())
    infos = [o["reward_extra_info"] for o in outputs]
    keys = list(infos[0].keys())
    extra = {k: np.array([info[k] for info in infos]) for k in keys}  # KeyError when keys differ (verl#1031)
    return [o["reward_score"] for o in outputs], extra


ROWS = [
    {"data_source": "openai/gsm8k", "reward_model": {"ground_truth": "4"}, "extra_info": {"index": 0}},
    {"data_source": "openai/gsm8k", "reward_model": {"ground_truth": "4"}, "extra_info": {"index": 0}},
    {"data_source": "aime24", "reward_model": {"ground_truth": "7"}, "extra_info": {"index": 1}},
    {"data_source": "aime24", "reward_model": {"ground_truth": "7"}, "extra_info": {"index": 1}},
]
RESPONSES = ["<answer>4</answer>", "4", "<answer>7</answer>", "<answer>8</answer>"]


# -- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["pkg://moreward.integrations.verl", verl_mod.__file__])
@pytest.mark.parametrize("name", ["compute_score", "compute_score_async"])
def test_reward_loop_naive(config, path, name):
    fn = get_custom_reward_fn(path, name, {"config": str(config)})
    scores, extra = reward_loop(fn, ROWS, RESPONSES)
    assert scores == [1.5, 0.0, 1.5, 0.5]
    assert set(extra) == {"score", "em", "fmt", "moreward_valid"}
    assert extra["em"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert extra["moreward_valid"].tolist() == [1.0] * 4


def test_routing_by_data_source_keeps_the_same_keys(tmp_path, config):
    length_cfg = tmp_path / "len.toml"
    length_cfg.write_text('[objectives.short]\ntype = "regex"\npattern = "^.{0,3}$"\n[combiner]\nmethod = "weighted_sum"\n')
    routes = {"aime*": str(length_cfg), "*": str(config)}
    fn = get_custom_reward_fn("pkg://moreward.integrations.verl", "compute_score", {"routes": routes})
    scores, extra = reward_loop(fn, ROWS, RESPONSES)
    assert list(extra) == ["score", "short", "em", "fmt", "moreward_valid"]
    assert scores == [1.5, 0.0, 0.0, 0.0]  # aime24 goes to the "short" pipeline: long answers fail it
    assert math.isnan(extra["short"][0]) and math.isnan(extra["em"][2])  # not computed for that route


def test_unrouted_data_source_is_a_config_error(config):
    with pytest.raises(ConfigError, match=r"no route for data_source 'code'.*'gsm8k'"):
        compute_score("code", "x", "y", routes={"gsm8k": str(config)})
    with pytest.raises(ConfigError, match="no pipeline configured"):
        compute_score("gsm8k", "x", "y")


def test_missing_reward_raises_or_is_flagged():
    cfg = {"objectives": {"em": {"type": "exact_match"}}, "combiner": {"method": "weighted_sum"}}
    with pytest.raises(MissingRewardError, match=r"em: skip \(reference must be"):
        compute_score("x", "answer", None, {}, config=cfg)  # no reference -> SKIP -> no reward
    out = compute_score("x", "answer", None, {}, config=cfg, on_missing=-1.0)
    assert out["score"] == -1.0 and out["moreward_valid"] == 0.0 and math.isnan(out["em"])
    with pytest.raises(ConfigError, match="on_missing"):
        compute_score("x", "answer", "a", {}, config=cfg, on_missing="zero")


def test_batch_manager_call_with_group_combiner(config, monkeypatch):
    from moreward.pipeline import Pipeline

    from .helpers import GroupMeanCentered, em_regex_pipeline

    pipe = em_regex_pipeline(combiner=GroupMeanCentered())
    assert isinstance(pipe, Pipeline)
    # the batch manager: compute_score(data_sources=, solution_strs=, ground_truths=, extra_infos=, **reward_kwargs)
    fn = partial(compute_score_batch, config=pipe)
    scores = fn(
        data_sources=np.array([r["data_source"] for r in ROWS], dtype=object),
        solution_strs=RESPONSES,
        ground_truths=[r["reward_model"].get("ground_truth") for r in ROWS],
        extra_infos=[dict(r["extra_info"], rollout_reward_scores={}) for r in ROWS],
    )
    rewards = [s["score"] for s in scores]
    assert rewards == [1.0, -1.0, 0.5, -0.5]  # centred within extra_info["index"] groups
    assert {k for s in scores for k in s} == {"score", "em", "fmt", "moreward_valid"}


def test_sample_fields_reach_the_objectives():
    from moreward.integrations.verl import _sample

    s = _sample("gsm8k", "text", "gt", {"question": "2+2?", "index": 3, "response_length": 12}, "index")
    assert (s.completion, s.reference, s.prompt, s.group, s.tokens) == ("text", "gt", "2+2?", 3, 12)
    assert s.meta["data_source"] == "gsm8k"


def test_through_verl_own_loader(config):
    reward = pytest.importorskip("verl.trainer.ppo.reward", exc_type=ImportError)
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(
        {
            "reward": {
                "custom_reward_function": {
                    "path": "pkg://moreward.integrations.verl",
                    "name": "compute_score",
                    "reward_kwargs": {"config": str(config)},
                }
            }
        }
    )
    fn = reward.get_custom_reward_fn(cfg)
    scores, extra = reward_loop(fn, ROWS, RESPONSES)
    assert scores == [1.5, 0.0, 1.5, 0.5] and extra["em"].tolist() == [1.0, 0.0, 1.0, 0.0]


def test_through_verl_naive_reward_manager(config):
    """verl's own NaiveRewardManager.run_single on a DataProto (runs when verl imports)."""
    naive = pytest.importorskip("verl.experimental.reward_loop.reward_manager.naive", exc_type=ImportError)
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.trainer.ppo.reward import get_custom_reward_fn as verl_get_custom_reward_fn

    cfg = OmegaConf.create(
        {
            "reward": {
                "custom_reward_function": {
                    "path": "pkg://moreward.integrations.verl",
                    "name": "compute_score",
                    "reward_kwargs": {"config": str(config)},
                }
            }
        }
    )

    class CharTokenizer:
        def decode(self, ids, skip_special_tokens=True):
            return "".join(chr(int(i)) for i in ids)

    width = max(map(len, RESPONSES))
    responses = torch.tensor([[ord(c) for c in t] + [0] * (width - len(t)) for t in RESPONSES])
    mask = torch.tensor([[1] * 3 + [1] * len(t) + [0] * (width - len(t)) for t in RESPONSES])
    data = DataProto.from_dict(
        tensors={"prompts": torch.zeros(4, 3, dtype=torch.long), "responses": responses, "attention_mask": mask},
        non_tensors={k: np.array([r[k] for r in ROWS], dtype=object) for k in ("data_source", "reward_model", "extra_info")},
    )

    async def run():
        manager = naive.NaiveRewardManager(cfg, CharTokenizer(), verl_get_custom_reward_fn(cfg))
        return [await manager.run_single(data[i : i + 1]) for i in range(len(ROWS))]

    out = asyncio.run(run())
    assert [o["reward_score"] for o in out] == [1.5, 0.0, 1.5, 0.5]
    assert all(set(o["reward_extra_info"]) == {"score", "em", "fmt", "moreward_valid"} for o in out)
