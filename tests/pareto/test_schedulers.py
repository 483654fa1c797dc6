"""Weight schedulers and the ``scheduled`` combiner."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from moreward.errors import ConfigError
from moreward.pareto import (
    CorrelationWeights,
    Decoupled,
    HypervolumeWeights,
    Scheduled,
    StaticWeights,
    VarianceWeights,
    available_schedulers,
    get_combiner,
    get_scheduler,
)


def _batch(seed=0, n_groups=8, G=4):
    rng = np.random.default_rng(seed)
    R = np.column_stack([rng.integers(0, 2, n_groups * G), rng.random(n_groups * G) * 0.1])
    return R, np.repeat(np.arange(n_groups), G)


def test_registry():
    assert available_schedulers() == ["ctwa", "hypervolume", "static", "variance"]
    with pytest.raises(ConfigError, match="allowed: ctwa"):
        get_scheduler("nope")
    with pytest.raises(ConfigError):
        get_scheduler("variance", mode="entropy")


def test_static():
    s = StaticWeights(weights={"a": 2.0})
    assert s.weights_for(np.ones((2, 2)), names=["a", "b"]).tolist() == [2.0, 1.0]
    assert len(s.history) == 1


def test_variance_weights_follow_in_group_variance():
    R, g = _batch()
    s = VarianceWeights(momentum=0.0)
    w = s.weights_for(R, g)
    var = [np.mean([R[g == i, j].var(ddof=1) for i in range(8)]) for j in range(2)]
    assert np.allclose(w, 2 * np.array(var) / sum(var))
    inv = VarianceWeights(momentum=0.0, power=-1.0).weights_for(R, g)
    assert inv[1] > inv[0]
    cv = VarianceWeights(mode="cv", momentum=0.0).weights_for(R, g)
    assert cv.shape == (2,) and np.isclose(cv.sum(), 2)
    flat = VarianceWeights().weights_for(np.ones((4, 2)), [0, 0, 1, 1])
    assert flat.tolist() == [1.0, 1.0]  # no variance anywhere: the base weights


def test_ctwa_raises_weight_of_uncorrelated_objective():
    R, g = _batch(1)
    s = CorrelationWeights(eta=1.0, target=0.5, momentum=0.0)
    w0 = s.weights_for(R, g)
    rewards = R[:, 0]  # the signal follows objective 0 only
    s.observe(R, g, rewards=rewards)
    w1 = s.weights_for(R, g)
    assert w0.tolist() == [1.0, 1.0]
    assert w1[1] > w1[0] and np.isclose(w1.sum(), 2.0)


def test_hypervolume_weights_scale_with_progress():
    s = HypervolumeWeights(ref=[0.0, 0.0])
    first = s.weights_for(np.array([[0.5, 0.5]]))
    stalled = s.weights_for(np.array([[0.5, 0.5]]))  # no progress: the floor
    better = s.weights_for(np.array([[0.9, 0.9]]))
    assert np.allclose(stalled, 0.5) and better[0] > 0.5 and np.allclose(first, 0.5 + 1.5 * np.tanh(0.25))


def test_scheduled_combiner():
    R, g = _batch(2)
    c = get_combiner(
        "scheduled", combiner="decoupled", scheduler="static", scheduler_options={"weights": [2, 1]}
    )
    assert np.allclose(c(R, g), Decoupled(weights=[2, 1])(R, g))
    c = Scheduled(scheduler="ctwa")
    for _ in range(3):
        c(R, g)
    assert len(c.weight_scheduler.history) == 3
    assert pickle.loads(pickle.dumps(c)) == c
    with pytest.raises(ConfigError):
        Scheduled(combiner="pareto_rank")  # takes no weights
    with pytest.raises(ConfigError, match="scheduler_options"):
        Scheduled(combiner_options={"weights": [1, 1]})
