"""Front tracking, IGD+ and spread, and the PNG plots."""

from __future__ import annotations

import sys

import moreward_pareto_ref as ref
import numpy as np
import pytest

from moreward.errors import MissingExtraError
from moreward.pareto import FrontTracker, hypervolume, igd_plus, plot_front, spread

HAS_MPL = ref.installed("matplotlib")


@ref.needs_moocore
def test_igd_plus_equals_moocore():
    import moocore

    rng = np.random.default_rng(0)
    for _ in range(20):
        A, Z = rng.random((6, 3)), rng.random((5, 3))
        mx = [bool(b) for b in rng.random(3) < 0.5]
        assert np.isclose(igd_plus(A, ref=Z, maximise=mx), moocore.igd_plus(A, ref=Z, maximise=mx))


def test_igd_plus_and_spread_values():
    Z = np.array([[0, 2], [1, 1], [2, 0]], float)
    assert igd_plus(Z, ref=Z) == 0.0
    assert igd_plus([[0, 0]], ref=[[1, 0]]) == 1.0
    assert igd_plus(np.zeros((0, 2)), ref=Z) == np.inf
    assert spread(Z) == 0.0 and spread(Z, ref=Z) == 0.0
    assert spread([[0, 2], [0.2, 1.8], [2, 0]]) > 0.3  # clustered
    assert spread([[0, 2], [1, 1]], ref=[[0, 3], [3, 0]]) > 0.0  # misses the extremes
    assert np.isnan(spread([[1, 1]]))


def test_tracker_reports():
    t = FrontTracker(ref=[0, 1000], maximise=[True, False], names=["acc", "tokens"])
    t.record(0, [[0.2, 800], [0.4, 900], [0.1, 950]])
    t.record(100, [[0.5, 600]])
    t.record(100, [0.6, 700])  # one vector; appends
    t.record("final", [[0.7, 500]])
    rows = t.report()
    assert [r.step for r in rows] == [0, 100, "final"] == t.steps
    assert rows[0].n_points == 3 and rows[0].n_nondominated == 2
    assert rows[1].hypervolume == pytest.approx(
        hypervolume([[0.5, 600], [0.6, 700]], ref=[0, 1000], maximise=[True, False])
    )
    assert rows[-1].igd_plus == 0.0  # the last step is the whole reference front
    assert rows[0].igd_plus > rows[1].igd_plus
    assert np.allclose(t.reference(), [[0.7, 500]])
    with pytest.raises(ValueError, match="2 objectives"):
        t.record(5, [[1, 2, 3]])


@pytest.mark.skipif(not HAS_MPL, reason="matplotlib not installed")
def test_plot_front_writes_pngs(tmp_path):
    rng = np.random.default_rng(1)
    t = FrontTracker(ref=[0, 0, 0, 0], names=["acc", "fmt", "brevity", "judge"])
    for step in (0, 50, 100):
        t.record(step, rng.random((10, 4)) * (1 + step / 100))
    paths = t.plot(tmp_path)
    assert [p.name for p in paths] == ["front_scatter.png", "front_hypervolume.png", "front_parallel.png"]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    two = FrontTracker(ref=[0, 0])
    two.record("a", [[1, 2], [2, 1]])
    assert len(plot_front(two, tmp_path / "sub", prefix="x")) == 2


def test_missing_matplotlib_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    t = FrontTracker(ref=[0, 0])
    t.record(0, [[1, 1]])
    with pytest.raises(MissingExtraError, match=r"moreward\[pareto\]"):
        plot_front(t, tmp_path)
