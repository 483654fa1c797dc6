"""Multi-objective combination of rewards over groups of rollouts."""

from .combiners import (
    DEFAULT_COMBINER,
    Combiner,
    WeightedSum,
    available_combiners,
    get_combiner,
    register_combiner,
)

__all__ = [
    "DEFAULT_COMBINER",
    "Combiner",
    "WeightedSum",
    "available_combiners",
    "get_combiner",
    "register_combiner",
]
