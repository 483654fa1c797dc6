"""Shared integration helpers, and the public names of every integration module."""

from __future__ import annotations

import importlib

import pytest

from moreward import ConfigError, InputError
from moreward.integrations import as_pipeline
from moreward.integrations._common import check_on_missing, check_whole_groups, hashable, prompt_groups

from .helpers import CONFIG_TOML

MODULES = [
    "moreward.integrations",
    "moreward.integrations._common",
    "moreward.integrations.trl",
    "moreward.integrations.verl",
    "moreward.integrations.openrlhf",
    "moreward.integrations.verifiers_env",
    "moreward.integrations.reasoning_gym",
    "moreward.server",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_and_are_unique(name):
    if name.endswith("reasoning_gym"):
        pytest.importorskip("reasoning_gym")
    module = importlib.import_module(name)
    assert all(hasattr(module, n) for n in module.__all__)
    assert len(module.__all__) == len(set(module.__all__))


def test_integrations_do_not_import_trainers():
    import subprocess
    import sys

    code = (
        "import sys, moreward.integrations.trl, moreward.integrations.verl, moreward.integrations.openrlhf, "
        "moreward.integrations.verifiers_env, moreward.server; "
        "print(sorted(m for m in ('torch', 'trl', 'verl', 'verifiers', 'starlette', 'uvicorn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_prompt_groups():
    assert prompt_groups(["a", "a", "b", "b", "a", "a"]) == [0, 0, 1, 1, 2, 2]
    assert prompt_groups(["a"] * 4, group_size=2) == [0, 0, 1, 1]
    chat = [[{"role": "user", "content": "x"}]] * 2
    assert prompt_groups(chat) == [0, 0]


def test_check_whole_groups():
    check_whole_groups([0, 0, 1, 1], 2, "f")
    check_whole_groups([0, 0, 1, 1], None, "f")
    with pytest.raises(InputError, match="group 1 has 1 rollout"):
        check_whole_groups([0, 0, 1], 2, "f")


def test_check_on_missing():
    assert check_on_missing("raise") == "raise"
    assert check_on_missing("-1") == -1.0 and check_on_missing(0) == 0.0
    for bad in ("skip", float("nan"), True, None):
        with pytest.raises(ConfigError):
            check_on_missing(bad)


def test_hashable():
    assert hashable([1, {"b": 1, "a": 2}]) == '[1, {"a": 2, "b": 1}]'
    assert hashable("g") == "g"


def test_as_pipeline_caches_by_file_and_rebuilds_on_change(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(CONFIG_TOML)
    first = as_pipeline(path)
    assert as_pipeline(str(path)) is first
    path.write_text(CONFIG_TOML.replace("em = 1.0", "em = 2.0") + "\n")
    assert as_pipeline(path) is not first
    with pytest.raises(ConfigError):
        as_pipeline(42)  # type: ignore[arg-type]
