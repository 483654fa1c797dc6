"""Infinite objective values: a clear error, never NaN from one backend and a crash in another.

moocore 0.3.2 segfaults on an infinite coordinate and the numpy kernels return NaN, so
the guard has to sit in front of every backend.
"""

from __future__ import annotations

import numpy as np
import pytest

from moreward.pareto import hv_contributions, hypervolume


@pytest.mark.parametrize("backend", ["auto", "numpy"])
@pytest.mark.parametrize("k", [2, 3, 4])
def test_best_possible_infinity_is_an_error_naming_the_cell(backend, k):
    R = np.ones((3, k))
    R[1, k - 1] = np.inf
    with pytest.raises(ValueError, match=rf"row 1, objective {k - 1} is inf"):
        hv_contributions(R, ref=np.zeros(k), backend=backend)
    with pytest.raises(ValueError, match="finite"):
        hypervolume(R, ref=np.zeros(k), backend=backend)


def test_minus_infinity_of_a_minimised_objective_is_the_best_value_too():
    with pytest.raises(ValueError, match=r"row 0, objective 1 is -inf"):
        hv_contributions([[1.0, -np.inf], [2.0, 2.0]], ref=[0.0, 5.0], maximise=[True, False])


def test_worst_possible_infinity_just_has_no_volume():
    c = hv_contributions([[1.0, -np.inf], [2.0, 2.0]], ref=[0.0, 0.0])
    assert c.tolist() == [0.0, 4.0]


def test_reference_point_must_be_finite():
    with pytest.raises(ValueError, match="ref must be finite"):
        hv_contributions([[1.0, 2.0]], ref=[0.0, -np.inf])
