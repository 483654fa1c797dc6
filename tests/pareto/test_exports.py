"""``__all__`` of moreward.pareto and of each of its modules matches what they define."""

from __future__ import annotations

import importlib
import pkgutil
import types

import moreward.pareto as P


def test_package_all_matches_namespace():
    public = {n for n in dir(P) if not n.startswith("_") and not isinstance(getattr(P, n), types.ModuleType)}
    assert public == set(P.__all__)
    assert len(P.__all__) == len(set(P.__all__))


def test_every_module_has_an_accurate_all():
    for info in pkgutil.iter_modules(P.__path__):
        mod = importlib.import_module(f"moreward.pareto.{info.name}")
        assert hasattr(mod, "__all__"), info.name
        for name in mod.__all__:
            assert name.isupper() or getattr(mod, name).__module__ == mod.__name__, (info.name, name)
        if not info.name.startswith("_"):
            exported = set(mod.__all__) - {"DEFAULT_COMBINER"}
            assert exported & set(P.__all__) or info.name == "combiners", info.name


def test_importing_pareto_is_light():
    import subprocess
    import sys

    code = "import sys, moreward.pareto; print(sorted(m for m in ('matplotlib', 'moocore', 'pymoo', 'numba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
