"""What every judge does around the model call: guards, cache look-ups and de-duplication."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ...core import BaseObjective, Sample, Score
from .cache import ResultCache, content_key
from .guards import Guard, Parts

__all__ = ["JudgeBase", "Triage"]


@dataclass
class Triage:
    """A batch split into decided samples and the unique ones the judge must see.

    Attributes:
        samples: the batch.
        parts: each sample's thinking / rest / answer.
        out: the decided scores so far (guards, cache), ``None`` elsewhere.
        keys: each undecided sample's content key.
        first: key -> index of its first sample in the batch.
        todo: indices of the unique samples to send to the judge.
    """

    samples: list[Sample]
    parts: list[Parts]
    out: list[Score | None]
    keys: list[str | None] = field(default_factory=list)
    first: dict[str, int] = field(default_factory=dict)
    todo: list[int] = field(default_factory=list)


class JudgeBase(BaseObjective):
    """Guards, the content-hash cache and de-duplication, shared by the judges.

    Subclasses set ``guard`` (a :class:`Guard` or ``None``), ``cache`` (a
    :class:`ResultCache` or ``None``) and ``_parts_guard``, and implement
    :meth:`_fingerprint` (everything but the sample that changes the judge's answer).
    """

    guard: Guard | None
    cache: ResultCache | None
    _parts_guard: Guard

    def _fingerprint(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _triage(self, samples: Sequence[Sample]) -> Triage:
        samples = list(samples)
        t = Triage(samples, [self._parts_guard.parts(s.completion) for s in samples], [None] * len(samples))
        t.keys = [None] * len(samples)
        fingerprint = self._fingerprint()
        for i, s in enumerate(samples):
            if self.guard is not None:
                t.out[i] = self.guard.check(s, t.parts[i])
                if t.out[i] is not None:
                    continue
            key = t.keys[i] = content_key(fingerprint, s.prompt, s.completion, s.reference)
            if key in t.first:
                continue
            t.first[key] = i
            cached = self.cache.get(key) if self.cache is not None else None
            if cached is not None:
                t.out[i] = Score(cached.value, cached.verdict, cached.reason, {**cached.details, "cached": True})
            else:
                t.todo.append(i)
        return t

    def _finish(self, t: Triage, scores: Sequence[Score]) -> list[Score]:
        """Put the judge's ``scores`` (one per ``t.todo``) in place, cache them, copy them to duplicates."""
        for i, score in zip(t.todo, scores):
            t.out[i] = score
            key = t.keys[i]
            if self.cache is not None and key is not None:
                self.cache.put(key, score)
        for i, key in enumerate(t.keys):
            if t.out[i] is None and key is not None:
                t.out[i] = t.out[t.first[key]]
        return [s if s is not None else Score.error("internal: the judge produced no score") for s in t.out]
