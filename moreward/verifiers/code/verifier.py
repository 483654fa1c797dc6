"""``CodeVerifier`` (registry name ``code``): run a completion's code against its tests.

The final fenced code block of the completion runs in the :class:`~.sandbox.Sandbox`
against the sample's tests (see :mod:`.cases` for the formats). Each test gets a
verdict, kept in ``Score.details["tests"]``:

===  =========================================================
AC   accepted
WA   wrong answer (output, return value, or a failed assertion)
TLE  time limit (CPU per test, or wall clock) exceeded
MLE  memory limit exceeded
RE   runtime error (non-zero exit, signal, exception)
OLE  output limit exceeded (stdout cap, or the file-size limit)
CE   compile error (every test, when the program does not build)
SE   sandbox error: infrastructure, not the program
SKIP not run: an earlier test failed and ``fail_fast`` is on
===  =========================================================

Any SE makes the whole score ``Verdict.ERROR`` with no value, never a 0. Reward
shapes (``mode``): ``pass_rate`` (share of tests passed), ``all_or_nothing``,
``first_failure`` (share passed before the first failure, LiveCodeBench-style), and
``weighted`` (per-test weights from the reference, CF/IOI-style partial credit).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from ...core import BaseObjective, Sample, Score, Verdict
from ...errors import ConfigError, SandboxError
from ...registry import register
from . import _codec
from .cases import TestSuite, parse_tests
from .compare import Checker, CompareMode, OutputComparator, values_equal
from .languages import get_language, language_for_tag
from .sandbox import DEFAULT_REQUIRE, Limits, Sandbox, get_sandbox

__all__ = ["CodeVerifier", "extract_code"]

Mode = Literal["pass_rate", "all_or_nothing", "first_failure", "weighted"]
Extract = Literal["last_block", "first_block", "auto", "full"]
_MODES = ("pass_rate", "all_or_nothing", "first_failure", "weighted")
_EXTRACTS = ("last_block", "first_block", "auto", "full")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)
_SANDBOXES: dict[tuple[Any, ...], Sandbox] = {}
_SANDBOX_LOCK = threading.Lock()


def extract_code(text: str, how: str = "last_block", language: str | None = None) -> tuple[str | None, str | None]:
    """``(code, fence tag)`` from a completion: the last (or first) fenced block, preferring
    blocks tagged with ``language`` or untagged; ``"auto"`` falls back to the whole text,
    ``"full"`` takes it as is. ``(None, None)`` when there is no block."""
    if how == "full":
        return text, None
    blocks = [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]
    if language:
        wanted = [b for b in blocks if not b[0] or language_for_tag(b[0]) == language]
        blocks = wanted or blocks
    if blocks:
        tag, code = blocks[0] if how == "first_block" else blocks[-1]
        return code, tag or None
    if how == "auto" and text.strip():
        return text, None
    return None, None


def _sandbox(require: tuple[str, ...], site_packages: bool) -> Sandbox:
    if require == DEFAULT_REQUIRE and not site_packages:
        return get_sandbox()
    key = (require, site_packages)
    with _SANDBOX_LOCK:
        box = _SANDBOXES.get(key)
        if box is None:
            box = _SANDBOXES[key] = Sandbox(require=require, site_packages=site_packages)
        return box


@register("code")
class CodeVerifier(BaseObjective):
    """Execution reward for code: run the completion's program on the sample's tests.

    Args:
        language: ``"python"``, ``"c"``, ``"cpp"``, ``"javascript"``, ``"java"``, ``"rust"``,
            or ``"auto"`` (from the code fence's tag; Python when untagged). A reference's
            ``"language"`` overrides it.
        tests: which test format to expect: ``"auto"``, ``"stdio"``, ``"call"``, ``"assert"``.
        mode: reward shape: ``"pass_rate"``, ``"all_or_nothing"``, ``"first_failure"``, ``"weighted"``.
        extract: ``"last_block"`` (default), ``"first_block"``, ``"auto"`` (block, else the
            whole completion) or ``"full"``.
        time_limit: CPU seconds per test (a reference's ``"time_limit"`` overrides it).
        memory_mb: memory per program (a reference's ``"memory_limit"`` overrides it).
        limits: other :class:`~.sandbox.Limits` fields (``wall_time``, ``output_bytes``...).
        compare: stdout comparison: ``"lines"``, ``"tokens"`` or ``"exact"``.
        rel_tol: relative float tolerance (stdout tokens and returned values).
        abs_tol: absolute float tolerance.
        case_sensitive: compare output letters as written.
        checker: ``(input, expected, actual) -> bool | float`` replacing the comparison;
            a module-level function so the verifier stays picklable.
        fail_fast: stop a sample at its first failure; default on for ``all_or_nothing``
            and ``first_failure``, where later tests cannot change the reward.
        workers: samples run at once in ``score_batch`` (default: the CPU count).
        require: isolation layers that must hold, else every score is ``ERROR``.
        site_packages: let Python programs import installed packages (numpy...).
    """

    name: ClassVar[str] = "code"

    def __init__(
        self,
        *,
        language: str = "python",
        tests: Literal["auto", "stdio", "call", "assert"] = "auto",
        mode: Mode = "pass_rate",
        extract: Extract = "last_block",
        time_limit: float = 2.0,
        memory_mb: int = 512,
        limits: Mapping[str, Any] | None = None,
        compare: CompareMode = "lines",
        rel_tol: float = 1e-6,
        abs_tol: float = 1e-6,
        case_sensitive: bool = True,
        checker: Checker | None = None,
        fail_fast: bool | None = None,
        workers: int | None = None,
        require: Sequence[str] = DEFAULT_REQUIRE,
        site_packages: bool = False,
    ) -> None:
        if mode not in _MODES:
            raise ConfigError(f"mode={mode!r} is not allowed; allowed: {', '.join(_MODES)}")
        if extract not in _EXTRACTS:
            raise ConfigError(f"extract={extract!r} is not allowed; allowed: {', '.join(_EXTRACTS)}")
        if tests not in ("auto", "stdio", "call", "assert"):
            raise ConfigError(f"tests={tests!r} is not allowed; allowed: auto, stdio, call, assert")
        if language != "auto":
            get_language(language)
        if checker is not None and not callable(checker):
            raise ConfigError("checker must be callable (input, expected, actual) -> bool | float")
        if workers is not None and workers < 1:
            raise ConfigError(f"workers must be >= 1, got {workers}")
        extra = dict(limits or {})
        for key in ("time", "memory_mb"):
            if key in extra:
                raise ConfigError(f"set {key!r} with time_limit= / memory_mb=, not in limits")
        Limits.coerce({**extra, "time": time_limit, "memory_mb": memory_mb})  # validates now
        self.language = language
        self.tests = tests
        self.mode = mode
        self.extract = extract
        self.time_limit = float(time_limit)
        self.memory_mb = int(memory_mb)
        self.limits = extra
        self.compare = compare
        self.rel_tol = float(rel_tol)
        self.abs_tol = float(abs_tol)
        self.case_sensitive = bool(case_sensitive)
        self.checker = checker
        self.fail_fast = fail_fast
        self.workers = workers
        self.require = tuple(require)
        self.site_packages = bool(site_packages)
        self._comparator = OutputComparator(compare, rel_tol, abs_tol, case_sensitive)
        _sandbox(self.require, self.site_packages)  # validates ``require``

    def __getstate__(self) -> dict[str, Any]:
        state = dict(vars(self))
        state.pop("_comparator", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._comparator = OutputComparator(self.compare, self.rel_tol, self.abs_tol, self.case_sensitive)

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox this verifier runs in (shared by verifiers with the same isolation settings)."""
        return _sandbox(self.require, self.site_packages)

    # -- scoring -----------------------------------------------------------------------

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        """Score samples in parallel (``workers`` boxes at once), in order."""
        samples = list(samples)
        if len(samples) <= 1:
            return [self.safe_score(s) for s in samples]
        workers = self.workers or os.cpu_count() or 1
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(samples))) as pool:
            return list(pool.map(self.safe_score, samples))

    def score(self, sample: Sample) -> Score:
        try:
            suite = parse_tests(sample.reference, self.tests)
        except (ValueError, TypeError, KeyError) as exc:
            return Score.skip(f"no usable tests in the reference: {exc}")
        lang_name = suite.language or self.language
        code, tag = extract_code(sample.completion, self.extract, None if lang_name == "auto" else
                                 language_for_tag(lang_name))
        if code is None:
            return Score(0.0, Verdict.INVALID, "no fenced code block in the completion")
        if lang_name == "auto":
            lang_name = (language_for_tag(tag) if tag else None) or "python"
        try:
            lang = get_language(lang_name)
        except ConfigError as exc:
            return Score.skip(str(exc))
        if suite.kind != "stdio" and lang.name != "python":
            return Score.skip(f"{suite.kind} tests need Python, the program is {lang.name}")
        code = suite.prefix + code
        lim = Limits.coerce({**self.limits, "time": suite.time_limit or self.time_limit,
                             "memory_mb": suite.memory_mb or self.memory_mb})
        try:
            verdicts = self._run(lang.name, code, suite, lim)
        except SandboxError as exc:
            return Score.error(f"sandbox error: {exc}")
        return self._score(verdicts, suite, lang.name)

    def _fail_fast(self) -> bool:
        return self.fail_fast if self.fail_fast is not None else self.mode in ("all_or_nothing", "first_failure")

    def _run(self, lang_name: str, code: str, suite: TestSuite, lim: Limits) -> list[dict[str, Any]]:
        box = self.sandbox
        lang = get_language(lang_name)
        mode = {"stdio": "stdio", "call": "call", "assert": "check"}[suite.kind]
        if suite.kind == "stdio":
            tests: list[Any] = [{"stdin": s} for s in suite.inputs]
        elif suite.kind == "call":
            tests = list(suite.inputs)
        else:
            tests = [{} for _ in suite.inputs]
        fail_fast = self._fail_fast()
        req = box.request(lang, code, mode, tests, lim, entry_point=suite.entry_point, stop_on_failure=fail_fast)
        results: dict[int, dict[str, Any]] = {}

        def on_frame(head: dict[str, Any], body: bytes) -> bool:
            i = int(head["i"])
            if 0 <= i < len(suite.inputs):
                results[i] = self._judge(suite, i, head, body)
                return fail_fast and results[i]["verdict"] != "AC"
            return False

        secret = list(suite.inputs) if suite.kind == "assert" else []
        run = box._box(req, secret, lim, on_frame)
        if run.error:
            raise SandboxError(run.error)
        if run.compile_error is not None:
            reason = run.compile_error[-500:]
            return [{"verdict": "CE", "reason": reason} for _ in suite.inputs]
        broken = [r for r in results.values() if r["verdict"] == "SE"]
        if broken:
            raise SandboxError(broken[0]["reason"] or "sandbox error")
        out = []
        for i in range(len(suite.inputs)):
            if i in results:
                out.append(results[i])
            elif run.stopped_at is not None or fail_fast:
                out.append({"verdict": "SKIP", "reason": "not run after an earlier failure"})
            else:
                raise SandboxError(f"the sandbox returned no result for test {i}")
        return out

    def _judge(self, suite: TestSuite, i: int, head: dict[str, Any], body: bytes) -> dict[str, Any]:
        status = str(head.get("status"))
        res: dict[str, Any] = {"verdict": status, "reason": str(head.get("reason", ""))[:300],
                               "time": round(float(head.get("cpu") or head.get("wall") or 0.0), 4)}
        if status != "OK":
            return res
        if suite.kind == "stdio":
            actual = body.decode("utf-8", "replace")
            if self.checker is not None:
                credit = self.checker(suite.inputs[i], suite.expected[i], actual)
                credit = max(0.0, min(1.0, float(credit)))
                res.update(verdict="AC" if credit >= 1.0 else "WA", credit=credit,
                           reason="" if credit >= 1.0 else "rejected by the checker")
                return res
            ok, why = self._comparator(actual, suite.expected[i])
            res.update(verdict="AC" if ok else "WA", reason=why)
            return res
        try:  # function call: the returned value arrives as data
            msg = json.loads(body)
            if "ok" not in msg:
                exc = msg.get("exc") or ["Exception", ""]
                res.update(verdict="MLE" if msg.get("mle") else "RE", reason=str(exc[1])[:300])
                return res
            got = _codec.decode(msg["ok"])
        except (ValueError, TypeError, _codec.CodecError) as exc:
            res.update(verdict="WA", reason=f"unreadable return value: {exc}")
            return res
        exp = suite.expected[i]
        ok = values_equal(got, exp, rel_tol=self.rel_tol, abs_tol=self.abs_tol) or (
            isinstance(exp, list) and len(exp) == 1 and values_equal(got, exp[0], rel_tol=self.rel_tol,
                                                                     abs_tol=self.abs_tol))
        res.update(verdict="AC" if ok else "WA", reason="" if ok else f"returned {got!r:.80}, expected {exp!r:.80}")
        return res

    def _score(self, tests: list[dict[str, Any]], suite: TestSuite, lang: str) -> Score:
        n = len(tests)
        credit = [float(t.get("credit", 1.0 if t["verdict"] == "AC" else 0.0)) for t in tests]
        passed = sum(1 for t in tests if t["verdict"] == "AC")
        if self.mode == "pass_rate":
            value = sum(credit) / n
        elif self.mode == "all_or_nothing":
            value = 1.0 if passed == n else 0.0
        elif self.mode == "first_failure":
            k = next((i for i, c in enumerate(credit) if c < 1.0), n)
            value = k / n
        else:
            weights = suite.weights or [1.0] * n
            total = sum(weights)
            value = sum(w * c for w, c in zip(weights, credit)) / total if total > 0 else 0.0
        verdict = Verdict.PASS if value >= 1.0 else Verdict.FAIL if value <= 0.0 else Verdict.PARTIAL
        first_bad = next((t for t in tests if t["verdict"] != "AC"), None)
        reason = f"{passed}/{n} tests passed" + (
            f"; first failure: {first_bad['verdict']} {first_bad.get('reason', '')}".rstrip() if first_bad else "")
        return Score(value, verdict, reason[:500], {
            "tests": tests, "verdicts": [t["verdict"] for t in tests], "passed": passed, "total": n,
            "language": lang, "kind": suite.kind,
        })
