"""OpenRLHF: a reward-function file for ``--remote_rm_url``. OpenRLHF loads this file and
calls ``reward_func(queries, prompts, labels)``; moreward strips the prompt and the chat
template from each query, scores the response and returns the tensors OpenRLHF expects::

    MOREWARD_CONFIG=examples/demo.toml python -m openrlhf.cli.train_ppo_ray \\
        --remote_rm_url examples/openrlhf_reward.py --label_key reference ...

Run directly, it scores two queries as OpenRLHF would pass them.
"""

from __future__ import annotations

import os
from pathlib import Path

from moreward.integrations.openrlhf import RewardFunc

HERE = Path(__file__).resolve().parent
reward_func = RewardFunc(os.environ.get("MOREWARD_CONFIG", str(HERE / "config.toml")))

if __name__ == "__main__":
    prompts = ["Capital of France?", "2+2?"]
    queries = [
        prompts[0] + "<think>Easy.</think> <answer>Paris</answer>",
        prompts[1] + "<think>Hmm.</think> <answer>5</answer>",
    ]
    out = reward_func(queries, prompts, ["Paris", "4"])
    print("rewards:", out["rewards"].tolist())
    print("extra_logs:", {k: v.tolist() for k, v in out["extra_logs"].items()})
