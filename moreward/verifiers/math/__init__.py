"""Math answer verification: find the final answer, compare it with the gold by kind.

``MathVerifier`` (registry name ``"math"``) is the objective. The pieces are usable on
their own: :func:`extract_answer` finds the final answer of a completion and
:func:`compare_answers` compares two answer strings in the current process (no
deadline: use it only on trusted input or inside a worker).

Example:
    >>> from moreward.core import Sample
    >>> from moreward.verifiers.math import MathVerifier
    >>> v = MathVerifier(timeout=1.0)
    >>> v.score(Sample("Thus the answer is \\\\boxed{1{,}000}.", reference="1000")).passed
    True
"""

from __future__ import annotations

from .extract import Extraction, extract_answer
from .match import Policy
from .verifier import MathVerifier

__all__ = ["Extraction", "MathVerifier", "Policy", "compare_answers", "extract_answer"]


def compare_answers(gold: str, answer: str, policy: Policy | None = None) -> tuple[str, str]:
    """Compare an answer string with a gold string in this process: ``(verdict, rule)``.

    ``verdict`` is ``"pass"``, ``"fail"`` or ``"skip"``. This imports sympy and runs
    without a deadline; :class:`MathVerifier` runs the same code in a worker.
    """
    from .compare import compare_texts

    return compare_texts(gold, answer, policy or Policy())
