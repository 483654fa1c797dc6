"""The public namespace: ``__all__`` matches what the package exposes, and import stays light."""

from __future__ import annotations

import subprocess
import sys
import types

import moreward
import moreward.errors


def test_all_matches_namespace():
    public = {
        n for n in dir(moreward) if not n.startswith("_") and not isinstance(getattr(moreward, n), types.ModuleType)
    }
    assert public | {"__version__"} == set(moreward.__all__)
    for name in moreward.__all__:
        assert getattr(moreward, name) is not None


def test_all_is_sorted_and_unique():
    assert list(moreward.__all__) == sorted(set(moreward.__all__))


def test_errors_all_and_tree():
    from moreward import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.MorewardError)
        assert name in errors.__doc__, f"{name} missing from the drawn exception tree"
    assert issubclass(errors.ConfigError, ValueError)
    assert issubclass(errors.UnknownObjectiveError, errors.ConfigError)
    assert issubclass(errors.MissingExtraError, ImportError)


def test_import_is_light():
    code = "import sys, moreward; print(sorted(m for m in ('sympy','torch','moreward.runtime','math_verify') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_is_package_version():
    from importlib.metadata import version

    assert moreward.__version__ == version("moreward")
