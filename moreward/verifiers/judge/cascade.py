"""``Cascade`` (registry name ``cascade``): a rule verifier first, a judge only when the rule fails.

QwenLong-L1 (arXiv 2505.17667, ``verl/utils/reward_score/docqa.py``) scores with
sub-exact-match and, only when that is below 1, asks an LLM judge and keeps
``max(rule, judge)``. The rule's precision is kept (a rule PASS never reaches the
judge), the judge adds recall on answers the rule cannot parse (Huang et al., arXiv
2505.22203, call this the hybrid verifier), and judge calls drop to the rule's
failures. A completion the rule finds malformed (``INVALID``: no answer at all) is not
sent by default, which is also a guard against master keys (arXiv 2507.08794).

Both stages can be given as objects or, in a config, as a registry table::

    [objectives.accuracy]
    type = "cascade"
    rule = { type = "sub_em", extract = "answer_is" }
    judge = { type = "openai_judge", base_url = "http://127.0.0.1:8000/v1", model = "judge" }
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from ...core import BaseObjective, Objective, Sample, Score, Verdict
from ...errors import ConfigError
from ...registry import get, register

__all__ = ["Cascade"]

Combine = Literal["max", "judge"]
_ASKABLE = ("fail", "partial", "invalid", "timeout", "error", "skip")


def _build(spec: Any, role: str) -> Any:
    if isinstance(spec, str):
        return get(spec)
    if isinstance(spec, Mapping):
        opts = dict(spec)
        kind = opts.pop("type", None)
        if not isinstance(kind, str):
            raise ConfigError(f"cascade {role} needs a 'type' (a registry name), got {spec!r}")
        return get(kind, **opts)
    if callable(getattr(spec, "score_batch", None)):
        return spec
    raise ConfigError(f"cascade {role} must be an objective, a registry name or a table with 'type', got {type(spec).__name__}")


@register("cascade")
class Cascade(BaseObjective):
    """The rule first; the judge only for the rule's failures; see the module docstring.

    Args:
        rule: the rule objective (an object, a registry name or ``{type = ..., ...}``).
        judge: the judge objective (same forms), e.g. ``openai_judge`` or ``hf_judge``.
        combine: ``"max"`` (QwenLong-L1: the larger value, the judge's verdict when it
            wins) or ``"judge"`` (the judge's score replaces the rule's).
        judge_on: the rule verdicts that send a sample to the judge (default ``fail``
            and ``partial``; add ``timeout`` for a math rule that can run out of time).
        on_judge_error: when the judge fails (``ERROR``/``TIMEOUT``): ``"error"`` gives
            ``Verdict.ERROR`` with no value; ``"rule"`` keeps the rule's score.
    """

    name: ClassVar[str] = "cascade"

    def __init__(
        self,
        rule: Objective | str | Mapping[str, Any],
        judge: Objective | str | Mapping[str, Any],
        *,
        combine: Combine = "max",
        judge_on: Sequence[str] = ("fail", "partial"),
        on_judge_error: Literal["error", "rule"] = "error",
    ) -> None:
        if combine not in ("max", "judge"):
            raise ConfigError(f"combine={combine!r} is not allowed; allowed: max, judge")
        if on_judge_error not in ("error", "rule"):
            raise ConfigError(f"on_judge_error={on_judge_error!r} is not allowed; allowed: error, rule")
        if isinstance(judge_on, str):
            judge_on = (judge_on,)
        bad = [v for v in judge_on if v not in _ASKABLE]
        if bad:
            raise ConfigError(f"judge_on has {bad}; allowed: {', '.join(_ASKABLE)}")
        self.rule = _build(rule, "rule")
        self.judge = _build(judge, "judge")
        self.combine = combine
        self.judge_on = tuple(judge_on)
        self.on_judge_error = on_judge_error

    def score(self, sample: Sample) -> Score:
        return self.score_batch([sample])[0]

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        """The rule on every sample, the judge on the rule's failures, in one batch call each."""
        samples = list(samples)
        rule_scores = self.rule.score_batch(samples)
        ask = self._to_ask(rule_scores)
        judged = self.judge.score_batch([samples[i] for i in ask]) if ask else []
        return self._merge(rule_scores, ask, judged)

    async def ascore_batch(self, samples: Sequence[Sample]) -> list[Score]:
        samples = list(samples)
        rule_scores = await self.rule.ascore_batch(samples)
        ask = self._to_ask(rule_scores)
        judged = await self.judge.ascore_batch([samples[i] for i in ask]) if ask else []
        return self._merge(rule_scores, ask, judged)

    async def ascore(self, sample: Sample) -> Score:
        return (await self.ascore_batch([sample]))[0]

    def _to_ask(self, rule_scores: Sequence[Score]) -> list[int]:
        return [i for i, s in enumerate(rule_scores) if s.verdict.value in self.judge_on]

    def _merge(self, rule_scores: Sequence[Score], ask: list[int], judged: Sequence[Score]) -> list[Score]:
        out = [self._rule_only(s) for s in rule_scores]
        for i, j in zip(ask, judged):
            out[i] = self._combine(rule_scores[i], j)
        return out

    @staticmethod
    def _rule_only(rule: Score) -> Score:
        return Score(rule.value, rule.verdict, f"rule: {rule.reason}", {**rule.details, "decided_by": "rule"})

    def _combine(self, rule: Score, judge: Score) -> Score:
        both = {"rule": rule.to_dict(), "judge": judge.to_dict()}
        if judge.verdict in (Verdict.ERROR, Verdict.TIMEOUT) or judge.value is None:
            if self.on_judge_error == "rule" and judge.verdict in (Verdict.ERROR, Verdict.TIMEOUT):
                return Score(rule.value, rule.verdict, f"rule (judge failed: {judge.reason})",
                             {**both, "decided_by": "rule"})
            if judge.verdict is Verdict.SKIP:
                return Score(rule.value, rule.verdict, f"rule (judge skipped: {judge.reason})", {**both, "decided_by": "rule"})
            return Score(None, Verdict.ERROR, f"the judge failed: {judge.reason}", {**both, "decided_by": "judge"})
        if self.combine == "judge" or rule.value is None or judge.value >= rule.value:
            return Score(judge.value, judge.verdict, f"judge: {judge.reason}", {**both, "decided_by": "judge"})
        return Score(rule.value, rule.verdict, f"rule: {rule.reason}", {**both, "decided_by": "rule"})
