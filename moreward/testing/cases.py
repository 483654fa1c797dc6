"""Golden-case files: ``reward_cases*.yaml``, ``reward_cases*.toml`` and ``reward_cases*.jsonl``.

A case names the reward (a registry ``objective`` with options, or a pipeline
``config``), a completion (text or chat messages), a reference and an
expectation. YAML and TOML files hold a ``cases`` list and optional ``defaults``
merged into every case; a JSONL file holds one case a line (a first line
``{"defaults": {...}}`` is allowed)::

    defaults:
      objective: {type: exact_match, extract: answer_tag}
    cases:
      - id: right-city
        completion: "<answer>Paris</answer>"
        reference: Paris
        expect: {value: 1.0, verdict: pass}
      - id: wrong-city
        completion: "<answer>Rome</answer>"
        reference: Paris
        expect: {max: 0.0, lower_than: right-city}

Case keys: ``id``, ``description``, ``objective`` (a name or ``{type, ...options}``),
``config`` (a path relative to the case file, or an inline config), ``component``
(one objective of the config; without it the combined reward is tested),
``completion`` (required), ``reference``, ``prompt``, ``group``, ``tokens``,
``meta``, ``expect``, ``marks``, ``skip``, ``xfail``. A case with neither
``objective`` nor ``config`` uses the session's ``--moreward-config``.

Expectation keys: ``value`` (a number, or null / ``"none"`` for "no value"),
``tol``, ``min``, ``max``, ``verdict`` (one or a list), ``reason`` (a regular
expression), ``higher_than`` and ``lower_than`` (ids of other cases of the file).
Cases that share a ``group`` and a reward are scored in one batch, so group-aware
rewards see their group. A case without ``expect`` is allowed only as the other
side of an ordering.

Every mistake is a :class:`CaseFileError` naming the file, the case and the field::

    reward_cases.yaml: case 'wrong-city' (cases[1]): expect.verdict: 'pas' is not a verdict; allowed: pass, ...
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import Sample
from ..errors import ConfigError, InputError, missing_extra
from ._outcome import Expectation, parse_verdicts

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "CASE_FILE_PATTERNS",
    "CASE_KEYS",
    "EXPECT_KEYS",
    "Case",
    "CaseFileError",
    "is_case_file",
    "load_cases",
]

CASE_FILE_PATTERNS: tuple[str, ...] = (
    "reward_cases*.yaml",
    "reward_cases*.yml",
    "reward_cases*.toml",
    "reward_cases*.jsonl",
)
CASE_KEYS: tuple[str, ...] = (
    "id",
    "description",
    "objective",
    "config",
    "component",
    "completion",
    "reference",
    "prompt",
    "group",
    "tokens",
    "meta",
    "expect",
    "marks",
    "skip",
    "xfail",
)
EXPECT_KEYS: tuple[str, ...] = (
    "value",
    "tol",
    "min",
    "max",
    "verdict",
    "reason",
    "higher_than",
    "lower_than",
)
_FILE_KEYS = ("defaults", "cases")
_DEFAULT_KEYS = tuple(k for k in CASE_KEYS if k != "id")


class CaseFileError(ConfigError):
    """A golden-case file is invalid; the message names the file, the case and the field."""


def is_case_file(name: str) -> bool:
    """True when a file name matches one of :data:`CASE_FILE_PATTERNS`."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in CASE_FILE_PATTERNS)


@dataclass(frozen=True)
class Case:
    """One golden case, validated.

    ``objective`` is ``{"type": name, **options}``; ``config`` a resolved path or an
    inline mapping; both ``None`` means "the session's config".
    """

    path: Path
    id: str
    where: str
    sample: Sample
    completion: Any
    objective: Mapping[str, Any] | None = None
    config: Path | Mapping[str, Any] | None = None
    component: str | None = None
    expect: Expectation | None = None
    marks: tuple[str, ...] = ()
    skip: str | None = None
    xfail: str | None = None
    description: str = ""

    @property
    def label(self) -> str:
        """``case 'id' (file, cases[i])``, for messages."""
        return f"case {self.id!r} ({self.path.name}, {self.where})"

    @property
    def uses_pipeline(self) -> bool:
        """True when the case scores with a pipeline config (its own or the session's)."""
        return self.objective is None


class _Ctx:
    """Where a value came from, to build error messages."""

    def __init__(self, path: Path, where: str, case_id: str | None = None) -> None:
        self.path, self.where, self.case_id = path, where, case_id

    def error(self, field: str, msg: str) -> CaseFileError:
        label = f"case {self.case_id!r} ({self.where})" if self.case_id else self.where
        return CaseFileError(f"{self.path}: {label}: {field + ': ' if field else ''}{msg}")


def _isnum(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _type(x: Any) -> str:
    return "null" if x is None else type(x).__name__


def _read(path: Path) -> tuple[Any, list[tuple[str, Any]]]:
    """The raw defaults and the raw entries (with where each is) of a case file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CaseFileError(f"{path}: cannot read the case file: {exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path, text)
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CaseFileError(f"{path}: not valid TOML: {exc}") from None
    elif suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:
            err = missing_extra("pyyaml", "yaml")
            raise type(err)(f"{path}: YAML case files need pyyaml. {err}") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CaseFileError(f"{path}: not valid YAML: {exc}") from None
    else:
        raise CaseFileError(
            f"{path}: unknown case file format {suffix!r}; allowed: .yaml, .yml, .toml, .jsonl"
        )
    if not isinstance(data, Mapping):
        raise CaseFileError(f"{path}: the top level must be a mapping with a 'cases' list, got {_type(data)}")
    unknown = [k for k in data if k not in _FILE_KEYS]
    if unknown:
        raise CaseFileError(f"{path}: {unknown[0]}: unknown top-level key; allowed: {', '.join(_FILE_KEYS)}")
    cases = data.get("cases")
    if not isinstance(cases, list):
        got = "missing" if cases is None else f"a {_type(cases)}"
        raise CaseFileError(f"{path}: cases: must be a list of cases, got {got}")
    return data.get("defaults"), [(f"cases[{i}]", c) for i, c in enumerate(cases)]


def _read_jsonl(path: Path, text: str) -> tuple[Any, list[tuple[str, Any]]]:
    defaults: Any = None
    entries: list[tuple[str, Any]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CaseFileError(f"{path}: line {n}: not valid JSON: {exc.msg} (column {exc.colno})") from None
        if isinstance(obj, Mapping) and list(obj) == ["defaults"]:
            if entries or defaults is not None:
                raise CaseFileError(f"{path}: line {n}: defaults: only the first line may hold defaults")
            defaults = obj["defaults"]
            continue
        entries.append((f"line {n}", obj))
    return defaults, entries


def load_cases(path: str | Path) -> list[Case]:
    """Read and validate every case of a golden-case file, in file order.

    Raises:
        CaseFileError: naming the file, the case and the field.
        MissingExtraError: a YAML file and no pyyaml.
    """
    path = Path(path)
    raw_defaults, entries = _read(path)
    dctx = _Ctx(path, "defaults")
    defaults: Mapping[str, Any] = {}
    if raw_defaults is not None:
        if not isinstance(raw_defaults, Mapping):
            raise dctx.error("", f"must be a mapping, got {_type(raw_defaults)}")
        for key in raw_defaults:
            if key not in _DEFAULT_KEYS:
                raise dctx.error(str(key), f"unknown key; allowed: {', '.join(_DEFAULT_KEYS)}")
        defaults = raw_defaults
        # Checked here too, since cases that name their own reward never read them.
        if "objective" in defaults:
            _objective(defaults["objective"], dctx)
        if "config" in defaults:
            _config(defaults["config"], dctx, path)
        if "objective" in defaults and "config" in defaults:
            raise dctx.error("objective", "give either 'objective' or 'config', not both")
    if not entries:
        raise CaseFileError(f"{path}: cases: the file has no cases")
    jsonl = path.suffix.lower() == ".jsonl"
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for i, (where, entry) in enumerate(entries):
        case = _parse_case(
            path, where, entry, defaults, dctx, default_id=f"line{where[5:]}" if jsonl else f"case{i + 1}"
        )
        if case.id in seen:
            raise _Ctx(path, where, case.id).error("id", f"duplicate id; first used at {seen[case.id]}")
        seen[case.id] = where
        cases.append(case)
    _check_orderings(path, cases)
    return cases


def _parse_case(
    path: Path, where: str, entry: Any, defaults: Mapping[str, Any], dctx: _Ctx, *, default_id: str
) -> Case:
    ctx = _Ctx(path, where)
    if not isinstance(entry, Mapping):
        raise ctx.error("", f"a case must be a mapping, got {_type(entry)}")
    raw_id = entry.get("id", default_id)
    if (
        not isinstance(raw_id, str)
        or not raw_id.strip()
        or "::" in raw_id
        or any(c in raw_id for c in "\n\r\t")
    ):
        raise ctx.error("id", f"must be a non-empty one-line string without '::', got {raw_id!r}")
    ctx = _Ctx(path, where, raw_id)
    for key in entry:
        if key not in CASE_KEYS:
            raise ctx.error(str(key), f"unknown key; allowed: {', '.join(CASE_KEYS)}")
    own_target = "objective" in entry or "config" in entry
    merged = {k: v for k, v in defaults.items() if not (own_target and k in ("objective", "config"))}
    merged.update(entry)

    def src(key: str) -> _Ctx:
        return ctx if key in entry else dctx

    objective = _objective(merged["objective"], src("objective")) if "objective" in merged else None
    config = _config(merged["config"], src("config"), path) if "config" in merged else None
    if objective is not None and config is not None:
        raise ctx.error("objective", "give either 'objective' or 'config', not both")
    component = merged.get("component")
    if component is not None:
        if not isinstance(component, str) or not component:
            raise src("component").error(
                "component", f"must be an objective name of the config, got {component!r}"
            )
        if objective is not None:
            raise ctx.error(
                "component", "only a pipeline case ('config') has components; this case names an objective"
            )
    if "completion" not in merged:
        raise ctx.error("completion", "required key is missing")
    sample = _sample(merged, src)
    expect = _expect(merged["expect"], src("expect")) if "expect" in merged else None
    if expect is not None and objective is None and component is None:
        for key, name in (("verdicts", "verdict"), ("reason", "reason")):
            if getattr(expect, key):
                raise src("expect").error(
                    f"expect.{name}",
                    "the combined reward of a pipeline has no verdict or reason; name one objective with 'component'",
                )
    return Case(
        path=path,
        id=raw_id,
        where=where,
        sample=sample,
        completion=merged["completion"],
        objective=objective,
        config=config,
        component=component,
        expect=expect,
        marks=_marks(merged.get("marks"), src("marks")),
        skip=_reason_flag(merged.get("skip"), src("skip"), "skip"),
        xfail=_reason_flag(merged.get("xfail"), src("xfail"), "xfail"),
        description=_description(merged.get("description"), src("description")),
    )


def _objective(raw: Any, ctx: _Ctx) -> dict[str, Any]:
    if isinstance(raw, str):
        spec: dict[str, Any] = {"type": raw}
    elif isinstance(raw, Mapping):
        spec = dict(raw)
        if "type" not in spec:
            raise ctx.error("objective.type", "required key is missing (the registry name of the objective)")
    else:
        raise ctx.error(
            "objective", f"must be a registry name or a mapping with 'type' and options, got {_type(raw)}"
        )
    name = spec["type"]
    if not isinstance(name, str) or not name.isidentifier():
        raise ctx.error("objective.type", f"must be a registry name, got {name!r}")
    return spec


def _config(raw: Any, ctx: _Ctx, path: Path) -> Path | Mapping[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str) or not raw:
        raise ctx.error(
            "config", f"must be a path (relative to the case file) or an inline config, got {_type(raw)}"
        )
    p = Path(raw).expanduser()
    if not p.is_absolute():
        p = path.parent / p
    if not p.is_file():
        raise ctx.error("config", f"file not found: {p}")
    return p


def _sample(merged: Mapping[str, Any], src: Any) -> Sample:
    completion = merged["completion"]
    if not isinstance(completion, (str, list)):
        raise src("completion").error(
            "completion", f"must be a string or a list of chat messages, got {_type(completion)}"
        )
    prompt = merged.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise src("prompt").error("prompt", f"must be a string, got {_type(prompt)}")
    group = merged.get("group")
    if group is not None and (isinstance(group, bool) or not isinstance(group, (str, int))):
        raise src("group").error("group", f"must be a string or an integer, got {_type(group)}")
    tokens = merged.get("tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0):
        raise src("tokens").error("tokens", f"must be a non-negative integer, got {tokens!r}")
    meta = merged.get("meta")
    if meta is not None and not isinstance(meta, Mapping):
        raise src("meta").error("meta", f"must be a mapping, got {_type(meta)}")
    kwargs: dict[str, Any] = {"prompt": prompt, "group": group, "tokens": tokens, "meta": dict(meta or {})}
    try:
        if isinstance(completion, str):
            return Sample(completion, merged.get("reference"), **kwargs)
        return Sample.from_messages(completion, merged.get("reference"), **kwargs)
    except InputError as exc:
        raise src("completion").error("completion", str(exc)) from None


def _number(raw: Any, ctx: _Ctx, field: str) -> float:
    if not _isnum(raw):
        raise ctx.error(field, f"must be a number, got {raw!r}")
    return float(raw)


def _ids(raw: Any, ctx: _Ctx, field: str) -> tuple[str, ...]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or not all(isinstance(x, str) and x for x in items):
        raise ctx.error(field, f"must be a case id or a list of case ids, got {raw!r}")
    return tuple(items)


def _expect(raw: Any, ctx: _Ctx) -> Expectation:
    if not isinstance(raw, Mapping):
        raise ctx.error("expect", f"must be a mapping with any of {', '.join(EXPECT_KEYS)}, got {_type(raw)}")
    for key in raw:
        if key not in EXPECT_KEYS:
            raise ctx.error(f"expect.{key}", f"unknown key; allowed: {', '.join(EXPECT_KEYS)}")
    if not raw:
        raise ctx.error("expect", f"is empty; give any of {', '.join(EXPECT_KEYS)}")
    kwargs: dict[str, Any] = {}
    if "value" in raw:
        v = raw["value"]
        if v is None or (isinstance(v, str) and v.strip().lower() in ("none", "null")):
            kwargs["value"] = None
        elif _isnum(v):
            kwargs["value"] = float(v)
        else:
            raise ctx.error(
                "expect.value", f"must be a number, or null ('none' in TOML) for no value, got {v!r}"
            )
    elif "tol" in raw:
        raise ctx.error("expect.tol", "is the tolerance of 'value', which is not given")
    for key in ("tol", "min", "max"):
        if key in raw:
            kwargs[key] = _number(raw[key], ctx, f"expect.{key}")
    if "verdict" in raw:
        v = raw["verdict"]
        if not isinstance(v, (str, list)):
            raise ctx.error("expect.verdict", f"must be a verdict name or a list of them, got {_type(v)}")
        try:
            kwargs["verdicts"] = parse_verdicts(v)
        except ValueError as exc:
            raise ctx.error("expect.verdict", str(exc)) from None
    if "reason" in raw:
        if not isinstance(raw["reason"], str):
            raise ctx.error(
                "expect.reason", f"must be a regular expression string, got {_type(raw['reason'])}"
            )
        kwargs["reason"] = raw["reason"]
    for key in ("higher_than", "lower_than"):
        if key in raw:
            kwargs[key] = _ids(raw[key], ctx, f"expect.{key}")
    try:
        return Expectation(**kwargs)
    except ValueError as exc:
        field = "expect.reason" if "regular expression" in str(exc) else "expect"
        raise ctx.error(field, str(exc)) from None


def _marks(raw: Any, ctx: _Ctx) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(x, str) and x.isidentifier() for x in items):
        raise ctx.error("marks", f"must be a marker name or a list of marker names, got {raw!r}")
    return tuple(items)


def _reason_flag(raw: Any, ctx: _Ctx, field: str) -> str | None:
    if raw is None or raw is False:
        return None
    if raw is True:
        return f"marked {field} in the case file"
    if isinstance(raw, str) and raw:
        return raw
    raise ctx.error(field, f"must be true or a reason string, got {raw!r}")


def _description(raw: Any, ctx: _Ctx) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ctx.error("description", f"must be a string, got {_type(raw)}")
    return raw


def _check_orderings(path: Path, cases: Sequence[Case]) -> None:
    ids = {c.id for c in cases}
    referenced: set[str] = set()
    for c in cases:
        if c.expect is None:
            continue
        for key in ("higher_than", "lower_than"):
            for other in getattr(c.expect, key):
                if other == c.id:
                    raise _Ctx(path, c.where, c.id).error(
                        f"expect.{key}", "a case cannot be ordered against itself"
                    )
                if other not in ids:
                    raise _Ctx(path, c.where, c.id).error(
                        f"expect.{key}",
                        f"no case with id {other!r} in this file; ids: {', '.join(sorted(ids))}",
                    )
                referenced.add(other)
    for c in cases:
        if c.expect is None and c.id not in referenced:
            raise _Ctx(path, c.where, c.id).error(
                "expect",
                f"required key is missing (give any of {', '.join(EXPECT_KEYS)}); only a case named by "
                "another case's higher_than/lower_than may go without one",
            )
