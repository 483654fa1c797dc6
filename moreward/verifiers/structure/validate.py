"""JSON found in a completion, validated against a pydantic model or a JSON Schema, with a
completeness score.

Completeness: the share of the checked slots that are present and valid, where the
slots are the required top-level fields, plus any other field that has an error, plus
one slot for errors that belong to no field (an extra key that is forbidden, a list
where an object was expected). It is 1 exactly when the whole object validates, and
with only required fields involved it is "the share of required fields present and
valid".
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ValidationError

from ...core import BaseObjective, Sample, Score, Verdict
from ...errors import ConfigError
from ...registry import register
from ..format.grammar import fenced_blocks

__all__ = ["JsonStructure", "completeness", "find_json"]


JsonExtract = Literal["auto", "tag", "fence", "full", "braces"]
_EXTRACT = ("auto", "tag", "fence", "full", "braces")
_FENCE_LANGS = ("json", "jsonc", "")
_MAX_BRACE_TRIES = 2000  # failed parses before the brace scan gives up (LaTeX is full of braces)
_BRACE = re.compile(r"\{")


def find_json(text: str, *, extract: JsonExtract = "auto", tag: str = "json") -> tuple[Any, str, str | None]:
    """The JSON value in ``text``: ``(value, source, error)``.

    ``source`` says where it was found: the last ``<tag>`` block, the last fenced block
    labelled ``json`` (or unlabelled), the whole text, or the last top-level ``{...}``
    object in the text that parses (``"braces"``; not ``[...]``, which maths is full of). ``"auto"`` tries them in that order and uses the
    first kind present: a malformed tag block is an error, not a reason to look elsewhere.
    ``error`` is ``None`` on success; ``value`` is then the decoded JSON.
    """
    if extract in ("auto", "tag"):
        blocks = re.findall(rf"<{re.escape(tag)}>(.*?)</{re.escape(tag)}>", text, re.S)
        if blocks:
            return _decode(blocks[-1], "tag")
    if extract in ("auto", "fence"):
        fences = [f for f in fenced_blocks(text) if f.lang in _FENCE_LANGS and f.closed]
        if fences:
            return _decode(fences[-1].body, "fence")
    if extract in ("auto", "full") and (extract == "full" or text.strip()[:1] in ("{", "[")):
        value, source, error = _decode(text, "full")
        if error is None or extract == "full":
            return value, source, error
    if extract in ("auto", "braces"):
        decoder, found, pos, failures = json.JSONDecoder(), None, 0, 0
        for m in _BRACE.finditer(text):
            if m.start() < pos:
                continue
            try:
                value, pos = decoder.raw_decode(text, m.start())
            except ValueError:
                failures += 1
                if failures > _MAX_BRACE_TRIES:
                    break
                continue
            found = (value,) if isinstance(value, dict) else found
        if found is not None:
            return found[0], "braces", None
    return None, "", f"no JSON found ({extract})"


def _decode(raw: str, source: str) -> tuple[Any, str, str | None]:
    try:
        return json.loads(raw), source, None
    except ValueError as exc:
        return None, source, f"invalid JSON in the {source}: {exc}"


def completeness(errors: Sequence[tuple[tuple[Any, ...], str]], value: Any, required: Sequence[str]) -> dict[str, Any]:
    """The completeness of ``value`` given validation ``errors`` as ``(path, message)``
    pairs and the ``required`` top-level fields (see the module docstring).

    Returns ``completeness``, ``missing`` and ``invalid`` field names and ``n_slots``.
    """
    obj = value if isinstance(value, Mapping) else {}
    bad: set[str] = set()
    root = not isinstance(value, Mapping) and bool(required)
    for path, _ in errors:
        if path and isinstance(path[0], str) and path[0] in obj:
            bad.add(path[0])
        elif not (path and path[0] in required):
            root = True
    missing = [f for f in required if f not in obj]
    slots = set(required) | bad
    n = len(slots) + root
    ok = len([f for f in slots if f in obj and f not in bad])
    share = 1.0 if n == 0 else ok / n
    return {"completeness": share, "missing": missing, "invalid": sorted(bad), "n_slots": n}


class _Checker:
    """Validates a decoded value against a pydantic model or a JSON Schema."""

    def __init__(self, model: type[BaseModel] | None, schema: Mapping[str, Any] | None) -> None:
        self.model, self.schema = model, schema
        if model is not None:
            self.required = [f.alias or n for n, f in model.model_fields.items() if f.is_required()]
        else:
            assert schema is not None
            self.required = list(schema.get("required", [])) if schema.get("type", "object") == "object" else []
            self._validator = _schema_validator(schema)

    def errors(self, value: Any) -> list[tuple[tuple[Any, ...], str]]:
        if self.model is not None:
            try:
                self.model.model_validate(value)
            except ValidationError as exc:
                return [(tuple(e["loc"]), e["msg"]) for e in exc.errors()]
            return []
        return self._validator(value)


def _schema_validator(schema: Mapping[str, Any]) -> Any:
    try:
        import jsonschema
    except ImportError:  # the built-in subset below covers the common keywords
        return lambda value: _mini_validate(schema, value, ())
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ConfigError(f"invalid JSON schema: {exc.message}") from exc
    validator = cls(schema)

    def errors(value: Any) -> list[tuple[tuple[Any, ...], str]]:
        out = []
        for e in validator.iter_errors(value):
            path = tuple(e.absolute_path)
            if e.validator == "required" and isinstance(e.instance, dict):  # name the missing field
                out += [((*path, k), e.message) for k in e.validator_value if k not in e.instance]
            else:
                out.append((path, e.message))
        return out

    return errors


_TYPES: dict[str, Any] = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES.get(name, object))


def _mini_validate(schema: Mapping[str, Any], value: Any, path: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """A JSON Schema subset (type, enum, const, bounds, lengths, pattern, properties,
    required, additionalProperties, items, anyOf/oneOf/allOf), used without ``jsonschema``."""
    errs: list[tuple[tuple[Any, ...], str]] = []
    t = schema.get("type")
    if t is not None:
        if not any(_is_type(value, x) for x in ([t] if isinstance(t, str) else t)):
            return [(path, f"{value!r:.40} is not of type {t}")]
    if "enum" in schema and value not in schema["enum"]:
        errs.append((path, f"{value!r:.40} is not one of {schema['enum']}"))
    if "const" in schema and value != schema["const"]:
        errs.append((path, f"{value!r:.40} is not {schema['const']!r}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for key, bad in (("minimum", value < schema.get("minimum", value)), ("maximum", value > schema.get("maximum", value)),
                         ("exclusiveMinimum", "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]),
                         ("exclusiveMaximum", "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"])):
            if bad:
                errs.append((path, f"{value} violates {key} {schema[key]}"))
    if isinstance(value, (str, list)):
        lo, hi = ("minLength", "maxLength") if isinstance(value, str) else ("minItems", "maxItems")
        if len(value) < schema.get(lo, 0) or len(value) > schema.get(hi, len(value)):
            errs.append((path, f"length {len(value)} violates {lo}/{hi}"))
    if isinstance(value, str) and "pattern" in schema and re.search(schema["pattern"], value) is None:
        errs.append((path, f"{value!r:.40} does not match {schema['pattern']!r}"))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errs += [((*path, k), f"{k!r} is a required property") for k in schema.get("required", []) if k not in value]
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                errs += _mini_validate(props[k], v, (*path, k))
            elif extra is False:
                errs.append((path, f"additional property {k!r} is not allowed"))
            elif isinstance(extra, Mapping):
                errs += _mini_validate(extra, v, (*path, k))
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, v in enumerate(value):
            errs += _mini_validate(schema["items"], v, (*path, i))
    for sub in schema.get("allOf", []):
        errs += _mini_validate(sub, value, path)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            n_ok = sum(not _mini_validate(sub, value, path) for sub in schema[key])
            if n_ok == 0 or (key == "oneOf" and n_ok > 1):
                errs.append((path, f"{value!r:.40} does not match {key}"))
    return errs


def _load_model(model: str | type[BaseModel]) -> type[BaseModel]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    if not isinstance(model, str) or ":" not in model:
        raise ConfigError(f"model must be a pydantic model class or 'package.module:Name', got {model!r}")
    module, _, attr = model.partition(":")
    try:
        obj = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"model {model!r} cannot be imported: {exc}") from exc
    if not (isinstance(obj, type) and issubclass(obj, BaseModel)):
        raise ConfigError(f"model {model!r} is not a pydantic model")
    return obj


def _load_schema(schema: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(schema, Mapping):
        return dict(schema)
    try:
        loaded = json.loads(Path(schema).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"schema file {schema!r} cannot be read as JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"schema file {schema!r} does not hold a JSON object")
    return loaded


@register("json_structure")
class JsonStructure(BaseObjective):
    """JSON found in the completion (:func:`find_json`), validated against a pydantic
    ``model`` or a JSON ``schema``; the value is the completeness (module docstring).

    PASS (1.0) when it validates; PARTIAL or FAIL (the completeness) when it does not;
    INVALID (0.0) when no JSON is found or it does not parse. With
    ``partial_credit=False`` the value is 1 or 0. JSON Schema uses ``jsonschema`` when
    it is installed, else a built-in subset of the keywords.

    Args:
        model: a pydantic model class or ``"package.module:Name"``.
        schema: a JSON Schema (a mapping, or a path to a ``.json`` file).
        extract: ``"auto"``, ``"tag"``, ``"fence"``, ``"full"`` or ``"braces"``.
        tag: the tag for ``"tag"`` extraction.
        partial_credit: score the completeness rather than 1/0.
    """

    name: ClassVar[str] = "json_structure"

    def __init__(
        self,
        *,
        model: str | type[BaseModel] | None = None,
        schema: Mapping[str, Any] | str | None = None,
        extract: JsonExtract = "auto",
        tag: str = "json",
        partial_credit: bool = True,
    ) -> None:
        if (model is None) == (schema is None):
            raise ConfigError("give exactly one of model (a pydantic model) or schema (a JSON Schema)")
        if extract not in _EXTRACT:
            raise ConfigError(f"extract={extract!r} is not allowed; allowed: {', '.join(_EXTRACT)}")
        if not isinstance(tag, str) or not re.fullmatch(r"[A-Za-z][\w.:-]*", tag):
            raise ConfigError(f"tag {tag!r} is not a valid tag name")
        self.model = model
        self.schema = schema
        self.extract = extract
        self.tag = tag
        self.partial_credit = bool(partial_credit)
        self._checker = _Checker(_load_model(model) if model is not None else None,
                                 _load_schema(schema) if schema is not None else None)

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_checker"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def score(self, sample: Sample) -> Score:
        value, source, error = find_json(sample.completion, extract=self.extract, tag=self.tag)
        if error is not None:
            return Score(0.0, Verdict.INVALID, error, {"source": source})
        errors = self._checker.errors(value)
        info = completeness(errors, value, self._checker.required)
        details = {**info, "source": source, "errors": [f"{'/'.join(map(str, p)) or '(root)'}: {m}" for p, m in errors[:20]]}
        if not errors:
            return Score(1.0, Verdict.PASS, "valid", details)
        share = info["completeness"] if self.partial_credit else 0.0
        verdict = Verdict.PARTIAL if share > 0 else Verdict.FAIL
        return Score(share, verdict, f"{len(errors)} validation error(s); completeness {info['completeness']:.2f}", details)
