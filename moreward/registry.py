"""Objective registry: a name maps to a factory (usually an :class:`~moreward.core.BaseObjective`
subclass). Built-in objectives register themselves lazily: the registry knows which
module defines each built-in name and imports it only when the name is asked for, so
``import moreward`` stays light. Third-party packages join through the entry-point
group ``moreward.objectives`` (``name = "package.module:Factory"``).

Example:
    >>> from moreward import registry
    >>> obj = registry.get("exact_match")
    >>> obj.name
    'exact_match'
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import threading
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar

from .errors import ConfigError, UnknownObjectiveError

__all__ = ["ENTRY_POINT_GROUP", "available", "get", "get_factory", "register"]

ENTRY_POINT_GROUP = "moreward.objectives"

F = TypeVar("F", bound=Callable[..., Any])

# Built-in names -> the module that registers them on import. Keeping this table
# (instead of importing every verifier up front) keeps ``import moreward`` cheap:
# the math verifier pulls sympy and the judge pulls torch.
_BUILTIN_MODULES: dict[str, str] = {
    "exact_match": "moreward.verifiers.text",
    "regex": "moreward.verifiers.text",
    "math": "moreward.verifiers.math",
    "code": "moreward.verifiers.code",
    "dapo_overlong": "moreward.rewards.length",
    "kimi_length": "moreward.rewards.length",
    "cosine_length": "moreward.rewards.length",
    "l1_exact": "moreward.rewards.budget",
    "l1_max": "moreward.rewards.budget",
    "difficulty_budget": "moreward.rewards.budget",
    "ngram_repetition": "moreward.rewards.repetition",
    "reasoning_steps": "moreward.rewards.repetition",
    "scheduled": "moreward.rewards.schedules",
    "think_answer": "moreward.verifiers.format.think",
    "think_or_not": "moreward.verifiers.format.think",
    "tag_grammar": "moreward.verifiers.format.grammar",
    "tag_count": "moreward.verifiers.format.grammar",
    "parallel_thinking": "moreward.verifiers.format.parallel",
    "plan_first": "moreward.verifiers.format.plan",
    "tool_blocks": "moreward.verifiers.format.tools",
    "token_f1": "moreward.verifiers.text",
    "sub_em": "moreward.verifiers.text",
    "multiple_choice": "moreward.verifiers.choice",
    "knights_knaves": "moreward.verifiers.logic",
    "json_structure": "moreward.verifiers.structure.validate",
    "event_facts": "moreward.verifiers.structure.facts",
    "causal_fidelity": "moreward.verifiers.structure.facts",
    "reasoning_gym": "moreward.integrations.reasoning_gym",
    "hf_judge": "moreward.verifiers.judge.hf",
    "openai_judge": "moreward.verifiers.judge.remote",
    "cascade": "moreward.verifiers.judge.cascade",
    "affine": "moreward.recipes.parts",
    "column": "moreward.recipes.parts",
}

_factories: dict[str, Callable[..., Any] | _LazyEntryPoint] = {}
_lock = threading.RLock()
_entry_points_loaded = False


def register(name: str, *, replace: bool = False) -> Callable[[F], F]:
    """Class/function decorator that registers an objective factory under ``name``.

    Raises:
        ConfigError: the name is taken by another factory and ``replace`` is false.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigError(f"objective names must be identifiers, got {name!r}")

    def decorator(factory: F) -> F:
        with _lock:
            old = _factories.get(name)
            if old is not None and old is not factory and not replace and not _same_definition(old, factory):
                raise ConfigError(f"objective name {name!r} is already registered by {_qualname(old)}")
            _factories[name] = factory
        return factory

    return decorator


def _same_definition(a: Any, b: Any) -> bool:
    # A module reloaded (tests, notebooks) re-registers a new object of the same definition.
    return _qualname(a) == _qualname(b)


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _factories or ep.name in _BUILTIN_MODULES:
            continue
        _factories.setdefault(ep.name, _LazyEntryPoint(ep))


class _LazyEntryPoint:
    """Defers loading a plugin until its name is used, so a broken plugin only hurts its users."""

    def __init__(self, ep: metadata.EntryPoint) -> None:
        self.ep = ep

    def load(self) -> Callable[..., Any]:
        try:
            return self.ep.load()  # type: ignore[no-any-return]
        except Exception as exc:
            raise ConfigError(
                f"objective {self.ep.name!r} from entry point {self.ep.value!r} failed to load: {exc}"
            ) from exc


def available() -> list[str]:
    """Sorted names of every objective: built-ins, registered, and entry-point plugins."""
    with _lock:
        _load_entry_points()
        return sorted(set(_factories) | set(_BUILTIN_MODULES))


def get_factory(name: str) -> Callable[..., Any]:
    """The factory registered under ``name``.

    Raises:
        UnknownObjectiveError: no such name; the message lists the close matches.
    """
    with _lock:
        factory = _factories.get(name)
        if factory is None and name in _BUILTIN_MODULES:
            importlib.import_module(_BUILTIN_MODULES[name])
            factory = _factories.get(name)
        if factory is None:
            _load_entry_points()
            factory = _factories.get(name)
        if factory is None:
            names = available()
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownObjectiveError(
                f"unknown objective type {name!r}{hint} (available: {', '.join(names)})"
            )
        if isinstance(factory, _LazyEntryPoint):
            factory = factory.load()
            _factories[name] = factory
        return factory


def get(name: str, /, **options: Any) -> Any:
    """Build the objective registered under ``name`` with ``options``.

    Raises:
        UnknownObjectiveError: the name is unknown.
        ConfigError: an option is unknown or has a bad value; the message names it.
    """
    factory = get_factory(name)
    _check_options(name, factory, options)
    try:
        return factory(**options)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"objective {name!r}: {exc}") from exc


def _check_options(name: str, factory: Callable[..., Any], options: dict[str, Any]) -> None:
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    params = sig.parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    allowed = [n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise ConfigError(
            f"objective {name!r}: unknown option(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(allowed) or '(none)'}"
        )
