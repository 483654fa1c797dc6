"""Score the golden cases of one file: build each reward once, batch cases by group, cache outcomes.

Independent of pytest, so it is tested directly and reused by the collector in
:mod:`moreward.testing._items`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core import Result, Score
from ..errors import ConfigError
from ._outcome import Outcome, failure_text, order_problem, spec_label
from .cases import Case, CaseFileError

__all__ = ["CaseFailed", "CaseRunner"]


class CaseFailed(AssertionError):
    """A golden case did not meet its expectation; the message says what was returned."""


def _stable(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=repr)


class CaseRunner:
    """Outcomes of the cases of one file.

    Args:
        cases: the file's cases (from :func:`~moreward.testing.cases.load_cases`).
        default_config: the pipeline config of cases that name neither ``objective`` nor ``config``.
        details: print ``Score.details`` in failure messages.
    """

    def __init__(
        self, cases: Sequence[Case], *, default_config: Path | None = None, details: bool = False
    ) -> None:
        self.cases: dict[str, Case] = {c.id: c for c in cases}
        self.default_config = default_config
        self.details = details
        self._targets: dict[tuple[str, str], tuple[Any, str] | BaseException] = {}
        self._outcomes: dict[str, Outcome] = {}

    def _error(self, case: Case, field: str, msg: str) -> CaseFileError:
        return CaseFileError(f"{case.path}: case {case.id!r} ({case.where}): {field}: {msg}")

    def _key(self, case: Case) -> tuple[str, str]:
        if case.objective is not None:
            return ("objective", _stable(case.objective))
        cfg = case.config if case.config is not None else self.default_config
        if cfg is None:
            raise self._error(
                case,
                "objective",
                "the case names no 'objective' or 'config' (in the case or in defaults), and no session "
                "config is set (--moreward-config PATH or the moreward_config ini option)",
            )
        return ("config", str(cfg) if isinstance(cfg, Path) else _stable(cfg))

    def _target(self, case: Case) -> tuple[Any, str]:
        """The objective or pipeline of ``case`` and its label, built once per file."""
        key = self._key(case)
        if key not in self._targets:
            self._targets[key] = self._build(case)
        got = self._targets[key]
        if isinstance(got, BaseException):
            raise self._error(case, "objective" if case.objective is not None else "config", str(got))
        return got

    def _build(self, case: Case) -> tuple[Any, str] | BaseException:
        from .. import registry
        from ..pipeline import Pipeline

        try:
            if case.objective is not None:
                spec = dict(case.objective)
                options = {k: v for k, v in spec.items() if k != "type"}
                return registry.get(spec["type"], **options), spec_label(spec)
            cfg = case.config if case.config is not None else self.default_config
            label = f"pipeline {cfg.name}" if isinstance(cfg, Path) else "pipeline (inline config)"
            return Pipeline.from_config(cfg), label  # type: ignore[arg-type]
        except (ConfigError, ImportError) as exc:  # a bad option, an unknown name, a missing extra
            return exc

    def outcome(self, case_id: str) -> Outcome:
        """What the reward returned for a case (its group is scored together, once).

        Raises:
            CaseFileError: the reward cannot be built, or ``component`` is not in the config.
        """
        if case_id in self._outcomes:
            return self._outcomes[case_id]
        case = self.cases[case_id]
        target, label = self._target(case)
        key = self._key(case)
        batch = [case]
        if case.sample.group is not None:
            batch = [
                c
                for c in self.cases.values()
                if c.sample.group == case.sample.group and c.id not in self._outcomes and self._key(c) == key
            ]
        samples = [c.sample for c in batch]
        if case.uses_pipeline:
            results: list[Result] = target.score(samples)
            for c, result in zip(batch, results):
                if c.component is not None and c.component not in result.components:
                    raise self._error(
                        c,
                        "component",
                        f"{c.component!r} is not an objective of the config; objectives: {', '.join(result.components)}",
                    )
                self._outcomes[c.id] = Outcome.from_result(label, result, c.component)
        else:
            scores: list[Score] = list(target.score_batch(samples))
            if len(scores) != len(samples) or not all(isinstance(s, Score) for s in scores):
                raise CaseFailed(
                    f"{case.label}: {label}.score_batch returned {len(scores)} item(s) for {len(samples)} "
                    f"sample(s): {scores!r:.200}"
                )
            for c, s in zip(batch, scores):
                self._outcomes[c.id] = Outcome.from_score(label, s)
        return self._outcomes[case_id]

    def check(self, case_id: str) -> None:
        """Score a case and check its expectation, orderings included.

        Raises:
            CaseFailed: with what the reward returned, the verdict, the reason and the extracted answer.
            CaseFileError: the reward cannot be built.
        """
        case = self.cases[case_id]
        expect = case.expect
        if expect is None:  # pragma: no cover - such cases are not collected
            return
        outcome = self.outcome(case_id)
        problems = expect.problems(outcome)
        for other_ids, higher in ((expect.higher_than, True), (expect.lower_than, False)):
            for other_id in other_ids:
                problem = order_problem(case_id, outcome, other_id, self.outcome(other_id), higher)
                if problem:
                    problems.append(problem)
        if problems:
            raise CaseFailed(
                failure_text(
                    f"{case.label}: " + "; ".join(problems),
                    expect,
                    outcome,
                    completion=case.completion,
                    reference=case.sample.reference,
                    description=case.description,
                    details=self.details,
                )
            )

    def __repr__(self) -> str:
        return f"CaseRunner({len(self.cases)} cases)"
