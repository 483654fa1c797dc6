"""Multi-objective combination of rewards over groups of rollouts.

- combiners (callable classes, by name through :func:`get_combiner`): ``weighted_sum``,
  ``decoupled`` (the default), ``gated``, ``tchebycheff``, ``pbi``, ``min_norm``,
  ``pareto_rank``, ``hv_contribution``, ``scheduled``; each with ``.diagnostics(...)``;
- pure functions in moocore's style, batched over groups: :func:`is_nondominated`,
  :func:`pareto_rank`, :func:`crowding_distance`, :func:`hypervolume`,
  :func:`hv_contributions`, :func:`igd_plus`, :func:`spread`, :func:`group_zscore`,
  :func:`min_norm_weights`;
- weight schedulers and :class:`FrontTracker` / :func:`plot_front` for training runs.

Arrays: ``R`` is (N rollouts, K objectives) with NaN for a missing value, ``groups`` is
length N; both positional-only, everything else keyword-only. ``maximise`` defaults to
True (rewards), unlike moocore.
"""

from .combiners import (
    DEFAULT_COMBINER,
    Combiner,
    WeightedSum,
    available_combiners,
    get_combiner,
    register_combiner,
)
from .decoupled import Decoupled, Gated, group_zscore
from .diagnostics import Diagnostics, diagnose
from .dominance import crowding_distance, is_nondominated, pareto_rank
from .hv import hv_contributions, hypervolume
from .metrics import igd_plus, spread
from .min_norm import MinNorm, min_norm_weights
from .ranking import HVContribution, ParetoRank
from .scalarisers import PBI, Tchebycheff
from .schedulers import (
    CorrelationWeights,
    HypervolumeWeights,
    Scheduled,
    StaticWeights,
    VarianceWeights,
    WeightScheduler,
    available_schedulers,
    get_scheduler,
)
from .tracking import FrontReport, FrontTracker, plot_front

__all__ = [
    "DEFAULT_COMBINER",
    "PBI",
    "Combiner",
    "CorrelationWeights",
    "Decoupled",
    "Diagnostics",
    "FrontReport",
    "FrontTracker",
    "Gated",
    "HVContribution",
    "HypervolumeWeights",
    "MinNorm",
    "ParetoRank",
    "Scheduled",
    "StaticWeights",
    "Tchebycheff",
    "VarianceWeights",
    "WeightScheduler",
    "WeightedSum",
    "available_combiners",
    "available_schedulers",
    "crowding_distance",
    "diagnose",
    "get_combiner",
    "get_scheduler",
    "group_zscore",
    "hv_contributions",
    "hypervolume",
    "igd_plus",
    "is_nondominated",
    "min_norm_weights",
    "pareto_rank",
    "plot_front",
    "register_combiner",
    "spread",
]
