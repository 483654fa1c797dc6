"""Core types: :class:`Verdict`, :class:`Score`, :class:`Sample`, :class:`Result`, and
the :class:`Objective` protocol with :class:`BaseObjective`, which derives the batch
and async methods from a single ``score``.

A ``Score.value`` of ``None`` means "do not train on this objective for this
sample" (TRL's ``None``). An infrastructure failure is ``Verdict.ERROR`` with
``value=None``, never a silent 0.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from .errors import InputError

__all__ = [
    "BaseObjective",
    "Objective",
    "Result",
    "Sample",
    "Score",
    "Verdict",
]


class FrozenMap(dict):  # type: ignore[type-arg]
    """A read-only dict: picklable (unlike ``MappingProxyType``) and JSON-serialisable."""

    __slots__ = ()

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("this mapping is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=repr)))


_EMPTY: Mapping[str, Any] = FrozenMap()


class Verdict(str, enum.Enum):
    """What a verifier decided about one sample for one objective."""

    PASS = "pass"
    """The answer is correct / the check holds."""
    FAIL = "fail"
    """The answer was understood and is wrong."""
    PARTIAL = "partial"
    """Partly right (pass rates, partial credit, graded scores)."""
    INVALID = "invalid"
    """The completion is malformed: no answer could be found in it."""
    TIMEOUT = "timeout"
    """The check ran past its hard deadline."""
    ERROR = "error"
    """The verifier or its infrastructure failed; not the sample's fault."""
    SKIP = "skip"
    """Not gradeable (e.g. an unparseable reference); do not train on it."""

    def __str__(self) -> str:
        return self.value


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not mapping:
        return _EMPTY
    if isinstance(mapping, FrozenMap):
        return mapping
    return FrozenMap(mapping)


@dataclass(frozen=True)
class Score:
    """The outcome of one objective on one sample.

    Args:
        value: the reward component, or ``None`` for "no signal" (skip).
        verdict: what was decided.
        reason: a short human-readable explanation.
        details: anything else (extracted answer, rule that decided, per-test verdicts).
    """

    value: float | None
    verdict: Verdict
    reason: str = ""
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.verdict, Verdict):
            object.__setattr__(self, "verdict", Verdict(self.verdict))
        if self.value is not None:
            object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "details", _freeze(self.details))

    @property
    def passed(self) -> bool:
        """True when the verdict is ``PASS``."""
        return self.verdict is Verdict.PASS

    # Constructors for the common cases keep verifier code short and uniform.
    @classmethod
    def from_bool(cls, ok: bool, reason: str = "", **details: Any) -> Score:
        """``1.0``/PASS when ``ok`` else ``0.0``/FAIL."""
        return cls(1.0 if ok else 0.0, Verdict.PASS if ok else Verdict.FAIL, reason, details)

    @classmethod
    def error(cls, reason: str, **details: Any) -> Score:
        """An infrastructure failure: no value, so it is never trained on as a 0."""
        return cls(None, Verdict.ERROR, reason, details)

    @classmethod
    def timeout(cls, reason: str = "deadline exceeded", **details: Any) -> Score:
        """The check ran past its deadline."""
        return cls(None, Verdict.TIMEOUT, reason, details)

    @classmethod
    def skip(cls, reason: str, **details: Any) -> Score:
        """Not gradeable (for example an unparseable reference)."""
        return cls(None, Verdict.SKIP, reason, details)

    def to_dict(self, *, with_details: bool = False) -> dict[str, Any]:
        """A JSON-ready dict (``value``, ``verdict``, ``reason`` and optionally ``details``)."""
        out: dict[str, Any] = {"value": self.value, "verdict": self.verdict.value, "reason": self.reason}
        if with_details:
            out["details"] = _jsonable(self.details)
        return out


def _jsonable(obj: Any) -> Any:
    """Best-effort conversion of details to JSON-serialisable values."""
    try:
        json.dumps(obj)
        return obj
    except (TypeError, ValueError):
        pass
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, enum.Enum):
        return obj.value
    return repr(obj)


@dataclass(frozen=True)
class Sample:
    """One rollout to score.

    Args:
        completion: the model's text (for chat completions use :meth:`from_messages`).
        reference: the gold answer, tests, schema... whatever the objective needs.
        prompt: the prompt text, when known.
        group: the prompt/group id that ties the rollouts of one prompt together.
        tokens: the completion's length in tokens, when known.
        meta: anything else (``data_source``, ``step``, ``difficulty``, tool calls, ...).
    """

    completion: str
    reference: Any = field(default=None, hash=False)
    prompt: str | None = None
    group: Hashable | None = None
    tokens: int | None = None
    meta: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.completion, str):
            raise InputError(
                f"Sample.completion must be a str, got {type(self.completion).__name__}; "
                "use Sample.from_messages for chat-format completions"
            )
        if self.tokens is not None and (not isinstance(self.tokens, int) or self.tokens < 0):
            raise InputError(f"Sample.tokens must be a non-negative int or None, got {self.tokens!r}")
        object.__setattr__(self, "meta", _freeze(self.meta))

    @classmethod
    def from_messages(
        cls,
        messages: str | Sequence[Mapping[str, Any]],
        reference: Any = None,
        **kwargs: Any,
    ) -> Sample:
        """Build a sample from a chat-format completion.

        The completion is the content of the assistant messages (joined by a blank
        line when there are several turns); the assistant's tool calls and any tool
        messages are kept in ``meta["tool_calls"]`` and ``meta["tool_messages"]``.
        A plain string is accepted as is. Content given as a list of parts
        (``[{"type": "text", "text": ...}]``) keeps its text parts.
        """
        if isinstance(messages, str):
            return cls(messages, reference, **kwargs)
        if not isinstance(messages, Sequence):
            raise InputError(f"messages must be a list of dicts or a str, got {type(messages).__name__}")
        texts: list[str] = []
        tool_calls: list[Any] = []
        tool_messages: list[Any] = []
        for i, msg in enumerate(messages):
            if not isinstance(msg, Mapping) or "role" not in msg:
                raise InputError(f"messages[{i}] must be a dict with a 'role' key, got {msg!r:.80}")
            role = msg["role"]
            if role == "assistant":
                text = _content_text(msg.get("content"), i)
                if text:
                    texts.append(text)
                tool_calls.extend(msg.get("tool_calls") or ())
            elif role == "tool":
                tool_messages.append(dict(msg))
        meta = dict(kwargs.pop("meta", None) or {})
        if tool_calls:
            meta["tool_calls"] = tool_calls
        if tool_messages:
            meta["tool_messages"] = tool_messages
        return cls("\n\n".join(texts), reference, meta=meta, **kwargs)


def _content_text(content: Any, index: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type", "text") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    raise InputError(f"messages[{index}].content must be a str or a list of parts, got {type(content).__name__}")


@dataclass(frozen=True)
class Result:
    """The pipeline's output for one sample.

    Args:
        reward: the combined reward, or ``None`` when no objective gave a value.
        components: each objective's :class:`Score`, by objective name.
        raw: each objective's value before combination (``None`` where missing).
    """

    reward: float | None
    components: dict[str, Score]
    raw: dict[str, float | None]

    def to_dict(self, *, with_details: bool = False) -> dict[str, Any]:
        """The JSON form written under the ``"moreward"`` key of an output line."""
        return {
            "reward": self.reward,
            "components": {k: s.to_dict(with_details=with_details) for k, s in self.components.items()},
        }


@runtime_checkable
class Objective(Protocol):
    """What every objective provides. Objectives are picklable callable classes."""

    name: str

    def score(self, sample: Sample) -> Score: ...

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]: ...

    async def ascore(self, sample: Sample) -> Score: ...

    async def ascore_batch(self, samples: Sequence[Sample]) -> list[Score]: ...


class BaseObjective:
    """A base class that derives ``score_batch``, ``ascore`` and ``ascore_batch`` from ``score``.

    Subclasses set the class attribute ``name`` (the registry name and metric key)
    and implement :meth:`score`. Batch-aware objectives (group length rewards,
    pool-backed verifiers) override :meth:`score_batch`. The async forms run the
    sync ones in a worker thread so an event loop is never blocked.

    ``score`` must not raise for a bad completion; :meth:`safe_score` turns an
    unexpected exception into ``Verdict.ERROR`` so a bug in one objective never
    stops a training step and never reads as a 0.
    """

    name: ClassVar[str] = "objective"

    def score(self, sample: Sample) -> Score:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement score()")

    def safe_score(self, sample: Sample) -> Score:
        """``score`` with unexpected exceptions turned into ``Verdict.ERROR``."""
        try:
            return self.score(sample)
        except Exception as exc:
            return Score.error(f"{type(self).__name__} raised {type(exc).__name__}: {exc}")

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        """Score every sample, in order."""
        return [self.safe_score(s) for s in samples]

    async def ascore(self, sample: Sample) -> Score:
        """Async :meth:`score`, run in a thread so the event loop keeps going."""
        return await asyncio.to_thread(self.safe_score, sample)

    async def ascore_batch(self, samples: Sequence[Sample]) -> list[Score]:
        """Async :meth:`score_batch`, run in a thread so the event loop keeps going."""
        return await asyncio.to_thread(self.score_batch, list(samples))

    def __call__(self, samples: Sample | Iterable[Sample]) -> Score | list[Score]:
        """Score one sample or a batch."""
        if isinstance(samples, Sample):
            return self.safe_score(samples)
        return self.score_batch(list(samples))

    @property
    def __name__(self) -> str:  # a stable name, as TRL uses for metric keys
        return self.name

    def _options(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}({opts})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._options() == other._options()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.name))
