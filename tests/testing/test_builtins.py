"""Every built-in objective passes check_objective: deterministic, within its documented bounds,
picklable, never raising on arbitrary text, thread-safe, leaving its inputs alone.

The names come from the registry, so objectives added later are checked too. A name whose
module is not there yet is skipped; so is one that needs constructor options this table
does not give (the skip says so: add them to OPTIONS).
"""

from __future__ import annotations

from typing import Any

import pytest

from moreward import ConfigError, registry
from moreward.testing import check_objective

# Constructor options for names that need some.
OPTIONS: dict[str, dict[str, Any]] = {
    "regex": {"pattern": r"\d+"},
    "tag_grammar": {
        "tags": {"think": {"min": 1, "max": 1}, "answer": {"min": 1, "max": 1}},
        "order": "<think><answer>",
    },
    "json_structure": {
        "schema": {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    },
    "scheduled": {"objective": {"type": "exact_match"}, "schedule": 0.5},
    "affine": {"objective": {"type": "exact_match"}, "scale": 2.0, "shift": -1.0},
    "column": {"key": "vis"},
}

# Value bounds stated in each objective's docstring; names not listed must give finite values (or None).
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "exact_match": (0, 1),
    "affine": (-1, 1),
    "regex": (0, 1),
    "sub_em": (0, 1),
    "token_f1": (0, 1),
    "math": (0, 1),
    "code": (0, 1),  # mode="pass_rate": the share of tests passed
    "think_answer": (0, 1),
    "think_or_not": (0, 1),
    "tag_grammar": (0, 1),
    "tag_count": (0, 1),
    "reasoning_steps": (0, 1),
    "dapo_overlong": (-1, 0),  # [-penalty_factor, 0]
    "difficulty_budget": (-1, 0),
    "ngram_repetition": (-1, 0),  # [penalty, 0]
    "kimi_length": (-0.5, 0.5),
    "l1_max": (0, 1),
    "l1_exact": (None, 1),  # 1[correct] - alpha*|n_gold - n|: no lower bound
    "cosine_length": (-10, 2),  # demystify preset: correct [1, 2], wrong [-10, 0], exceed -10
}

# Objectives this test does not fuzz, and why.
SKIP_MODULES: dict[str, str] = {
    "moreward.verifiers.judge": "model-based judges need a model or a server",
}

MAX_EXAMPLES = 15


# The built-in names: the registry's table of name -> defining module (so objectives other
# tests register, or third-party plugins, are not swept in).
BUILTINS: dict[str, str] = dict(sorted(registry._BUILTIN_MODULES.items()))


@pytest.mark.parametrize("name", list(BUILTINS))
def test_builtin_objective_passes_check_objective(name: str) -> None:
    for prefix, why in SKIP_MODULES.items():
        if BUILTINS[name].startswith(prefix):
            pytest.skip(f"{name}: {why}")
    try:
        registry.get_factory(name)
    except (ConfigError, ImportError) as exc:  # the module is not there yet
        pytest.skip(f"{name}: not available yet: {exc}")
    try:
        objective = registry.get(name, **OPTIONS.get(name, {}))
    except ConfigError as exc:
        pytest.skip(f"{name}: needs constructor options (add them to OPTIONS): {exc}")
    report = check_objective(
        objective, bounds=BOUNDS.get(name), max_examples=MAX_EXAMPLES, raise_on_failure=False
    )
    assert report.ok, str(report)


def test_the_tables_name_registered_objectives() -> None:
    assert set(OPTIONS) <= set(BUILTINS) and set(BOUNDS) <= set(BUILTINS)
