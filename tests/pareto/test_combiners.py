"""The combiners: formulas, documented edge cases, missing values, registry contract."""

from __future__ import annotations

import pickle

import moreward_pareto_ref as ref
import numpy as np
import pytest

from moreward.errors import ConfigError
from moreward.pareto import (
    DEFAULT_COMBINER,
    PBI,
    Combiner,
    Decoupled,
    Diagnostics,
    Gated,
    HVContribution,
    MinNorm,
    ParetoRank,
    Tchebycheff,
    WeightedSum,
    available_combiners,
    get_combiner,
    group_zscore,
    min_norm_weights,
)

ALL = sorted(available_combiners())
EXPECTED = {
    "weighted_sum", "decoupled", "gated", "tchebycheff", "pbi", "min_norm",
    "pareto_rank", "hv_contribution", "scheduled",
}  # fmt: skip


def test_registry_and_default():
    assert set(ALL) == EXPECTED
    assert DEFAULT_COMBINER == "decoupled"
    assert isinstance(get_combiner(), Decoupled)
    with pytest.raises(ConfigError, match="allowed: decoupled"):
        get_combiner("nope")
    with pytest.raises(ConfigError, match="pareto_rank"):
        get_combiner("pareto_rank", weights=[1, 2])  # rank-based methods take no weights


@pytest.mark.parametrize("name", ALL)
def test_picklable_equal_repr(name):
    c = get_combiner(name)
    clone = pickle.loads(pickle.dumps(c))
    assert clone == c and repr(clone) == repr(c) and type(c).__name__ in repr(c)
    assert isinstance(c, Combiner) and c.name == name


@pytest.mark.parametrize("name", ALL)
def test_edge_cases(name):
    c = get_combiner(name)
    assert c(np.zeros((0, 2))).shape == (0,)  # empty input
    assert np.isnan(c(np.zeros((3, 0)))).all()  # no objectives: no reward
    one = c(np.array([[0.3, 0.7]]))  # one rollout in its group
    assert one.shape == (1,) and np.isfinite(one).all()
    same = c(np.tile([[0.3, 0.7]], (4, 1)), [0, 0, 0, 0])  # all-equal group
    assert np.ptp(same) == 0
    k1 = c(np.array([[0.0], [1.0], [2.0], [1.0]]))  # one objective: ordered by it
    assert k1[0] < k1[1] == k1[3] < k1[2]
    if name not in ("weighted_sum", "gated"):  # group-relative methods: no signal at all
        assert one[0] == 0.0 and (same == 0.0).all()


@pytest.mark.parametrize("name", ALL)
def test_all_missing_row_gets_nan_and_others_do_not(name):
    R = np.array([[1.0, 0.0], [np.nan, np.nan], [0.0, np.nan], [0.5, 0.5]])
    out = get_combiner(name)(R, [0, 0, 0, 0])
    assert np.isnan(out[1]) and np.isfinite(out[[0, 2, 3]]).all()


@pytest.mark.parametrize("name", ALL)
def test_diagnostics(name):
    R = np.array([[0, 1], [1, 0], [1, 1], [0, 0], [1, 1], [1, 1]], float)
    d = get_combiner(name).diagnostics(R, [0, 0, 1, 1, 2, 2])
    assert isinstance(d, Diagnostics) and d.n_groups == 3 and d.n_rollouts == 6
    assert d.nondominated_share == pytest.approx(5 / 6)  # copies are not dominated
    assert d.zero_variance_share == pytest.approx(2 / 6)
    assert d.distinct_rewards == pytest.approx((1 + 2 + 1) / 3)  # (0, 1) ~ (1, 0) for all
    assert set(d.as_dict()) >= {"distinct_rewards", "nondominated_share", "zero_variance_share"}


# ------------------------------------------------------------------ decoupled
def _collapse_batch():
    """Two binary rewards, G = 2: groups whose summed rewards are (0,1), (0,2), (1,2)."""
    R = np.array([[0, 0], [1, 0], [0, 0], [1, 1], [1, 0], [1, 1]], float)
    return R, [0, 0, 1, 1, 2, 2]


def test_collapse_example_summed_baseline_collapses_decoupled_does_not():
    R, g = _collapse_batch()
    grpo = group_zscore(WeightedSum()(R), g)
    assert np.allclose(np.abs(grpo), 1 / np.sqrt(2), atol=1e-5)  # all (-0.707, 0.707)
    assert len(np.unique(np.round(grpo, 6))) == 2
    A = Decoupled()(R, g)
    assert len(np.unique(np.round(A, 6))) == 4
    assert A[3] > A[1]  # improving both objectives beats improving one
    assert np.allclose(A, [-0.707, 0.707, -1.414, 1.414, -0.707, 0.707], atol=1e-3)


def test_decoupled_formula_weights_and_directions():
    rng = np.random.default_rng(0)
    R = rng.random((12, 3))
    g = np.repeat([0, 1, 2], 4)
    w = {"acc": 2.0, "fmt": 0.5, "len": 1.0}
    A = Decoupled(weights=w, eps=0)(R, g, maximise=[True, True, False], names=["acc", "fmt", "len"])
    want = np.zeros(12)
    for gid in range(3):
        rows = g == gid
        Z = (R[rows] - R[rows].mean(0)) / R[rows].std(0, ddof=1)
        want[rows] = Z @ np.array([2.0, 0.5, -1.0])
    assert np.allclose(A, want)
    B = Decoupled(batch_norm=True)(R, g)
    assert abs(B.mean()) < 1e-12 and np.isclose(B.std(), 1.0, atol=1e-5)


def test_decoupled_missing_values_add_nothing():
    R = np.array([[1.0, 0.0], [0.0, np.nan], [0.5, 1.0]])
    A = Decoupled(eps=0)(R)
    z0 = (R[:, 0] - R[:, 0].mean()) / R[:, 0].std(ddof=1)
    z1 = np.array([-1, 0, 1]) / np.std([0.0, 1.0], ddof=1) * 0.5  # mean/std of the present values
    assert np.allclose(A, z0 + z1)


def test_group_zscore():
    assert np.allclose(
        group_zscore([0, 1, 5, 5, np.nan], [0, 0, 1, 1, 1], eps=0)[:4], [-0.7071, 0.7071, 0, 0], atol=1e-4
    )
    assert np.isnan(group_zscore([0, 1, np.nan])[2])


# ------------------------------------------------------------------ gated
def test_avar_reward_is_expressible():
    names = ["acc", "vis", "fmt"]
    R = np.array([[1, 0.8, 1], [0, 0.9, 1], [1, 0.2, 0], [0, 0.0, 0]], float)
    c = Gated(weights={"acc": 1, "vis": 0.3, "fmt": 0.1}, gates={"vis": "acc > 0"})
    want = R[:, 0] + 0.3 * R[:, 1] * (R[:, 0] > 0) + 0.1 * R[:, 2]
    assert np.allclose(c(R, names=names), want)
    assert np.allclose(get_combiner("gated", weights=[1, 0.3, 0.1], gates={"1": "0"})(R), want)


def test_gated_group_normalisation_among_open_rollouts_only():
    # DDCA: length normalised among the correct rollouts only
    names = ["acc", "len"]
    R = np.array([[1, 100], [1, 300], [0, 50], [0, 10]], float)
    c = Gated(gates={"len": "acc >= 1"}, normalise="group", eps=0)
    A = c(R, maximise=[True, False], names=names)
    z_acc = (R[:, 0] - 0.5) / np.std(R[:, 0], ddof=1)
    z_len = np.array([1, -1, 0, 0]) / np.sqrt(2)  # shorter is better, only rows 0 and 1
    assert np.allclose(A, z_acc + z_len)
    half = Gated(gates={"len": "acc >= 1"}, normalise="group", eps=0, scale_by_pass_rate=True)
    assert np.allclose(half(R, maximise=[True, False], names=names), z_acc + 0.5 * z_len)


def test_gated_without_gates_is_decoupled_and_lexicographic_recipe():
    rng = np.random.default_rng(1)
    R, g = rng.random((10, 3)), np.repeat([0, 1], 5)
    assert np.allclose(Gated(normalise="group")(R, g), Decoupled()(R, g))
    lex = Gated(weights=[1, 0.1, 0.1], gates={"1": "0 >= 1", "2": "0 >= 1"})
    R = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 1]], float)
    out = lex(R)
    assert out[2] > out[0] > out[1]  # correctness first, then the rest


def test_gated_bad_config():
    with pytest.raises(ConfigError, match="not a number"):
        Gated(gates={"len": "acc > high"})
    with pytest.raises(ConfigError, match="unknown objective 'nope'"):
        Gated(gates={"len": "nope > 0"})(np.ones((2, 2)), names=["acc", "len"])
    with pytest.raises(ConfigError):
        Gated(normalise="batch")


# ------------------------------------------------------------------ scalarisers
def test_tchebycheff_variants():
    R = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [0.2, 0.2]])
    plain = Tchebycheff(weights=[1, 1])(R)
    assert np.allclose(plain, [-1, -0.5, -1, -0.8])
    aug = Tchebycheff(variant="augmented", rho=0.01)(R)
    assert np.allclose(aug, plain - 0.01 * (1 - R).sum(1))
    smooth = Tchebycheff(variant="smooth", mu=0.05)(R)
    assert np.all(smooth <= plain + 1e-12) and np.all(smooth >= plain - 0.05 * np.log(2) - 1e-12)
    fixed = Tchebycheff(bounds=[(0, 2), (0, 2)])(R)
    assert np.allclose(fixed, -np.max(1 - R / 2, axis=1))
    with pytest.raises(ConfigError):
        Tchebycheff(weights=[1, -1])


def test_pbi():
    R = np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    out = PBI(theta=5)(R)
    d = 1 - R
    v = np.array([1, 1]) / np.sqrt(2)
    d1 = d @ v
    assert np.allclose(out, -(d1 + 5 * np.linalg.norm(d - d1[:, None] * v, axis=1)))


# ------------------------------------------------------------------ min-norm
def test_min_norm_weights_solver():
    rng = np.random.default_rng(2)
    for _ in range(5):
        V = rng.normal(size=(3, 6))
        gram = V @ V.T
        lam = min_norm_weights(gram, max_iter=500, tol=1e-14)
        _, best = ref.min_norm_grid(gram)
        assert np.isclose(lam.sum(), 1) and (lam >= 0).all()
        assert lam @ gram @ lam <= best + 1e-6
    assert min_norm_weights(np.eye(2)).tolist() == [0.5, 0.5]
    assert min_norm_weights(np.eye(3), active=[True, False, False]).tolist() == [1, 0, 0]
    assert min_norm_weights(np.eye(2), active=[False, False]).tolist() == [0, 0]


def test_min_norm_two_objectives_is_equal_weights_and_constant_is_masked():
    rng = np.random.default_rng(3)
    R, g = rng.random((12, 2)), np.repeat([0, 1, 2], 4)
    lam, _, _ = MinNorm().weights_per_group(R, g)
    assert np.allclose(lam, 0.5)
    assert np.allclose(MinNorm(eps=0)(R, g), Decoupled(eps=0)(R, g) / 2)
    R[g == 1, 1] = 0.5  # objective 1 constant in group 1: masked, not a zero answer
    lam, _, _ = MinNorm().weights_per_group(R, g)
    assert np.allclose(lam[1], [1, 0])
    assert np.abs(MinNorm()(R, g)[g == 1]).max() > 0.5


# ------------------------------------------------------------------ rank-based
def test_pareto_rank_combiner():
    R = np.array([[1, 0], [0, 1], [0.5, 0.5], [0, 0], [0.2, 0.2]])
    out = ParetoRank()(R)
    ranks = ref.ranks(R)
    assert (np.argsort(-out, kind="stable") == np.lexsort((-out, ranks))).all()
    # (0.5, 0.5) sits between distinct neighbours spanning the front in both objectives
    assert np.allclose(out, [0.5, 0.5, 0.5, -2, -1])  # fronts of one: no tie-break
    assert np.allclose(ParetoRank(tiebreak="none")(R), -ranks)
    with pytest.raises(ConfigError, match="beta"):
        ParetoRank(beta=1.0)


def test_hv_contribution_combiner():
    R = np.array([[2, 2], [1, 1], [1, 3], [0, 0]], float)
    out = HVContribution(ref=[0, 0])(R)
    # front 0 = rows 0 and 2: contributions 2 and 1 (row 1 cuts row 0's box)
    assert np.allclose(out, [0.5, -1.0, 0.25, -2.0])
    scaled = HVContribution()(R)  # scale-free default
    assert (np.argsort(scaled) == np.argsort(out)).all()
    named = HVContribution(ref={"a": 0, "b": 0})(R, names=["a", "b"])
    assert np.allclose(named, out)


def test_group_codes_fast_path_matches_generic():
    from moreward.pareto.combiners import group_codes

    for ids in ([3, 1, 3, 2, 1], ["b", "a", "b"], [0, 0, 1, 1, 2], [True, False, True]):
        assert group_codes(np.array(ids), len(ids)).tolist() == group_codes(list(ids), len(ids)).tolist()
    with pytest.raises(ValueError, match="entries"):
        group_codes(np.array([1, 2]), 3)


def test_diagnostics_of_empty_batch():
    d = Decoupled().diagnostics(np.zeros((0, 2)))
    assert d.n_rollouts == 0 and np.isnan(d.nondominated_share)
