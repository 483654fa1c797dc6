"""The function the worker pool runs (kept import-light: sympy loads only in the worker)."""

from __future__ import annotations

from .match import Policy

__all__ = ["compare_job"]


def compare_job(gold: str, pred: str, policy: Policy) -> tuple[str, str]:
    """Compare an extracted answer with a gold in a worker: ``(verdict, rule)``."""
    from .compare import compare_texts

    return compare_texts(gold, pred, policy)
