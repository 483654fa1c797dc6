"""Reading a sample's tests from the formats datasets ship them in.

One normal form, :class:`TestSuite`, from whatever ``Sample.reference`` holds:

* ``[{"input": ..., "output": ...}, ...]`` (also ``stdin``/``stdout``): stdin/stdout tests.
* ``{"inputs": [...], "outputs": [...]}`` (APPS, verl ``prime_code``, also as a JSON
  string or under ``"input_output"``): stdin/stdout, or function calls when
  ``"fn_name"`` is given (each input is then the argument list).
* ``{"fn_name": ..., "tests": [{"input": args, "output": value}, ...]}``: function calls.
* ``{"test": "def check(candidate): ...", "entry_point": ..., "prompt": ...}``
  (HumanEval): one assert-style test run by the trusted checker; the prompt (or
  ``"prelude"``) is trusted helper code the test may use.
* ``{"test_list": ["assert f(1) == 2", ...]}`` (MBPP) or a list of assert strings: one
  assert-style test per statement (``"test_setup_code"``/``"test_imports"`` is the prelude).
* ``{"tests": <any of the above>, "time_limit": 1.0, "memory_limit": 256,
  "language": "cpp", "weights": [...], "prefix": "import sys\\n"}``: per-sample overrides.

Expected outputs stay in the parent; only inputs and (for assert-style tests) the
test code go to the sandbox, the latter to the checker process alone.
"""

from __future__ import annotations

import functools
import json
import opcode
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["TestKind", "TestSuite", "parse_tests"]

TestKind = Literal["stdio", "call", "assert"]
_KINDS = ("auto", "stdio", "call", "assert")


@dataclass
class TestSuite:
    """A sample's tests in normal form.

    ``inputs`` are stdin strings (stdio), argument lists (call), or checker items
    ``{"code", "prelude", "entry_point"}`` (assert); ``expected`` holds the expected
    stdout or return value per test (``None`` for assert tests).
    """

    kind: TestKind
    inputs: list[Any]
    expected: list[Any]
    entry_point: str | None = None
    weights: list[float] | None = None
    time_limit: float | None = None
    memory_mb: int | None = None
    language: str | None = None
    prefix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.inputs)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(_text(v) for v in value) + ("\n" if value else "")
    return str(value)


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        s = value.strip()
        if s[:1] in "[{":
            try:
                return json.loads(s)
            except ValueError:
                return value
    return value


def parse_tests(reference: Any, kind: str = "auto") -> TestSuite:
    """Normalise ``reference`` into a :class:`TestSuite`.

    Raises:
        ValueError: the reference holds no tests in a known format (the message says why).
    """
    if kind not in _KINDS:
        raise ValueError(f"test kind {kind!r} is not allowed; allowed: {', '.join(_KINDS)}")
    reference = _maybe_json(reference)
    overrides: dict[str, Any] = {}
    while isinstance(reference, Mapping) and ("tests" in reference or "input_output" in reference):
        outer = dict(reference)
        inner = outer.pop("tests") if "tests" in outer else outer.pop("input_output")
        overrides.update(outer)
        reference = _maybe_json(inner)
    if isinstance(reference, Mapping):
        overrides.update(reference)
    suite = _parse(reference, kind, overrides)
    if not suite.inputs:
        raise ValueError("the reference holds no tests")
    if kind != "auto" and suite.kind != kind:
        raise ValueError(f"expected {kind} tests, the reference holds {suite.kind} tests")
    weights = overrides.get("weights")
    if weights is not None:
        if not isinstance(weights, Sequence) or len(weights) != len(suite.inputs):
            raise ValueError(f"weights must be a list of {len(suite.inputs)} numbers")
        suite.weights = [float(w) for w in weights]
    if overrides.get("time_limit") is not None:
        suite.time_limit = float(overrides["time_limit"])
    if overrides.get("memory_limit") is not None:
        suite.memory_mb = int(overrides["memory_limit"])
    if overrides.get("language"):
        suite.language = str(overrides["language"])
    if overrides.get("prefix"):
        suite.prefix = str(overrides["prefix"])
    return suite


def _parse(ref: Any, kind: str, meta: Mapping[str, Any]) -> TestSuite:
    fn_name = meta.get("fn_name") or meta.get("entry_point") if kind == "call" else meta.get("fn_name")
    if isinstance(ref, Mapping):
        if "inputs" in ref and "outputs" in ref:
            ins, outs = list(ref["inputs"]), list(ref["outputs"])
            if len(ins) != len(outs):
                raise ValueError(f"{len(ins)} inputs but {len(outs)} outputs")
            if fn_name:
                return TestSuite("call", [_args(a) for a in ins], outs, entry_point=str(fn_name))
            return TestSuite("stdio", [_text(a) for a in ins], [_text(o) for o in outs])
        if "test" in ref and isinstance(ref["test"], str):
            entry = ref.get("entry_point")
            prelude = ref.get("prelude", ref.get("prompt", ""))
            _require_check(ref["test"], "the 'test' program")
            return TestSuite("assert", [{"code": ref["test"], "prelude": prelude or "", "entry_point": entry}],
                             [None], entry_point=entry)
        if "test_list" in ref:
            prelude = "\n".join(str(ref.get(k) or "") for k in ("test_imports", "test_setup_code")
                                if ref.get(k))
            if isinstance(ref.get("test_imports"), list):
                prelude = "\n".join(ref["test_imports"]) + "\n" + str(ref.get("test_setup_code") or "")
            return _asserts(list(ref["test_list"]), prelude, ref.get("entry_point"))
        raise ValueError(f"unknown test format with keys {sorted(ref)[:8]}")
    if isinstance(ref, str):
        return _asserts([ref], "", meta.get("entry_point"))
    if isinstance(ref, Sequence) and ref:
        if all(isinstance(t, str) for t in ref):
            return _asserts(list(ref), str(meta.get("prelude") or ""), meta.get("entry_point"))
        if all(isinstance(t, Mapping) for t in ref):
            first = ref[0]
            in_key = next((k for k in ("input", "stdin", "args") if k in first), None)
            out_key = next((k for k in ("output", "stdout", "expected", "return") if k in first), None)
            if in_key is None or out_key is None:
                raise ValueError(f"test cases need input/output keys, got {sorted(first)[:8]}")
            if fn_name or in_key == "args":
                if not fn_name:
                    raise ValueError("function-call tests need 'fn_name'")
                return TestSuite("call", [_args(t[in_key]) for t in ref], [t[out_key] for t in ref],
                                 entry_point=str(fn_name))
            return TestSuite("stdio", [_text(t[in_key]) for t in ref], [_text(t[out_key]) for t in ref])
    raise ValueError(f"no tests in a reference of type {type(ref).__name__}")


def _args(value: Any) -> list[Any]:
    value = _maybe_json(value)
    if isinstance(value, str):  # LiveCodeBench: one JSON value per line
        parts = []
        for line in value.splitlines():
            if line.strip():
                parts.append(json.loads(line))
        return parts
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _require_check(code: str, where: str) -> None:
    """An assert-style test must be able to fail: it needs an ``assert`` or a ``raise``.

    Without one (``"add(1, 2) == 3"``, a bare ``"42"``), every program that runs would
    pass: a false positive a policy learns to exploit, so such a reference is ungradeable.
    """
    problem = _check_problem(code)
    if problem:
        raise ValueError(f"{where} {problem}")


@functools.lru_cache(maxsize=1024)
def _check_problem(code: str) -> str:
    """What makes ``code`` unusable as an assert-style test ("" if nothing). Cached: every
    rollout of a prompt (a GRPO group) carries the same test.

    Why ``compile`` rather than ``ast.parse``: CPython up to 3.12 keeps the depth counter
    of its AST-object builder per interpreter, not per thread, so two threads parsing at
    once (``score_batch`` reads suites in a thread pool) can fail with
    ``SystemError: AST constructor recursion depth mismatch`` (seen in CI here, and in
    pytest-dev/pytest#10763, python/cpython#106905). ``compile`` builds no AST objects,
    and it also rejects what the checker's own ``compile`` would (``return`` outside a
    function). Whether the test can fail is read from the bytecode: ``assert`` and
    ``raise`` both end in a ``RAISE_VARARGS`` instruction (``optimize=0`` keeps asserts
    even under ``python -O``).
    """
    try:
        compiled = compile(code, "test.py", "exec", dont_inherit=True, optimize=0)
    except SyntaxError as exc:
        return f"is not valid Python: {exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        return f"cannot be compiled: {type(exc).__name__}: {exc}"
    if not _can_raise(compiled):
        return f"has no assert or raise, so any program would pass it: {code.strip()[:60]!r}"
    return ""


_RAISE = bytes([opcode.opmap["RAISE_VARARGS"]])


def _can_raise(code: types.CodeType) -> bool:
    """Whether ``code`` or a function in it holds a ``RAISE_VARARGS`` instruction (the
    even bytes of ``co_code`` are the opcodes; inline caches have opcode 0)."""
    if _RAISE in code.co_code[0::2]:
        return True
    return any(_can_raise(c) for c in code.co_consts if isinstance(c, types.CodeType))


def _asserts(statements: list[str], prelude: str, entry: Any) -> TestSuite:
    items = [{"code": s, "prelude": prelude, "entry_point": entry} for s in statements if s.strip()]
    for i, item in enumerate(items):
        _require_check(item["code"], f"assert-style test {i + 1}")
    return TestSuite("assert", items, [None] * len(items), entry_point=entry)
