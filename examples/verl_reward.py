"""verl: point ``custom_reward_function`` at moreward and pass the pipeline config through
``reward_kwargs``. In verl's config::

    custom_reward_function:
      path: pkg://moreward.integrations.verl
      name: compute_score            # or compute_score_batch with the batch reward manager
    reward_model:
      reward_kwargs:
        config: examples/demo.toml   # or routes: {"math": math.toml, "code": code.toml}

This script calls ``compute_score`` the way verl's reward loop does (one sample at a
time, keywords ``data_source``, ``solution_str``, ``ground_truth``, ``extra_info`` plus
the ``reward_kwargs``) over the shipped rollouts, and prints what verl would log.
"""

from __future__ import annotations

import json
from pathlib import Path

from moreward import load_config
from moreward.integrations.verl import compute_score

HERE = Path(__file__).resolve().parent


def main() -> None:
    # verl calls compute_score one sample at a time, so a group combiner (the demo's
    # "decoupled") would only ever see groups of one: use a weighted sum here, and
    # compute_score_batch with verl's batch reward manager for group combiners.
    config = load_config(HERE / "demo.toml").model_dump(mode="json")
    config["combiner"] = {"method": "weighted_sum", "weights": config["combiner"]["weights"]}
    reward_kwargs = {"config": config, "on_missing": 0.0}
    with open(HERE / "rollouts.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][::40]
    for row in rows:
        out = compute_score(
            data_source=row["data_source"],
            solution_str=row["completion"],
            ground_truth=row["reference"],
            extra_info={"prompt": row["prompt"]},
            **reward_kwargs,
        )
        parts = ", ".join(f"{k}={v:.2f}" for k, v in out.items() if k != "score")
        print(f"{row['data_source']:>6} {row['kind']:<14} score={out['score']:+.2f}  {parts}")


if __name__ == "__main__":
    main()
