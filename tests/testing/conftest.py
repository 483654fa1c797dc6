"""Shared set-up of the moreward.testing tests: pytester, and how to load the plugin in a child run."""

from __future__ import annotations

from importlib import metadata

import hypothesis  # noqa: F401 - imported once here, so in-process child runs do not import it again
import pytest

from moreward.testing import plugin

pytest_plugins = ["pytester"]


def _entry_point_installed() -> bool:
    return any(
        ep.name == "moreward" and ep.value == "moreward.testing.plugin"
        for ep in metadata.entry_points(group="pytest11")
    )


# Once the pytest11 entry point is installed the plugin loads by itself; naming it again
# with -p would register the module twice.
PLUGIN_ARGS: tuple[str, ...] = () if _entry_point_installed() else ("-p", "moreward.testing.plugin")

# The project's own strictness, for child pytest runs in a temporary directory.
INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider
filterwarnings =
    error
    ignore::DeprecationWarning:antlr4.*
"""


@pytest.fixture
def mpytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester whose directory has the project's strict ini."""
    pytester.makeini(INI)
    return pytester


class Runner:
    """Runs pytest with the moreward plugin loaded, in a subprocess or (for cheap runs) in-process."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester

    def sub(self, *args: str, hypothesis_plugin: bool = False) -> pytest.RunResult:
        # Without hypothesis's plugin the child skips importing hypothesis (seconds, as pytest
        # rewrites the asserts of a plugin's whole distribution), unless its tests need it.
        extra = () if hypothesis_plugin else ("-p", "no:hypothesispytest")
        return self.pytester.runpytest_subprocess(*PLUGIN_ARGS, *extra, *args)

    def inproc(self, *args: str) -> pytest.RunResult:
        # The module object itself: "-p" would re-import it and warn that it cannot be rewritten.
        plugins = [plugin] if PLUGIN_ARGS else []
        return self.pytester.runpytest_inprocess(*args, plugins=plugins)


@pytest.fixture
def run(mpytester: pytest.Pytester) -> Runner:
    """Run pytest with the moreward plugin in ``mpytester``'s directory."""
    return Runner(mpytester)
