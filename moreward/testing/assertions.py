"""Assertion helpers for users' reward tests: :func:`assert_score` and the ``score`` fixture's scorer.

Example:
    >>> from moreward.testing import assert_score
    >>> s = assert_score("exact_match", "Paris", "paris", value=1.0, verdict="pass")
    >>> s.passed
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from ..core import Result, Sample, Score, Verdict
from ._outcome import UNSET, Expectation, Outcome, failure_text, parse_verdicts, spec_label

if TYPE_CHECKING:
    from ..core import Objective
    from ..pipeline import Pipeline

__all__ = ["PipelineScorer", "ScoreAssertionError", "assert_score", "resolve_objective"]

Completion = str | Sequence[Mapping[str, Any]] | Sample
VerdictSpec = Verdict | str | Iterable[Verdict | str]


class ScoreAssertionError(AssertionError):
    """A reward did not score as expected; the message shows the value, verdict, reason and extracted answer."""


def resolve_objective(objective: Any) -> tuple[Any, str]:
    """An objective (or pipeline) and its label from an instance, a registry name or ``{"type": ..., **options}``.

    Raises:
        ConfigError: an unknown name or a bad option.
        TypeError: something that is not an objective.
    """
    from .. import registry

    if isinstance(objective, str):
        return registry.get(objective), objective
    if isinstance(objective, Mapping):
        spec = dict(objective)
        if not isinstance(spec.get("type"), str):
            raise TypeError(f"an objective mapping needs a 'type' (the registry name), got {objective!r:.80}")
        return registry.get(spec["type"], **{k: v for k, v in spec.items() if k != "type"}), spec_label(spec)
    if callable(getattr(objective, "score", None)) or callable(getattr(objective, "score_batch", None)):
        return objective, repr(objective)
    raise TypeError(
        f"expected an objective (with score()), a pipeline, a registry name or a mapping, got {type(objective).__name__}"
    )


def _as_sample(completion: Completion, reference: Any) -> Sample:
    if isinstance(completion, Sample):
        if reference is not None:
            raise TypeError("give the reference inside the Sample, or pass a completion string")
        return completion
    if isinstance(completion, str):
        return Sample(completion, reference)
    return Sample.from_messages(completion, reference)


def _is_pipeline(obj: Any) -> bool:
    from ..pipeline import Pipeline

    return isinstance(obj, Pipeline)


@overload
def assert_score(
    objective: Pipeline,
    completion: Completion,
    reference: Any = ...,
    *,
    value: float | None = ...,
    min: float | None = ...,
    max: float | None = ...,
    verdict: VerdictSpec | None = ...,
    tol: float = ...,
    reason: str | None = ...,
) -> Result: ...


@overload
def assert_score(
    objective: Objective | str | Mapping[str, Any],
    completion: Completion,
    reference: Any = ...,
    *,
    value: float | None = ...,
    min: float | None = ...,
    max: float | None = ...,
    verdict: VerdictSpec | None = ...,
    tol: float = ...,
    reason: str | None = ...,
) -> Score: ...


def assert_score(
    objective: Any,
    completion: Completion,
    reference: Any = None,
    *,
    value: float | None = None,
    min: float | None = None,
    max: float | None = None,
    verdict: VerdictSpec | None = None,
    tol: float = 1e-9,
    reason: str | None = None,
) -> Score | Result:
    """Score one completion and assert the outcome; returns the :class:`Score` (or a pipeline's :class:`Result`).

    Args:
        objective: an objective, a registry name, ``{"type": name, **options}``, or a
            :class:`~moreward.pipeline.Pipeline` (whose combined reward is checked).
        completion: the text, a list of chat messages, or a :class:`Sample`.
        reference: the gold answer (not with a :class:`Sample`).
        value: the exact value expected, within ``tol``. ``None`` checks nothing; to
            require "no value" pass ``verdict="skip"`` (or error/timeout) or check
            ``.value is None`` on the returned score.
        min, max: inclusive bounds of the value.
        verdict: the verdict, or a list of acceptable verdicts (names or :class:`Verdict`).
        tol: absolute tolerance of ``value``.
        reason: a regular expression searched in the score's reason.

    Raises:
        ScoreAssertionError: an expectation does not hold; the message shows the value,
            the verdict, the reason and the extracted answer.
        TypeError: no expectation given, or ``verdict``/``reason`` with a pipeline.
        ConfigError: an unknown objective name or a bad option.
    """
    __tracebackhide__ = True
    expectation = Expectation(
        value=UNSET if value is None else value,
        tol=tol,
        min=min,
        max=max,
        verdicts=parse_verdicts(verdict),
        reason=reason,
    )
    if expectation.empty:
        raise TypeError("assert_score: give at least one of value, min, max, verdict or reason")
    target, label = resolve_objective(objective)
    sample = _as_sample(completion, reference)
    returned: Score | Result
    if _is_pipeline(target):
        if verdict is not None or reason is not None:
            raise TypeError(
                "assert_score: a pipeline's combined reward has no verdict or reason; check result.components"
            )
        result: Result = target.score([sample])[0]
        outcome = Outcome.from_result(f"pipeline {target.names}", result)
        returned = result
    else:
        returned = target.score(sample)
        if not isinstance(returned, Score):
            raise ScoreAssertionError(
                f"{label}.score() returned {type(returned).__name__}, not a Score: {returned!r:.200}"
            )
        outcome = Outcome.from_score(label, returned)
    problems = expectation.problems(outcome)
    if problems:
        raise ScoreAssertionError(
            failure_text(
                f"{label}: " + "; ".join(problems),
                expectation,
                outcome,
                completion=completion if not isinstance(completion, Sample) else completion.completion,
                reference=sample.reference,
            )
        )
    return returned


class PipelineScorer:
    """The ``score`` fixture: score completions with the test's pipeline.

    Example (in a test)::

        def test_right_answer(score):
            result = score("<think>...</think><answer>42</answer>", reference="42")
            assert result.reward == 1.5
            assert result.components["answer"].passed
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def __call__(
        self,
        completion: str | Sequence[Mapping[str, Any]],
        reference: Any = None,
        *,
        prompt: str | None = None,
        group: Any = None,
        tokens: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Result:
        """Score one completion (text or chat messages); returns its :class:`Result`."""
        kwargs: dict[str, Any] = {"prompt": prompt, "group": group, "tokens": tokens, "meta": meta or {}}
        sample = (
            Sample(completion, reference, **kwargs)
            if isinstance(completion, str)
            else Sample.from_messages(completion, reference, **kwargs)
        )
        return self.pipeline.score([sample])[0]

    def batch(self, items: Iterable[Sample | str | Mapping[str, Any]]) -> list[Result]:
        """Score several samples together (so group-aware rewards see their group).

        Items are :class:`Sample` objects, completion strings, or rows mapped by the
        config's ``[fields]`` (as in a JSONL line).
        """
        samples = []
        for item in items:
            if isinstance(item, Sample):
                samples.append(item)
            elif isinstance(item, str):
                samples.append(Sample(item))
            else:
                samples.append(self.pipeline.sample_from_row(item))
        return self.pipeline.score(samples)

    def __repr__(self) -> str:
        return f"PipelineScorer({self.pipeline!r})"
