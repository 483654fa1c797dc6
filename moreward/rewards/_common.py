"""Shared plumbing of the shaped rewards: token counts, token ids, correctness, the training step.

Token counts come, in this order, from ``Sample.tokens``; from a tokenizer loaded from
a local path named in the config (``transformers`` or ``tokenizers``, imported lazily);
or from the explicit whitespace fallback (``len(text.split())``). A count never comes
silently from characters, and every score says which source it used
(``details["source"]`` is ``"tokens"``, ``"tokenizer"`` or ``"whitespace"``).
"""

from __future__ import annotations

import importlib.util
import math
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from ..core import BaseObjective, Sample, Score, Verdict
from ..errors import ConfigError, missing_extra

__all__ = [
    "Correctness",
    "CorrectnessMixin",
    "Fallback",
    "LengthObjective",
    "LengthSource",
    "TokenCounter",
    "build_objective",
    "check_bool",
    "check_choice",
    "check_int",
    "check_key",
    "check_number",
    "no_length_score",
    "read_step",
]

LengthSource = Literal["tokens", "tokenizer", "whitespace"]
Fallback = Literal["whitespace", "skip"]
_FALLBACKS: tuple[str, ...] = ("whitespace", "skip")


def check_choice(option: str, value: Any, allowed: Sequence[str]) -> None:
    """Raise a :class:`ConfigError` naming ``option`` and the allowed values unless ``value`` is one of them."""
    if value not in allowed:
        raise ConfigError(f"{option}={value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")


def check_int(option: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Validate an integer option at construction (an integral float is accepted).

    Raises:
        ConfigError: naming the option and the accepted range.
    """
    return int(check_number(option, value, integer=True, minimum=minimum, maximum=maximum))


def check_bool(option: str, value: Any) -> bool:
    """Validate a true/false option at construction."""
    if not isinstance(value, bool):
        raise ConfigError(f"{option} must be true or false, got {value!r}")
    return value


def check_key(option: str, value: Any) -> str:
    """Validate an option naming a ``meta`` key (a non-empty string)."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{option} must be a non-empty string, got {value!r}")
    return value


def check_number(
    option: str,
    value: Any,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
) -> float:
    """Validate a numeric option at construction; returns it as float.

    Raises:
        ConfigError: naming the option and the accepted range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{option} must be {kind}, got {value!r}")
    if integer and not float(value).is_integer():
        raise ConfigError(f"{option} must be an integer, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{option} must be finite, got {value!r}")
    if minimum is not None and (value < minimum or (strict_min and value == minimum)):
        op = ">" if strict_min else ">="
        raise ConfigError(f"{option} must be {op} {minimum:g}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{option} must be <= {maximum:g}, got {value!r}")
    return float(value)


class TokenCounter:
    """Where a completion's length (and its token ids) come from.

    Order: ``Sample.tokens`` (lengths) or ``Sample.meta[ids_key]`` (token ids); then the
    tokenizer at ``tokenizer`` (a local directory for ``transformers.AutoTokenizer`` or a
    ``tokenizer.json`` file for ``tokenizers``), loaded on first use; then, with
    ``fallback="whitespace"``, whitespace-separated words. With ``fallback="skip"`` a
    sample with no count gets no value (``Verdict.SKIP``).

    The loaded tokenizer is not pickled; a copy reloads it on first use.

    Raises:
        ConfigError: ``tokenizer`` does not name an existing local path, or ``fallback`` is unknown.
        MissingExtraError: ``tokenizer`` is set but the library it needs is not installed.
    """

    def __init__(
        self,
        tokenizer: str | os.PathLike[str] | None = None,
        fallback: Fallback = "whitespace",
        ids_key: str = "completion_ids",
    ) -> None:
        check_choice("fallback", fallback, _FALLBACKS)
        self.fallback = fallback
        self.ids_key = check_key("ids_key", ids_key)
        self.tokenizer: str | None = None
        if tokenizer is not None:
            if not isinstance(tokenizer, (str, os.PathLike)):
                raise ConfigError(f"tokenizer must be a local path, got {tokenizer!r}")
            path = Path(tokenizer)
            if not path.exists():
                raise ConfigError(f"tokenizer={str(tokenizer)!r}: no such file or directory (a local path is needed)")
            needed = "tokenizers" if path.is_file() else "transformers"
            if importlib.util.find_spec(needed) is None:
                raise missing_extra(needed, "judge")
            self.tokenizer = str(path)
        self._tok: Any = None
        self._lock = threading.Lock()

    # -- pickling: the tokenizer object and the lock stay behind ----------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer, "fallback": self.fallback, "ids_key": self.ids_key}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.tokenizer = state["tokenizer"]
        self.fallback = state["fallback"]
        self.ids_key = state["ids_key"]
        self._tok = None
        self._lock = threading.Lock()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenCounter) and self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash((self.tokenizer, self.fallback))

    def __repr__(self) -> str:
        return f"TokenCounter(tokenizer={self.tokenizer!r}, fallback={self.fallback!r}, ids_key={self.ids_key!r})"

    def _load(self) -> Any:
        with self._lock:
            if self._tok is None:
                assert self.tokenizer is not None
                path = Path(self.tokenizer)
                if path.is_file():
                    from tokenizers import Tokenizer

                    self._tok = Tokenizer.from_file(str(path))
                else:
                    from transformers import AutoTokenizer

                    self._tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            return self._tok

    def _encode(self, texts: list[str]) -> list[list[int]]:
        tok = self._load()
        if hasattr(tok, "encode_batch"):  # tokenizers.Tokenizer
            return [list(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)]
        return list(tok(texts, add_special_tokens=False)["input_ids"])

    def lengths(self, samples: Sequence[Sample]) -> list[tuple[int | None, LengthSource | None]]:
        """``(length, source)`` per sample; ``(None, None)`` where no count exists and the fallback is ``skip``.

        ``Sample.tokens`` comes first, then the length of ``meta[ids_key]`` (both are source ``"tokens"``).
        """
        out: list[tuple[int | None, LengthSource | None]] = [(None, None)] * len(samples)
        missing: list[int] = []
        key = self.ids_key
        for i, s in enumerate(samples):
            if s.tokens is not None:
                out[i] = (s.tokens, "tokens")
            else:
                ids = s.meta.get(key) if s.meta else None
                if ids is not None and _is_id_sequence(ids):
                    out[i] = (len(ids), "tokens")
                else:
                    missing.append(i)
        if not missing:
            return out
        if self.tokenizer is not None:
            encoded = self._encode([samples[i].completion for i in missing])
            for i, ids in zip(missing, encoded):
                out[i] = (len(ids), "tokenizer")
        elif self.fallback == "whitespace":
            for i in missing:
                out[i] = (len(samples[i].completion.split()), "whitespace")
        return out

    def token_ids(self, samples: Sequence[Sample]) -> list[tuple[Sequence[int] | None, LengthSource | None]]:
        """``(token ids, source)`` per sample: ``meta[ids_key]``, else the tokenizer, else ``(None, None)``.

        Whitespace words are not ids; callers that accept words fall back to them themselves.
        """
        out: list[tuple[Sequence[int] | None, LengthSource | None]] = [(None, None)] * len(samples)
        missing: list[int] = []
        key = self.ids_key
        for i, s in enumerate(samples):
            ids = s.meta.get(key)
            if _is_id_sequence(ids):
                out[i] = (ids, "tokens")
            else:
                missing.append(i)
        if missing and self.tokenizer is not None:
            encoded = self._encode([samples[i].completion for i in missing])
            for i, enc in zip(missing, encoded):
                out[i] = (enc, "tokenizer")
        return out


def _is_id_sequence(ids: Any) -> bool:
    if ids is None or isinstance(ids, (str, bytes, Mapping)):
        return False
    try:
        n = len(ids)
    except TypeError:
        return False
    if n == 0:
        return True
    first = ids[0]
    if isinstance(first, bool):
        return False
    return isinstance(first, int) or type(first).__name__.startswith(("int", "uint"))


def no_length_score() -> Score:
    """The score of a sample with no token count when the fallback is ``skip``."""
    return Score.skip("no token count: set Sample.tokens or the tokenizer option (fallback='skip')")


class Correctness:
    """Whether each sample's answer is right: from an accuracy objective, else ``Sample.meta[key]``.

    ``accuracy`` is an objective (anything with ``score_batch``) or its config mapping
    (``{"type": "math", ...}``), built through the registry at construction. Its
    ``Verdict.PASS`` reads as correct, ``FAIL``/``INVALID``/``PARTIAL`` as wrong, and a
    score without a value (error, timeout, skip) is passed on. Without ``accuracy``,
    ``meta[key]`` is read: a bool, or a number (``> 0`` is correct).
    """

    def __init__(self, accuracy: Any = None, key: str = "correct") -> None:
        self.key = check_key("correct_key", key)
        self.accuracy = build_objective(accuracy, "accuracy") if accuracy is not None else None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Correctness) and (self.key, self.accuracy) == (other.key, other.accuracy)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Correctness(accuracy={self.accuracy!r}, key={self.key!r})"

    def resolve(self, samples: Sequence[Sample]) -> list[bool | Score]:
        """Per sample: ``True``/``False``, or the :class:`Score` to return when it is unknown."""
        if self.accuracy is not None:
            scores = list(self.accuracy.score_batch(list(samples)))
            if len(scores) != len(samples):
                return [Score.error(f"accuracy objective returned {len(scores)} scores for {len(samples)} samples")] * len(
                    samples
                )
            out: list[bool | Score] = []
            for s in scores:
                if not isinstance(s, Score):
                    out.append(Score.error(f"accuracy objective returned {type(s).__name__}, not a Score"))
                elif s.value is None:
                    out.append(Score(None, s.verdict, f"accuracy gave no value: {s.reason}"))
                else:
                    out.append(s.verdict is Verdict.PASS)
            return out
        res: list[bool | Score] = []
        for s in samples:
            v = s.meta.get(self.key)
            if isinstance(v, bool):
                res.append(v)
            elif isinstance(v, (int, float)) and math.isfinite(v):
                res.append(v > 0)
            else:
                res.append(
                    Score.skip(f"correctness unknown: no accuracy objective and meta[{self.key!r}] is {v!r:.40}")
                )
        return res


def build_objective(spec: Any, option: str) -> Any:
    """An objective from an instance or a config mapping ``{"type": name, **options}``."""
    if isinstance(spec, Mapping):
        opts = dict(spec)
        kind = opts.pop("type", None)
        if not isinstance(kind, str):
            raise ConfigError(f"{option} must name its objective with a 'type' key, got {dict(spec)!r:.80}")
        from .. import registry

        try:
            return registry.get(kind, **opts)
        except ConfigError as exc:
            raise ConfigError(f"{option}: {exc}") from None
    if callable(getattr(spec, "score_batch", None)):
        return spec
    raise ConfigError(f"{option} must be an objective or a mapping with a 'type' key, got {spec!r:.80}")


def read_step(sample: Sample, key: str, default: int | None) -> int | None:
    """The training step in ``sample.meta[key]`` (an int, or an integral float), else ``default``."""
    v = sample.meta.get(key)
    if isinstance(v, bool):
        return default
    if isinstance(v, int):
        return v
    if isinstance(v, float) and math.isfinite(v):
        return math.floor(v)
    return default


class LengthObjective(BaseObjective):
    """Base of the length rewards: the token counter, and ``score`` through ``score_batch``."""

    name: ClassVar[str] = "length"
    _counter: TokenCounter

    def _init_counter(self, tokenizer: str | None, fallback: Fallback) -> None:
        self._counter = TokenCounter(tokenizer, fallback)
        self.tokenizer = self._counter.tokenizer
        self.fallback = fallback

    def score(self, sample: Sample) -> Score:
        return self.score_batch([sample])[0]

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _lengths(self, samples: Sequence[Sample]) -> list[tuple[int | None, LengthSource | None]]:
        return self._counter.lengths(samples)


class CorrectnessMixin:
    """Adds the ``accuracy`` / ``correct_key`` options to a reward that depends on correctness."""

    _correctness: Correctness

    def _init_correctness(self, accuracy: Any, correct_key: str) -> None:
        self._correctness = Correctness(accuracy, correct_key)
        self.accuracy = self._correctness.accuracy
        self.correct_key = correct_key
