from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

CONFIG = """
[fields]
group = "prompt_id"

[objectives.answer]
type = "exact_match"
extract = "answer_tag"

[objectives.format]
type = "regex"
pattern = '^<think>.*</think>\\s*<answer>.*</answer>$'
mode = "fullmatch"
flags = "s"

[combiner]
method = "weighted_sum"
weights = { answer = 1.0, format = 0.5 }
"""


def write_rollouts(path: Path, n_groups: int, per_group: int = 4, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for g in range(n_groups):
        for _ in range(per_group):
            ans = rng.choice(["4", "5", "four"])
            wrap = rng.random() < 0.8
            text = f"<think>step {rng.random():.3f}</think><answer>{ans}</answer>" if wrap else f"answer {ans}"
            rows.append({"prompt_id": f"p{g}", "completion": text, "reference": "4", "n": rng.random(), "uni": "é✓"})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


@pytest.fixture
def config(tmp_path: Path) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(CONFIG)
    return p
