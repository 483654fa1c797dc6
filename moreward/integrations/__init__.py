"""Adapters that plug a :class:`~moreward.pipeline.Pipeline` into RL trainers.

Import the submodule of your trainer; none of them imports the trainer itself
(torch is imported only by :mod:`~moreward.integrations.openrlhf`, when called):

- :mod:`moreward.integrations.trl`: ``reward_funcs`` / ``reward_weights`` / ``combined_reward``
  (and async twins) for TRL's ``GRPOTrainer`` and ``RLOOTrainer``.
- :mod:`moreward.integrations.verl`: ``compute_score``, ``compute_score_async`` and
  ``compute_score_batch`` for verl's reward loop (``pkg://moreward.integrations.verl``).
- :mod:`moreward.integrations.openrlhf`: ``reward_func`` for ``--reward.remote_url``.
- :mod:`moreward.integrations.verifiers_env`: a ``Rubric`` for PrimeIntellect's ``verifiers``.
- :mod:`moreward.integrations.reasoning_gym`: reasoning-gym's ``score_answer`` as an objective.

What a trainer receives when no objective gives a value (every one ``ERROR``,
``TIMEOUT`` or ``SKIP``): TRL gets ``None`` (it skips the sample); the others
cannot skip, so ``on_missing`` decides: ``"raise"`` (default,
:class:`MissingRewardError`) or a number the user picks, flagged by
``moreward_valid = 0``. Never a silent 0.
"""

from __future__ import annotations

from ._common import VALID_KEY, MissingRewardError, as_pipeline

__all__ = ["VALID_KEY", "MissingRewardError", "as_pipeline"]
