"""Pipeline configuration: pydantic models read from TOML, YAML, JSON or a dict.

Every mistake is a :class:`~moreward.errors.ConfigError` that names the file, the
key (as a dotted path) and what is allowed::

    examples/config.toml: objectives.accuracy.typo: unknown option 'typo'; allowed: timeout, ...

Example:
    >>> cfg = load_config({"objectives": {"em": {"type": "exact_match"}}})
    >>> cfg.combiner.method
    'weighted_sum'
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError, InputError, missing_extra

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["CombinerConfig", "FieldsConfig", "ObjectiveConfig", "PipelineConfig", "load_config"]

Direction = Literal["max", "min"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldsConfig(_Strict):
    """Which keys of an input row (a JSONL line) hold each part of a sample.

    ``completion`` may hold a string or a list of chat messages. Only
    ``completion`` is required in a row; the others are read when present.
    """

    completion: str = "completion"
    reference: str = "reference"
    prompt: str = "prompt"
    group: str = "group"
    tokens: str = "tokens"

    def to_sample(self, row: Mapping[str, Any], *, meta_keys: bool = True) -> Any:
        """Build a :class:`~moreward.core.Sample` from one row.

        The row's other keys go to ``meta`` so objectives can read dataset columns.

        Raises:
            InputError: the completion field is missing or of the wrong type.
        """
        from .core import Sample

        if not isinstance(row, Mapping):
            raise InputError(f"a row must be a JSON object, got {type(row).__name__}")
        if self.completion not in row:
            raise InputError(f"missing field {self.completion!r} (the completion; keys present: {', '.join(map(str, row)) or 'none'})")
        completion = row[self.completion]
        tokens = row.get(self.tokens)
        if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int)):
            raise InputError(f"field {self.tokens!r} (tokens) must be an integer, got {tokens!r:.40}")
        used = {self.completion, self.reference, self.prompt, self.group, self.tokens}
        meta = {k: v for k, v in row.items() if k not in used} if meta_keys else {}
        prompt = row.get(self.prompt)
        if prompt is not None and not isinstance(prompt, str):
            prompt = json.dumps(prompt, sort_keys=True)  # a chat prompt: keep it hashable and comparable
        group = row.get(self.group)
        if isinstance(group, (list, dict)):
            group = json.dumps(group, sort_keys=True)
        reference = row.get(self.reference)
        if isinstance(completion, str):
            return Sample(completion, reference, prompt=prompt, group=group, tokens=tokens, meta=meta)
        if isinstance(completion, list):
            return Sample.from_messages(completion, reference, prompt=prompt, group=group, tokens=tokens, meta=meta)
        raise InputError(
            f"field {self.completion!r} (the completion) must be a string or a list of chat messages, "
            f"got {type(completion).__name__}"
        )


class ObjectiveConfig(BaseModel):
    """One objective: its registry ``type``, its ``direction``, the ``data_sources`` it applies
    to (all when absent; others get ``SKIP``), and its options (any other keys)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(min_length=1)
    direction: Direction = "max"
    data_sources: list[str] | None = None

    @property
    def options(self) -> dict[str, Any]:
        """The keys other than ``type``, ``direction`` and ``data_sources``: passed to the objective's factory."""
        return dict(self.model_extra or {})


class CombinerConfig(BaseModel):
    """The combiner: ``method`` (a name from :func:`moreward.pareto.available_combiners`) and its options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    method: str = Field(default_factory=lambda: _default_combiner())

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @field_validator("method")
    @classmethod
    def _known_method(cls, v: str) -> str:
        from .pareto import available_combiners

        allowed = available_combiners()
        if v not in allowed:
            raise ValueError(f"unknown combiner method {v!r}; allowed: {', '.join(allowed)}")
        return v


def _default_combiner() -> str:
    from .pareto import DEFAULT_COMBINER

    return DEFAULT_COMBINER


class PipelineConfig(_Strict):
    """A whole pipeline: field mapping, objectives by name, and the combiner."""

    fields: FieldsConfig = FieldsConfig()
    objectives: dict[str, ObjectiveConfig]
    combiner: CombinerConfig = Field(default_factory=CombinerConfig)

    @model_validator(mode="after")
    def _check(self) -> PipelineConfig:
        if not self.objectives:
            raise ValueError("objectives: at least one objective is needed")
        for name in self.objectives:
            if not name.isidentifier():
                raise ValueError(f"objectives.{name}: objective names must be identifiers")
        weights = self.combiner.options.get("weights")
        if isinstance(weights, Mapping):
            unknown = sorted(set(weights) - set(self.objectives))
            if unknown:
                raise ValueError(
                    f"combiner.weights names unknown objective(s) {', '.join(map(repr, unknown))}; "
                    f"objectives: {', '.join(self.objectives)}"
                )
        return self


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config: {exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError as exc:
                raise missing_extra("pyyaml", "yaml") from exc
            return yaml.safe_load(text)
        if suffix == ".json":
            return json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {suffix[1:].upper()}: {exc}") from exc
    except Exception as exc:  # yaml.YAMLError without importing yaml at module level
        if type(exc).__module__.startswith("yaml"):
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        raise
    raise ConfigError(f"{path}: unknown config format {suffix!r}; allowed: .toml, .yaml, .yml, .json")


def _format_error(err: Mapping[str, Any], model: type[BaseModel]) -> str:
    loc = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        parent: Any = model
        for part in err["loc"][:-1]:
            is_model = isinstance(parent, type) and issubclass(parent, BaseModel)
            field = parent.model_fields.get(str(part)) if is_model else None
            parent = field.annotation if field is not None else None
        is_model = isinstance(parent, type) and issubclass(parent, BaseModel)
        allowed = ", ".join(parent.model_fields) if is_model else "?"
        return f"{loc}: unknown key; allowed: {allowed}"
    if kind == "missing":
        return f"{loc}: required key is missing"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def load_config(source: str | Path | Mapping[str, Any] | PipelineConfig) -> PipelineConfig:
    """Read and validate a pipeline config from a file path (TOML/YAML/JSON) or a mapping.

    Raises:
        ConfigError: the file cannot be read or parsed, or a key or value is invalid.
    """
    if isinstance(source, PipelineConfig):
        return source
    where = "config"
    if isinstance(source, (str, Path)):
        path = Path(source)
        where = str(path)
        data = _read(path)
    else:
        data = source
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: the top level must be a table/mapping, got {type(data).__name__}")
    try:
        return PipelineConfig.model_validate(dict(data))
    except ValidationError as exc:
        lines = [_format_error(e, PipelineConfig) for e in exc.errors()]
        raise ConfigError(f"{where}: " + "; ".join(lines)) from None
