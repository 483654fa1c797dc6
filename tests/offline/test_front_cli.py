"""``moreward front``: the front and its indicators per step, computed independently here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from moreward import BaseObjective, Sample, Score, Verdict, registry
from moreward.cli import main


@registry.register("test_brevity")
class Brevity(BaseObjective):
    """1 / (1 + characters): a continuous objective for the test."""

    name = "test_brevity"

    def score(self, sample: Sample) -> Score:
        return Score(1.0 / (1 + len(sample.completion)), Verdict.PARTIAL, "brevity")


CONFIG = """
[objectives.acc]
type = "exact_match"
[objectives.brevity]
type = "test_brevity"
"""


def hv2d(points: np.ndarray, ref: np.ndarray) -> float:
    """Brute-force 2-D hypervolume (maximisation) by sweeping x."""
    pts = sorted({(float(x), float(y)) for x, y in points if x > ref[0] and y > ref[1]}, reverse=True)
    area, best_y = 0.0, ref[1]
    for i, (x, y) in enumerate(pts):
        best_y = max(best_y, y)
        nxt = pts[i + 1][0] if i + 1 < len(pts) else ref[0]
        area += (x - nxt) * (best_y - ref[1])
    return area


def test_front_by_step(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = []
    for step in (10, 2, 30):  # out of order on purpose: the report sorts numerically
        for _ in range(12):
            ok = rng.random() < 0.2 + step / 50
            rows.append({"step": step, "completion": ("4" if ok else "5") + " " * int(rng.integers(0, 9)), "reference": "4"})
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", str(inp), "-c", str(cfg), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["front", str(out), "-c", str(cfg), "--by", "step", "--ref", "0,0", "--plot", str(tmp_path / "f.png")]) == 0
    text = capsys.readouterr().out
    table = [line.split() for line in text.splitlines() if line[:1].isdigit()]
    assert [t[0] for t in table] == ["2", "10", "30"]
    scored = [json.loads(x) for x in out.read_text().splitlines()]
    for t in table:
        pts = np.array(
            [[r["moreward"]["components"][n]["value"] for n in ("acc", "brevity")] for r in scored if r["step"] == int(t[0])]
        )
        assert int(t[1]) == len(pts)
        assert float(t[3]) == pytest.approx(hv2d(pts, np.zeros(2)), rel=1e-5)
    assert (tmp_path / "f_scatter.png").exists() and (tmp_path / "f_hypervolume.png").exists()
    assert main(["front", str(out), "--ref", "0"]) == 2
