"""``moreward summary``, ``filter`` and ``pairs`` over scored files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from moreward.cli import main
from moreward.offline.analysis import dominates, nondominated_mask

CONFIG = """
[fields]
group = "qid"

[objectives.acc]
type = "exact_match"

[objectives.len]
type = "regex"
pattern = '^.{0,3}$'
flags = "s"
direction = "min"

[combiner]
weights = { acc = 1.0, len = 0.5 }
"""


def _score(tmp_path: Path, rows: list[dict]) -> tuple[Path, Path]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", str(inp), "-c", str(cfg), "-o", str(out)]) == 0
    return cfg, out


ROWS = [
    # group a: acc 1/0, len (minimised) 1 for short answers
    {"qid": "a", "prompt": "2+2?", "completion": "4", "reference": "4"},  # acc 1, len 1
    {"qid": "a", "prompt": "2+2?", "completion": "four", "reference": "4"},  # acc 0, len 0
    {"qid": "a", "prompt": "2+2?", "completion": "5", "reference": "4"},  # acc 0, len 1 -> dominated by "four" (min len)
    {"qid": "b", "prompt": "cap?", "completion": "Paris", "reference": "paris"},  # acc 1, len 0 -> dominates the rest of b
    {"qid": "b", "prompt": "cap?", "completion": "Rome", "reference": "paris"},  # acc 0, len 0
    {"qid": "b", "prompt": "cap?", "completion": "Lyo", "reference": "paris"},  # acc 0, len 1
]


def test_summary_table_and_plots(tmp_path, capsys):
    cfg, out = _score(tmp_path, ROWS)
    capsys.readouterr()
    plots = tmp_path / "plots"
    assert main(["summary", str(out), "-c", str(cfg), "--plot", str(plots)]) == 0
    text = capsys.readouterr().out
    assert "rows: 6" in text
    acc_line = next(line for line in text.splitlines() if line.startswith("acc "))
    assert acc_line.split()[1:4] == ["0.3333", "0.333", "2"]
    assert "groups: 2" in text
    files = sorted(p.name for p in plots.iterdir())
    assert files == ["front.png", "hist_acc.png", "hist_len.png"]
    assert all((plots / f).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in files)


def _kept(path: Path) -> list[str]:
    return [json.loads(x)["completion"] for x in path.read_text().splitlines()]


def test_filter_modes(tmp_path, capsys):
    cfg, out = _score(tmp_path, ROWS)
    res = tmp_path / "kept.jsonl"
    assert main(["filter", str(out), "-c", str(cfg), "--min-reward", "0.5", "-o", str(res)]) == 0
    assert _kept(res) == ["4", "Paris"]
    assert main(["filter", str(out), "-c", str(cfg), "--top-k", "1", "--per-group", "-o", str(res)]) == 0
    assert _kept(res) == ["4", "Paris"]
    assert main(["filter", str(out), "-c", str(cfg), "--top-k", "3", "-o", str(res)]) == 0
    assert _kept(res) == ["4", "four", "Paris"]  # ties at reward 0 go to the earlier line
    assert main(["filter", str(out), "-c", str(cfg), "--pareto-front", "-o", str(res)]) == 0
    assert _kept(res) == ["4", "four", "Paris"]
    # without the config both objectives are maximised: "Lyo" (acc 0, len 1) joins group b's front
    assert main(["filter", str(out), "--group-field", "qid", "--pareto-front", "-o", str(res)]) == 0
    assert _kept(res) == ["4", "Paris", "Lyo"]
    assert main(["filter", str(out), "--top-k", "1", "--min-reward", "1"]) == 2
    assert "exactly one of" in capsys.readouterr().err


def test_pairs_are_dominance_pairs_in_dpo_format(tmp_path):
    cfg, out = _score(tmp_path, ROWS)
    pairs_path = tmp_path / "pairs.jsonl"
    assert main(["pairs", str(out), "-c", str(cfg), "-o", str(pairs_path)]) == 0
    pairs = [json.loads(x) for x in pairs_path.read_text().splitlines()]
    got = {(p["chosen"], p["rejected"]) for p in pairs}
    assert got == {("4", "5"), ("four", "5"), ("Paris", "Rome"), ("Paris", "Lyo"), ("Rome", "Lyo")}
    assert all({"prompt", "chosen", "rejected"} <= set(p) for p in pairs)
    assert {p["prompt"] for p in pairs} == {"2+2?", "cap?"}
    assert main(["pairs", str(out), "-c", str(cfg), "-o", str(pairs_path), "--margin", "1.0"]) == 0
    strong = {(p["chosen"], p["rejected"]) for p in map(json.loads, pairs_path.read_text().splitlines())}
    assert strong == {("4", "5"), ("Paris", "Rome"), ("Paris", "Lyo")}  # gaps 1.0, 1.0, 1.5


def test_pairs_conversational(tmp_path):
    rows = [
        {"qid": "a", "prompt": [{"role": "user", "content": "hi"}], "completion": [{"role": "assistant", "content": "4"}], "reference": "4"},
        {"qid": "a", "prompt": [{"role": "user", "content": "hi"}], "completion": [{"role": "assistant", "content": "5"}], "reference": "4"},
    ]
    cfg, out = _score(tmp_path, rows)
    pairs_path = tmp_path / "pairs.jsonl"
    assert main(["pairs", str(out), "-c", str(cfg), "-o", str(pairs_path)]) == 0
    (pair,) = [json.loads(x) for x in pairs_path.read_text().splitlines()]
    assert pair["prompt"] == [{"role": "user", "content": "hi"}]
    assert pair["chosen"] == [{"role": "assistant", "content": "4"}]
    assert pair["rejected"] == [{"role": "assistant", "content": "5"}]


def test_unscored_input_is_a_clear_error(tmp_path, capsys):
    p = tmp_path / "raw.jsonl"
    p.write_text('{"completion": "x"}\n')
    assert main(["summary", str(p)]) == 1
    assert "raw.jsonl:1: no 'moreward' result" in capsys.readouterr().err


def test_nondominated_mask_matches_brute_force():
    rng = np.random.default_rng(1)
    M = rng.integers(0, 3, size=(40, 3)).astype(float)
    M[5, 1] = np.nan
    mask = nondominated_mask(M)
    for i in range(len(M)):
        expect = not np.isnan(M[i]).any() and not any(dominates(M[j], M[i]) for j in range(len(M)) if j != i)
        assert mask[i] == expect


def test_pairs_and_front_ignore_objectives_routed_elsewhere(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[fields]\ngroup = "qid"\n'
        '[objectives.acc]\ntype = "exact_match"\ndata_sources = ["qa"]\n'
        '[objectives.digits]\ntype = "regex"\npattern = "[0-9]"\ndata_sources = ["math"]\n'
        '[combiner]\nmethod = "weighted_sum"\n'
    )
    rows = [
        {"qid": "a", "data_source": "qa", "prompt": "cap?", "completion": "Paris", "reference": "paris"},
        {"qid": "a", "data_source": "qa", "prompt": "cap?", "completion": "Rome", "reference": "paris"},
    ]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", str(inp), "-c", str(cfg), "-o", str(out)]) == 0
    pairs_path = tmp_path / "pairs.jsonl"
    assert main(["pairs", str(out), "-c", str(cfg), "-o", str(pairs_path)]) == 0
    (pair,) = [json.loads(x) for x in pairs_path.read_text().splitlines()]
    assert (pair["chosen"], pair["rejected"]) == ("Paris", "Rome")
    kept = tmp_path / "kept.jsonl"
    assert main(["filter", str(out), "-c", str(cfg), "--pareto-front", "-o", str(kept)]) == 0
    assert _kept(kept) == ["Paris"]
