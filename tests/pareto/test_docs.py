"""The examples in the docstrings of moreward.pareto run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import moreward.pareto as P

MODULES = sorted(info.name for info in pkgutil.iter_modules(P.__path__))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module(f"moreward.pareto.{name}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
