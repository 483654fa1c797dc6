"""``moreward score``: round trips, gzip, stdin/stdout, errors, --strict, resume after SIGKILL."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moreward.cli import main

from .conftest import write_rollouts

MOREWARD = [sys.executable, "-m", "moreward"]


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh]


def test_round_trip_keeps_input_lines_and_order(tmp_path, config, capsys):
    inp = tmp_path / "in.jsonl"
    rows = write_rollouts(inp, 50)
    out = tmp_path / "out.jsonl"
    assert main(["score", str(inp), "-c", str(config), "-o", str(out), "--chunk-size", "7"]) == 0
    assert "scored 200 line(s), 0 error(s)" in capsys.readouterr().err
    in_lines = inp.read_text(encoding="utf-8").splitlines()
    out_lines = out.read_text(encoding="utf-8").splitlines()
    assert len(out_lines) == len(in_lines)
    for src, dst, row in zip(in_lines, out_lines, rows):
        assert dst.startswith(src[:-1] + ', "moreward": ')  # the input bytes, unchanged
        got = json.loads(dst)
        assert {k: got[k] for k in row} == row
        ok = row["completion"].endswith("<answer>4</answer>")
        fmt = row["completion"].startswith("<think>")
        assert got["moreward"]["reward"] == pytest.approx(1.0 * ok + 0.5 * fmt)
        assert set(got["moreward"]["components"]) == {"answer", "format"}
        assert set(got["moreward"]["components"]["answer"]) == {"value", "verdict", "reason"}
    assert not (tmp_path / "out.errors.jsonl").read_text()
    assert not list(tmp_path.glob("*.moreward-resume.json"))


def test_gzip_in_and_out(tmp_path, config):
    inp = tmp_path / "in.jsonl"
    write_rollouts(inp, 20)
    gz_in = tmp_path / "in.jsonl.gz"
    gz_in.write_bytes(gzip.compress(inp.read_bytes()))
    plain, gz_out = tmp_path / "plain.jsonl", tmp_path / "out.jsonl.gz"
    assert main(["score", str(inp), "-c", str(config), "-o", str(plain)]) == 0
    assert main(["score", str(gz_in), "-c", str(config), "-o", str(gz_out)]) == 0
    assert gzip.decompress(gz_out.read_bytes()) == plain.read_bytes()


def test_stdin_stdout_and_errors_on_stderr(tmp_path, config):
    inp = tmp_path / "in.jsonl"
    write_rollouts(inp, 3)
    data = inp.read_bytes() + b"{broken\n"
    proc = subprocess.run([*MOREWARD, "score", "-", "-c", str(config), "-o", "-"], input=data, capture_output=True, check=True)
    out = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert len(out) == 12 and all("moreward" in r for r in out)
    err_lines = [json.loads(x) for x in proc.stderr.decode().splitlines() if x.startswith("{")]
    assert err_lines == [{"line": 13, "reason": err_lines[0]["reason"], "input": "{broken"}]
    assert "invalid JSON" in err_lines[0]["reason"]
    assert b"scored 12 line(s), 1 error(s)" in proc.stderr


def test_errors_file_contents_and_strict(tmp_path, config, capsys):
    inp = tmp_path / "in.jsonl"
    good = json.dumps({"completion": "<think>a</think><answer>4</answer>", "reference": "4"})
    inp.write_bytes(
        b"\n".join(
            [
                good.encode(),
                b"not json",
                b"",
                b"[1, 2]",
                json.dumps({"reference": "4"}).encode(),
                json.dumps({"completion": 7}).encode(),
                b'{"completion": "caf\xff"}',
                json.dumps({"completion": "x", "tokens": "many"}).encode(),
                good.encode(),  # no trailing newline on the last line
            ]
        )
    )
    out, errs = tmp_path / "out.jsonl", tmp_path / "errs.jsonl"
    assert main(["score", str(inp), "-c", str(config), "-o", str(out), "--errors", str(errs)]) == 0
    assert "scored 2 line(s), 6 error(s), 1 blank line(s) skipped" in capsys.readouterr().err
    assert len(read_jsonl(out)) == 2
    records = read_jsonl(errs)
    assert [r["line"] for r in records] == [2, 4, 5, 6, 7, 8]
    reasons = [r["reason"] for r in records]
    assert reasons[0].startswith("invalid JSON")
    assert reasons[1] == "a line must be a JSON object, got list"
    assert "missing field 'completion'" in reasons[2]
    assert "must be a string or a list of chat messages" in reasons[3]
    assert reasons[4] == "not valid UTF-8 at byte 19"
    assert "'tokens' (tokens) must be an integer" in reasons[5]
    assert records[0]["input"] == "not json"
    assert main(["score", str(inp), "-c", str(config), "-o", str(out), "--errors", str(errs), "--strict"]) == 1


def test_empty_file_and_huge_line(tmp_path, config):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    out = tmp_path / "out.jsonl"
    assert main(["score", str(empty), "-c", str(config), "-o", str(out)]) == 0
    assert out.read_bytes() == b""
    big = tmp_path / "big.jsonl"
    completion = "<think>" + "x" * (50 * 1024 * 1024) + "</think><answer>4</answer>"
    big.write_text(json.dumps({"completion": completion, "reference": "4"}) + "\n")
    assert main(["score", str(big), "-c", str(config), "-o", str(out)]) == 0
    (row,) = read_jsonl(out)
    assert row["moreward"]["reward"] == 1.5 and len(row["completion"]) == len(completion)


def test_chat_completions_and_existing_moreward_key(tmp_path, config):
    inp = tmp_path / "in.jsonl"
    rows = [
        {"completion": [{"role": "assistant", "content": "<think>a</think><answer>4</answer>"}], "reference": "4"},
        {"completion": "<think>a</think><answer>5</answer>", "reference": "4", "moreward": {"reward": 9}},
    ]
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    assert main(["score", str(inp), "-c", str(config), "-o", str(out)]) == 0
    got = read_jsonl(out)
    assert got[0]["moreward"]["reward"] == 1.5
    assert got[1]["moreward"]["reward"] == 0.5 and list(got[1]).count("moreward") == 1


def test_workers_give_identical_output(tmp_path, config):
    inp = tmp_path / "in.jsonl"
    write_rollouts(inp, 300)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["score", str(inp), "-c", str(config), "-o", str(a), "--chunk-size", "16"]) == 0
    assert main(["score", str(inp), "-c", str(config), "-o", str(b), "--chunk-size", "16", "--workers", "2"]) == 0
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_resume_after_sigkill_is_byte_identical(tmp_path, config, suffix):
    inp = tmp_path / "in.jsonl"
    write_rollouts(inp, 25_000, seed=3)
    with open(inp, "ab") as fh:
        fh.write(b"broken line\n")
    write_rollouts(tmp_path / "tail.jsonl", 10, seed=4)
    with open(inp, "ab") as fh:
        fh.write((tmp_path / "tail.jsonl").read_bytes())
    ref, out = tmp_path / f"ref{suffix}", tmp_path / f"out{suffix}"
    args = ["score", str(inp), "-c", str(config), "--chunk-size", "64"]
    subprocess.run([*MOREWARD, *args, "-o", str(ref)], check=True, capture_output=True)
    state = Path(str(out) + ".moreward-resume.json")
    rng = random.Random()
    for _attempt in range(5):
        proc = subprocess.Popen([*MOREWARD, *args, "-o", str(out)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if state.exists():
            break
    else:
        pytest.fail("could not kill the run while it was in progress")
    killed_size = out.stat().st_size
    assert killed_size < ref.stat().st_size
    proc = subprocess.run([*MOREWARD, *args, "-o", str(out), "--resume"], capture_output=True, text=True, check=True)
    assert "resumed after line" in proc.stderr
    assert out.read_bytes() == ref.read_bytes()
    ref_err = Path(str(ref).replace(suffix, ".errors.jsonl"))
    out_err = Path(str(out).replace(suffix, ".errors.jsonl"))
    assert out_err.read_bytes() == ref_err.read_bytes() and b"broken line" in out_err.read_bytes()
    assert not state.exists()


def test_resume_refuses_another_config(tmp_path, config):
    out = tmp_path / "out.jsonl"
    Path(str(out) + ".moreward-resume.json").write_text(
        json.dumps({"config": "other", "chunk_size": 256, "lines_done": 1, "out_bytes": 0, "err_bytes": 0, "stats": {}})
    )
    inp = tmp_path / "in.jsonl"
    write_rollouts(inp, 1)
    assert main(["score", str(inp), "-c", str(config), "-o", str(out), "--resume"]) == 2


def test_usage_errors(tmp_path, config, capsys):
    inp = tmp_path / "in.jsonl"
    write_rollouts(inp, 1)
    assert main(["score", str(inp), "-c", str(config), "-o", "-", "--resume"]) == 2
    assert "--resume needs an output file" in capsys.readouterr().err
    assert main(["score", str(tmp_path / "missing.jsonl"), "-c", str(config), "-o", str(tmp_path / "o.jsonl")]) == 1
    assert "missing.jsonl" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["score", str(inp), "-c", str(config), "-o", "x", "--workers", "0"])


def test_ray_backend_matches_local(tmp_path, config):
    pytest.importorskip("ray.data")
    inp = tmp_path / "in.jsonl"
    write_rollouts(inp, 40)
    with open(inp, "ab") as fh:
        fh.write(b"oops\n")
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert main(["score", str(inp), "-c", str(config), "-o", str(local), "--chunk-size", "8"]) == 0
    env = dict(os.environ, RAY_ENABLE_UV_RUN_RUNTIME_ENV="0")
    subprocess.run(
        [*MOREWARD, "score", str(inp), "-c", str(config), "-o", str(remote), "--chunk-size", "8", "--backend", "ray"],
        check=True, capture_output=True, env=env, timeout=240,
    )
    assert remote.read_bytes() == local.read_bytes()
    assert (tmp_path / "ray.errors.jsonl").read_bytes() == (tmp_path / "local.errors.jsonl").read_bytes()
