"""The scripts under examples/ run as documented (each in a subprocess, from the repository root)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(args: list[str], tmp_path: Path, timeout: float = 300) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


def test_rollouts_file_is_what_the_generator_writes(tmp_path):
    out = tmp_path / "rollouts.jsonl"
    run([sys.executable, str(EXAMPLES / "make_rollouts.py"), str(out)], tmp_path)
    assert out.read_bytes() == (EXAMPLES / "rollouts.jsonl").read_bytes()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) >= 200 and {r["data_source"] for r in rows} == {"math", "code", "puzzle"}


def test_quickstart(tmp_path):
    out = run([sys.executable, str(EXAMPLES / "quickstart.py")], tmp_path)
    assert "capital" in out and "1.50" in out


def test_cli_script(tmp_path):
    out = run(["bash", str(EXAMPLES / "cli.sh"), str(tmp_path / "cli")], tmp_path)
    assert "cli example: outputs in" in out
    pairs = [json.loads(line) for line in (tmp_path / "cli" / "pairs.jsonl").read_text().splitlines()]
    assert pairs and all({"prompt", "chosen", "rejected"} <= set(p) for p in pairs)
    assert (tmp_path / "cli" / "front_scatter.png").exists()


def test_verl_and_openrlhf_scripts(tmp_path):
    pytest.importorskip("torch")
    out = run([sys.executable, str(EXAMPLES / "verl_reward.py")], tmp_path)
    assert "score=+1.50" in out
    out = run([sys.executable, str(EXAMPLES / "openrlhf_reward.py")], tmp_path)
    assert "rewards: [1.5, 0.5]" in out


def test_server_script(tmp_path):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    out = run([sys.executable, str(EXAMPLES / "server_client.py")], tmp_path)
    assert "/get_reward: [1.5, 0.5]" in out and 'moreward_requests_total{route="/v1/score",status="200"} 1' in out


@pytest.mark.slow
def test_ray_script(tmp_path):
    pytest.importorskip("ray.data")
    out = run(["bash", str(EXAMPLES / "ray.sh"), str(tmp_path / "ray")], tmp_path)
    assert "identical to the local backend" in out


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_trl_script(tmp_path):
    pytest.importorskip("trl")
    out = run([sys.executable, str(EXAMPLES / "trl_grpo.py")], tmp_path)
    assert out.count("step ") == 2 and "rewards/answer/mean" in out


def test_recipe_configs_are_the_shipped_ones():
    from moreward import recipes

    linked = sorted(p.stem for p in (EXAMPLES / "recipes").glob("*.toml"))
    assert linked == sorted(recipes.available())
    for name in linked:
        assert (EXAMPLES / "recipes" / f"{name}.toml").read_text() == recipes.show(name)
