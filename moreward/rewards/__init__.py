"""Shaped rewards: length (DAPO overlong, Kimi k1.5, cosine, L1 exact/max, difficulty-aware
budgets), repetition (n-gram penalty, reasoning steps) and schedules over the training step.

Every reward is an objective (registered by name, see :mod:`moreward.registry`) whose
score's value is the shaped reward and whose ``details`` hold the length used and its
source (``"tokens"``, ``"tokenizer"`` or ``"whitespace"``). The formulas are also plain
vectorised functions (``dapo_overlong_values``, ``ngram_repetition_values``, ...).

========================  ==========================================  =======================
registry name             class                                       source
========================  ==========================================  =======================
``dapo_overlong``         :class:`~moreward.rewards.length.DapoOverlong`      DAPO Eq. 13
``kimi_length``           :class:`~moreward.rewards.length.KimiLength`        Kimi k1.5 §2.3.3
``cosine_length``         :class:`~moreward.rewards.length.CosineLength`      Demystifying Long CoT
``l1_exact``              :class:`~moreward.rewards.budget.L1Exact`           L1 Eq. 1
``l1_max``                :class:`~moreward.rewards.budget.L1Max`             L1 Eq. 2
``difficulty_budget``     :class:`~moreward.rewards.budget.DifficultyBudget`  after TH2T
``ngram_repetition``      :class:`~moreward.rewards.repetition.NgramRepetition`  Demystify App. C.2
``reasoning_steps``       :class:`~moreward.rewards.repetition.ReasoningSteps`   open-r1
``scheduled``             :class:`~moreward.rewards.schedules.Scheduled`      (any objective)
========================  ==========================================  =======================
"""

from __future__ import annotations

from ._common import TokenCounter
from .budget import (
    DifficultyBudget,
    L1Exact,
    L1Max,
    difficulty_budget_tokens,
    l1_exact_values,
    l1_max_values,
    parse_target_tokens,
)
from .length import (
    CosineLength,
    DapoOverlong,
    KimiLength,
    cosine_values,
    dapo_overlong_values,
    kimi_length_values,
)
from .repetition import (
    NgramRepetition,
    NgramStats,
    ReasoningSteps,
    count_reasoning_steps,
    ngram_repetition_values,
    ngram_stats,
)
from .schedules import Alternating, Constant, LinearWarmup, Piecewise, Schedule, Scheduled, make_schedule

__all__ = [
    "Alternating",
    "Constant",
    "CosineLength",
    "DapoOverlong",
    "DifficultyBudget",
    "KimiLength",
    "L1Exact",
    "L1Max",
    "LinearWarmup",
    "NgramRepetition",
    "NgramStats",
    "Piecewise",
    "ReasoningSteps",
    "Schedule",
    "Scheduled",
    "TokenCounter",
    "cosine_values",
    "count_reasoning_steps",
    "dapo_overlong_values",
    "difficulty_budget_tokens",
    "kimi_length_values",
    "l1_exact_values",
    "l1_max_values",
    "make_schedule",
    "ngram_repetition_values",
    "ngram_stats",
    "parse_target_tokens",
]
