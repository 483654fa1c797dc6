"""moocore's ``immutable_call`` idea: every public function and combiner runs on read-only
inputs (numpy raises if anything writes to them) and leaves them unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import moreward.pareto as P


def _frozen(a):
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


R = _frozen([[1.0, 0.0, 2.0], [0.0, np.nan, 1.0], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5], [1.0, 0.0, 2.0]])
G = _frozen([0, 0, 1, 1, 1])
MX = _frozen([True, False, True])
REF = _frozen([-1.0, 3.0, -1.0])
CALLS = {
    "is_nondominated": lambda: P.is_nondominated(R, G, maximise=MX),
    "pareto_rank": lambda: P.pareto_rank(R, G, maximise=MX),
    "crowding_distance": lambda: P.crowding_distance(R, G, maximise=MX),
    "hypervolume": lambda: P.hypervolume(R, ref=REF, maximise=MX),
    "hv_contributions": lambda: P.hv_contributions(R, G, ref=REF, maximise=MX),
    "hv_contributions_moocore": lambda: P.hv_contributions(R, G, ref=REF, maximise=MX, backend="auto"),
    "igd_plus": lambda: P.igd_plus(R, ref=R, maximise=MX),
    "spread": lambda: P.spread(R, ref=R, maximise=MX),
    "group_zscore": lambda: P.group_zscore(R[:, 0], G),
    "min_norm_weights": lambda: P.min_norm_weights(_frozen(np.eye(3)), active=_frozen([True, True, False])),
    "diagnose": lambda: P.diagnose(R, _frozen([1.0, 2.0, 3.0, 4.0, 5.0]), G, maximise=MX),
    **{
        f"combiner {name}": (lambda name=name: P.get_combiner(name)(R, G, maximise=MX))
        for name in P.available_combiners()
    },
    **{
        f"diagnostics {name}": (lambda name=name: P.get_combiner(name).diagnostics(R, G, maximise=MX))
        for name in P.available_combiners()
    },
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_inputs_are_not_mutated(name):
    before = [a.copy() for a in (R, G, MX, REF)]
    CALLS[name]()
    for a, b in zip((R, G, MX, REF), before):
        assert np.array_equal(a, b, equal_nan=True)


def test_tracker_and_schedulers_copy_their_inputs():
    X = _frozen([[0.2, 0.5], [0.4, 0.1]])
    t = P.FrontTracker(ref=[0, 0])
    t.record(0, X)
    t.report()
    for name in P.available_schedulers():
        opts = {"ref": [0.0, 0.0]} if name == "hypervolume" else {}
        s = P.get_scheduler(name, **opts)
        w = s.weights_for(X, _frozen([0, 0]))
        s.observe(X, _frozen([0, 0]), rewards=_frozen([1.0, 0.0]))
        assert w.shape == (2,)
    assert np.array_equal(X, [[0.2, 0.5], [0.4, 0.1]])
