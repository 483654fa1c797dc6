"""Registry: register, get with option checks, close-match errors, entry points."""

from __future__ import annotations

import pickle
from importlib import metadata

import pytest

from moreward import BaseObjective, ConfigError, Sample, Score, UnknownObjectiveError, registry


def test_builtins_available_without_import():
    names = registry.available()
    assert {"exact_match", "regex", "math"} <= set(names)
    assert names == sorted(names)


def test_unknown_name_lists_close_matches():
    with pytest.raises(UnknownObjectiveError) as info:
        registry.get("exact_mach")
    msg = str(info.value)
    assert "'exact_match'" in msg and "did you mean" in msg
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)


def test_unknown_option_names_allowed():
    with pytest.raises(ConfigError, match=r"unknown option\(s\) 'bogus'.*allowed: extract"):
        registry.get("exact_match", bogus=1)


def test_bad_value_is_config_error():
    with pytest.raises(ConfigError, match="allowed: full, answer_tag, last_line"):
        registry.get("exact_match", extract="middle")


def test_register_and_conflict():
    @registry.register("test_always_one")
    class AlwaysOne(BaseObjective):
        name = "test_always_one"

        def score(self, sample: Sample) -> Score:
            return Score.from_bool(True)

    assert isinstance(registry.get("test_always_one"), AlwaysOne)
    with pytest.raises(ConfigError, match="already registered"):
        registry.register("test_always_one")(type("Other", (BaseObjective,), {}))
    with pytest.raises(ConfigError, match="identifiers"):
        registry.register("bad name")


def test_entry_point_plugin(monkeypatch):
    ep = metadata.EntryPoint(name="plugin_upper", value="tests_plugin_mod:Upper", group=registry.ENTRY_POINT_GROUP)
    broken = metadata.EntryPoint(name="plugin_broken", value="no_such_module_xyz:Thing", group=registry.ENTRY_POINT_GROUP)

    import sys
    import types

    mod = types.ModuleType("tests_plugin_mod")

    class Upper(BaseObjective):
        name = "plugin_upper"

        def score(self, sample: Sample) -> Score:
            return Score.from_bool(sample.completion.isupper())

    mod.Upper = Upper  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tests_plugin_mod", mod)
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group: [ep, broken])
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(registry, "_factories", dict(registry._factories))
    assert "plugin_upper" in registry.available()
    assert registry.get("plugin_upper").score(Sample("ABC")).passed
    with pytest.raises(ConfigError, match=r"plugin_broken.*failed to load"):
        registry.get("plugin_broken")


@pytest.mark.parametrize("name,opts", [("exact_match", {"extract": "answer_tag"}), ("regex", {"pattern": r"\d+", "flags": "i"})])
def test_builtin_objectives_pickle(name, opts):
    obj = registry.get(name, **opts)
    clone = pickle.loads(pickle.dumps(obj))
    assert clone == obj and clone.name == name == clone.__name__
    s = Sample("<answer>42</answer>", reference="42")
    assert clone.score(s) == obj.score(s)
