"""Fixtures for the runtime tests.

The job functions live in ``_jobs.py``, registered here as the module
``moreward_rt_jobs`` (pytest runs in importlib mode, so test modules are not
importable by name, and worker processes could not load functions defined
in them cheaply).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_NAME = "moreward_rt_jobs"
if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, Path(__file__).with_name("_jobs.py"))
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _module
    _spec.loader.exec_module(_module)

from moreward.runtime import WorkerPool  # noqa: E402


@pytest.fixture(scope="module")
def pool():
    """A two-worker pool shared by the tests of one module."""
    with WorkerPool(2, name="test") as p:
        assert p.wait_ready(30)
        yield p
