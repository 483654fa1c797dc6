"""The CLI: --version and check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moreward import __version__
from moreward.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "config.toml"


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"moreward {__version__}"


def test_console_script_and_module():
    exe = Path(sys.executable).with_name("moreward")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"moreward {__version__}"
    out = subprocess.run([sys.executable, "-m", "moreward", "check", str(EXAMPLE)], capture_output=True, text=True, check=True).stdout
    assert "(valid)" in out


def test_check_prints_objectives_and_combiner(capsys):
    assert main(["check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "objectives (2):" in out
    assert "answer  type=exact_match  direction=max  extract='answer_tag'" in out
    assert "combiner: WeightedSum(weights={'answer': 1.0, 'format': 0.5})" in out


def test_check_bad_config_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[objectives.a]\ntype = "exact_match"\nextrct = 1\n')
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "config error" in err and "bad.toml" in err and "extrct" in err and "allowed: extract" in err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_check_fuzz(tmp_path, capsys):
    pytest.importorskip("hypothesis")
    assert main(["check", str(EXAMPLE), "--fuzz", "--max-examples", "10"]) == 0
    out = capsys.readouterr().out
    assert "(valid)" in out and "answer" in out and "format" in out


def test_recipes_command(capsys):
    assert main(["recipes", "list"]) == 0
    assert "dapo" in capsys.readouterr().out
    assert main(["recipes", "show", "dapo"]) == 0
    assert "dapo_overlong" in capsys.readouterr().out
