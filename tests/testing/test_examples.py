"""The user-copyable example folder ``examples/reward_tests`` passes, run from a copy of it
(as a user would), under the project's strict settings. This is how ``make test`` runs it:
the project's ``testpaths`` is ``tests``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "reward_tests"


def test_example_folder_passes_from_a_copy(run, mpytester: pytest.Pytester) -> None:
    assert (EXAMPLE / "test_rewards.py").is_file(), EXAMPLE
    shutil.copytree(
        EXAMPLE, mpytester.path / "reward_tests", ignore=shutil.ignore_patterns("__pycache__", ".*")
    )
    result = run.sub("reward_tests", "-v", "-rs")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 25 and "failed" not in outcomes and "errors" not in outcomes
    result.stdout.fnmatch_lines(
        [
            "*reward_cases_answer.yaml::right-city PASSED*",
            "*reward_cases_format.toml::well-formed PASSED*",
            "*reward_cases_pipeline.jsonl::right-and-well-formed PASSED*",
            "*test_rewards.py::test_conciseness_is_a_well_behaved_reward PASSED*",
        ]
    )
