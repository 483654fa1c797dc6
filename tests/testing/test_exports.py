"""The public names of moreward.testing and its strategies resolve, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import moreward.testing
from moreward.testing import strategies


def test_all_resolves() -> None:
    for module in (moreward.testing, strategies):
        assert len(module.__all__) == len(set(module.__all__))  # the order is ruff's (RUF022)
        for name in module.__all__:
            assert getattr(module, name) is not None, name
    assert set(moreward.testing.__all__) <= set(dir(moreward.testing))


def test_import_is_light() -> None:
    code = (
        "import sys, moreward.testing, moreward.testing.plugin; "
        "print(sorted(m for m in ('hypothesis', 'yaml', 'sympy', 'math_verify', 'torch', 'moreward.testing.cases') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
