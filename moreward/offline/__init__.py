"""Offline scoring and analysis of JSONL rollouts (the ``moreward`` commands)."""

from .score import ScoreStats, score_file

__all__ = ["ScoreStats", "score_file"]
