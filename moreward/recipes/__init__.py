"""Recipes: the reward schemes of published papers as ready pipelines.

Each recipe is a pipeline config shipped with the package (``moreward/recipes/<name>.toml``,
whose header comment cites the paper, states the formula and says where each default
comes from) and a constructor::

    >>> from moreward import recipes
    >>> pipe = recipes.get("dapo", max_tokens=8192, buffer=1024)
    >>> pipe.names
    ['accuracy', 'length']
    >>> "dapo" in recipes.available()
    True

``get(name, **overrides)`` takes the recipe's named parameters (``recipes.info(name).params``)
and, for anything else, dotted config paths, passed as ``**{"objectives.accuracy.timeout": 2.0}``
or with ``__`` for the dots (``objectives__accuracy__timeout=2.0``). ``config(name, ...)``
returns the config mapping instead of the pipeline; ``show(name)`` the TOML text; ``path(name)``
the file, for ``moreward score -c``.

=================  ===================================================================
recipe             reward
=================  ===================================================================
deepseek_r1        accuracy + format + tag count (DeepSeek-R1, open-r1)
dapo               +1/-1 accuracy + soft overlong punishment (DAPO)
kimi_k15           accuracy + group length reward after a warm-up (Kimi k1.5)
demystify          cosine length-scaled correctness + n-gram repetition (Demystifying Long CoT)
l1_exact, l1_max   length control from the target in the prompt (L1 / LCPO)
vision_r1          format AND answer under staged length limits (Vision-R1 HFRRF + PTST)
ton                outcome + format with an empty think allowed (TON)
sketchthinker_r1   0.5 accuracy + 0.4 format + 0.1 sketch judge (SketchThinker-R1)
parallel_r1        +1/-1 accuracy alternating with the parallel reward (Parallel-R1)
plantain           format gate x (1 + correctness + helpfulness + unit tests) (Plantain)
start              answer counted only when tool outputs re-run true (START)
qwenlong_l1        max(sub-exact-match, LLM judge) (QwenLong-L1)
factum             completeness + causal fidelity + accuracy + length, min-norm (Factum)
warmup_kk          Knights and Knaves -2/-1/-0.5/+2 (Warm Up Before You Train)
avar               acc + 0.3 vis 1[acc > 0] + 0.1 fmt (AVAR)
th2t               accuracy + difficulty-aware length budget (after TH2T)
weight_warmup      accuracy + linearly warmed-up length penalty weight
=================  ===================================================================
"""

from __future__ import annotations

import copy
import difflib
import importlib
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ._catalog import RECIPES, Param, Recipe

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from ..pipeline import Pipeline

__all__ = ["Param", "Recipe", "available", "config", "get", "info", "path", "show"]

_BY_NAME: dict[str, Recipe] = {r.name: r for r in RECIPES}
_ALIASES: dict[str, str] = {a: r.name for r in RECIPES for a in r.aliases}


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        raise ConfigError(f"a recipe name must be a string, got {name!r}")
    key = name.strip().lower().replace("-", "_").replace(".", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in _BY_NAME:
        close = difflib.get_close_matches(key, [*_BY_NAME, *_ALIASES], n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ConfigError(f"unknown recipe {name!r}{hint} (available: {', '.join(available())})")
    return key


def available() -> list[str]:
    """The recipe names, sorted."""
    return sorted(_BY_NAME)


def info(name: str) -> Recipe:
    """The :class:`Recipe` entry: citation, summary, formula, parameters and notes.

    Raises:
        ConfigError: no such recipe (the message lists the close matches).
    """
    return _BY_NAME[_canonical(name)]


def path(name: str) -> Path:
    """The recipe's TOML file (shipped as package data), e.g. for ``moreward score -c``."""
    key = _canonical(name)
    return Path(str(resources.files(__name__).joinpath(f"{key}.toml")))


def show(name: str) -> str:
    """The recipe's TOML text: the header comment (paper, formula, defaults) and the config."""
    return path(name).read_text(encoding="utf-8")


_TOP = ("fields", "objectives", "combiner")


def _set_path(cfg: dict[str, Any], dotted: str, value: Any, *, recipe: str) -> None:
    """Set ``cfg[a][b]...[z] = value`` for ``dotted = "a.b...z"``.

    The first part is ``fields``, ``objectives`` or ``combiner``; under ``objectives`` the
    second names an existing objective unless it is the last part (a new objective).
    Missing tables below that are created; the pipeline's validation then judges the result.
    """
    parts = dotted.split(".")
    if len(parts) < 2 or not all(parts):
        raise ConfigError(f"recipe {recipe!r}: {dotted!r} is not a dotted config path (e.g. 'objectives.length.max_tokens')")
    if parts[0] not in _TOP:
        raise ConfigError(f"recipe {recipe!r}: {dotted!r} must start with one of {', '.join(_TOP)}")
    if parts[0] == "objectives" and len(parts) > 2 and parts[1] not in cfg.get("objectives", {}):
        have = ", ".join(cfg.get("objectives", {}))
        raise ConfigError(f"recipe {recipe!r}: no objective {parts[1]!r} to set {dotted!r}; objectives: {have}")
    node: dict[str, Any] = cfg
    for i, part in enumerate(parts[:-1]):
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"recipe {recipe!r}: {'.'.join(parts[: i + 1])!r} is not a table, cannot set {dotted!r}")
        node = nxt
    node[parts[-1]] = copy.deepcopy(value)


def config(name: str, /, **overrides: Any) -> dict[str, Any]:
    """The recipe's pipeline config as a plain mapping, with ``overrides`` applied.

    ``overrides`` are the recipe's named parameters (``info(name).params``) or dotted config
    paths (``**{"objectives.length.max_tokens": 8192}``, or ``objectives__length__max_tokens``).
    A dotted path may add an option to an existing objective or combiner, and set ``fields``.

    Raises:
        ConfigError: an unknown recipe or parameter, a path into nothing, or a required
            parameter (a judge model, a server URL) left out.
    """
    key = _canonical(name)
    recipe = _BY_NAME[key]
    try:
        cfg: dict[str, Any] = tomllib.loads(show(key))
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - the shipped files are tested
        raise ConfigError(f"recipe {key!r}: {path(key)} is not valid TOML: {exc}") from exc
    params = {p.name: p for p in recipe.params}
    missing = [p for p in recipe.required if p not in overrides]
    if missing:
        docs = "; ".join(f"{p}= ({params[p].doc})" for p in missing)
        raise ConfigError(f"recipe {key!r} needs {docs}")
    for arg, value in overrides.items():
        if arg in params:
            for dotted in params[arg].paths:
                _set_path(cfg, dotted, value, recipe=key)
            continue
        dotted = arg.replace("__", ".")
        if "." not in dotted:
            allowed = ", ".join(params) or "(none)"
            raise ConfigError(
                f"recipe {key!r}: unknown parameter {arg!r}; its parameters: {allowed}; "
                "or give a dotted config path such as **{'objectives.<name>.<option>': value}"
            )
        _set_path(cfg, dotted, value, recipe=key)
    return cfg


def get(name: str, /, **overrides: Any) -> Pipeline:
    """Build the recipe's :class:`~moreward.Pipeline`, with ``overrides`` applied (see :func:`config`).

    Raises:
        ConfigError: as :func:`config`, or the config does not build (the message names the key).

    Example:
        >>> get("deepseek_r1").names
        ['accuracy', 'format', 'tag_count']
    """
    from ..pipeline import Pipeline
    from . import parts  # noqa: F401 - registers the ``affine`` and ``column`` objectives

    key = _canonical(name)
    cfg = config(key, **overrides)
    if _BY_NAME[key].extra == "judge":
        importlib.import_module("moreward.verifiers.judge")  # registers hf_judge, openai_judge, cascade
    try:
        return Pipeline.from_config(cfg)
    except ConfigError as exc:
        raise type(exc)(f"recipe {key!r}: {exc}") from None
