"""START's tool-integrated reasoning blocks (arXiv 2503.04625).

START (Self-Taught Reasoner with Tools) writes Python in fenced ```` ```python ```` blocks
inside its long chain of thought, and the interpreter's output comes back in a fenced
block right after (```` ```output ````; the exact info string is an option). Its
Hint-RFT scores and filters such trajectories with rules; this module checks the block
structure and, on request, re-runs every code block in the code sandbox
(:func:`moreward.verifiers.code.run_python`) and fails the sample when a written
output block is not what the code really prints.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from ...core import BaseObjective, Sample, Score, Verdict
from ...errors import ConfigError, SandboxError
from ...registry import register
from .grammar import FormatCheck, fenced_blocks

__all__ = ["ToolBlocks", "check_tool_blocks", "outputs_match", "stateful_program"]


_HIDE = """try:
    with __import__("contextlib").redirect_stdout(__import__("io").StringIO()):
        exec(compile({src!r}, "<block {i}>", "exec"))
except Exception:
    pass
"""


def check_tool_blocks(
    text: str,
    *,
    code_langs: Sequence[str] = ("python", "py"),
    output_lang: str = "output",
    min_code_blocks: int = 1,
    require_output: bool = True,
) -> FormatCheck:
    """START's tool-integrated reasoning blocks (arXiv 2503.04625).

    Grammar over fenced blocks: every code block (info string in ``code_langs``) is followed,
    with only whitespace between, by an ``output`` block; every output block follows a
    code block; every fence is closed; at least ``min_code_blocks`` code blocks.
    ``info["pairs"]`` lists ``(code, written output)`` for each code block.
    """
    langs = {x.lower() for x in code_langs}
    fences = fenced_blocks(text)
    errors: list[tuple[str, str]] = []
    pairs: list[tuple[str, str | None]] = []
    for i, f in enumerate(fences):
        if not f.closed:
            errors.append(("unclosed", f"the ```{f.lang} fence at offset {f.start} is never closed"))
        if f.lang in langs:
            nxt = fences[i + 1] if i + 1 < len(fences) else None
            follows = nxt is not None and nxt.lang == output_lang and not text[f.end : nxt.start].strip()
            pairs.append((f.body, nxt.body if follows and nxt is not None else None))
            if require_output and not follows:
                errors.append(("output", f"the ```{f.lang} block at offset {f.start} is not followed by an ```{output_lang} block"))
        elif f.lang == output_lang:
            prev = fences[i - 1] if i else None
            if prev is None or prev.lang not in langs or text[prev.end : f.start].strip():
                errors.append(("output", f"the ```{output_lang} block at offset {f.start} does not follow a code block"))
    if len(pairs) < min_code_blocks:
        errors.append(("missing", f"{len(pairs)} code block(s), expected at least {min_code_blocks}"))
    info = {"n_code": len(pairs), "n_output": sum(f.lang == output_lang for f in fences), "pairs": pairs}
    return FormatCheck(not errors, tuple(errors), (), info)


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()).strip()


def outputs_match(written: str, stdout: str, error: str | None = None) -> bool:
    """Whether a written output block shows what the code printed.

    Lines are compared without trailing spaces and surrounding blank lines. When the
    code failed, ``error`` is the last line of its error (``ZeroDivisionError: division
    by zero``); the written block may then show the printed lines followed by it
    (a traceback above it is allowed, since its file paths cannot match).
    """
    want, got = _norm(written), _norm(stdout)
    if want == got:
        return True
    if not error:
        return False
    lines = want.splitlines()
    if not lines or lines[-1].strip() != error.strip():
        return False
    head = "\n".join(lines[:-1])
    if got and not head.startswith(got):
        return False
    rest = _norm(head[len(got) :])
    return not rest or rest.startswith("Traceback (most recent call last):")


def stateful_program(codes: Sequence[str]) -> str:
    """One program that runs ``codes[:-1]`` silently (their output dropped, their errors
    ignored) and then ``codes[-1]``: notebook semantics, where names defined by earlier
    blocks are still there."""
    return "".join(_HIDE.format(src=c, i=i) for i, c in enumerate(codes[:-1])) + codes[-1]


_SANDBOXES: dict[tuple[str, ...], Any] = {}
_SANDBOX_LOCK = threading.Lock()


def _runner(isolation: Sequence[str] | None) -> Callable[..., Any]:
    """The sandbox's ``run_python``, on a process-wide sandbox per isolation setting (the
    sandbox closes itself at exit)."""
    try:
        from ..code import run_python  # type: ignore[attr-defined]
    except ImportError:
        from ..code.sandbox import run_python
    if isolation is None:
        return run_python  # type: ignore[no-any-return]
    try:
        from ..code import Sandbox  # type: ignore[attr-defined]
    except ImportError:
        from ..code.sandbox import Sandbox
    key = tuple(isolation)
    with _SANDBOX_LOCK:
        box = _SANDBOXES.get(key)
        if box is None:
            box = _SANDBOXES[key] = Sandbox(require=key)
    return functools.partial(run_python, sandbox=box)


@register("tool_blocks")
class ToolBlocks(BaseObjective):
    """1.0 when the completion's code and output blocks are well-formed (:func:`check_tool_blocks`)
    and, with ``rerun``, every written output block matches what its code prints in the
    code sandbox (:func:`outputs_match`); else 0.0.

    ``details["n_code"]`` and ``details["n_output"]`` count the blocks; with ``rerun``,
    ``details["rerun"]`` has one ``{"block", "status", "match"}`` per code block with an
    output block. A block that runs past ``timeout`` fails the sample (rule ``rerun``);
    a sandbox that cannot run at all gives ``Verdict.ERROR`` (no value), never a 0.

    Args:
        code_langs: info strings of code blocks (``python``, ``py``).
        output_lang: info string of output blocks.
        min_code_blocks: fewest code blocks (0: a completion without tool use passes).
        require_output: every code block must be followed by an output block.
        rerun: re-run each code block in the sandbox and compare its output.
        stateful: run earlier blocks first (silently), as a notebook keeps its names.
        timeout: CPU seconds per run. memory_mb: memory per run.
        isolation: the sandbox layers that must hold (``None``: the sandbox's default;
            ``[]``: whatever this machine provides).
    """

    name: ClassVar[str] = "tool_blocks"

    def __init__(
        self,
        *,
        code_langs: Sequence[str] = ("python", "py"),
        output_lang: str = "output",
        min_code_blocks: int = 1,
        require_output: bool = True,
        rerun: bool = False,
        stateful: bool = True,
        timeout: float = 5.0,
        memory_mb: int = 512,
        isolation: Sequence[str] | None = None,
    ) -> None:
        if isinstance(code_langs, str) or not code_langs or not all(isinstance(x, str) and x.strip() for x in code_langs):
            raise ConfigError(f"code_langs must be a non-empty list of info strings, got {code_langs!r}")
        if not isinstance(output_lang, str) or not output_lang.strip() or output_lang.lower() in {x.lower() for x in code_langs}:
            raise ConfigError(f"output_lang must be a non-empty info string not in code_langs, got {output_lang!r}")
        if isinstance(min_code_blocks, bool) or not isinstance(min_code_blocks, int) or min_code_blocks < 0:
            raise ConfigError(f"min_code_blocks must be a non-negative int, got {min_code_blocks!r}")
        self.code_langs = tuple(x.strip().lower() for x in code_langs)
        self.output_lang = output_lang.strip().lower()
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 16:
            raise ConfigError(f"memory_mb must be an int >= 16, got {memory_mb!r}")
        if isolation is not None and (isinstance(isolation, str) or not all(isinstance(x, str) for x in isolation)):
            raise ConfigError(f"isolation must be a list of sandbox layer names or None, got {isolation!r}")
        self.min_code_blocks = min_code_blocks
        self.require_output = bool(require_output)
        self.rerun = bool(rerun)
        self.stateful = bool(stateful)
        self.timeout = float(timeout)
        self.memory_mb = memory_mb
        self.isolation = tuple(isolation) if isolation is not None else None
        self._run: Callable[..., Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**vars(self), "_run": None}

    def check(self, text: str) -> FormatCheck:
        """:func:`check_tool_blocks` with this objective's options."""
        return check_tool_blocks(
            text, code_langs=self.code_langs, output_lang=self.output_lang,
            min_code_blocks=self.min_code_blocks, require_output=self.require_output,
        )

    def score(self, sample: Sample) -> Score:
        check = self.check(sample.completion)
        info = {k: v for k, v in check.info.items() if k != "pairs"}
        if not check.ok or not self.rerun:
            return FormatCheck(check.ok, check.errors, (), info).to_score()
        try:
            if self._run is None:
                self._run = _runner(self.isolation)
            runs = self._rerun(check.info["pairs"])
        except (SandboxError, ImportError, OSError) as exc:
            return Score.error(f"the code sandbox failed: {exc}", **info)
        if isinstance(runs, Score):
            return runs
        info["rerun"] = runs
        bad = [r for r in runs if not r["match"]]
        if not bad:
            return Score(1.0, Verdict.PASS, f"well-formed; {len(runs)} output block(s) match a re-run", info)
        first = bad[0]
        why = "does not match the real output" if first["status"] in ("OK", "RE", "CE") else f"did not finish ({first['status']})"
        errors = [f"rerun: block {r['block']} {r['status']}" for r in bad]
        return Score(0.0, Verdict.FAIL, f"rerun: the output of code block {first['block']} {why}", {"rule": "rerun", "errors": errors, **info})

    def _rerun(self, pairs: list[tuple[str, str | None]]) -> list[dict[str, Any]] | Score:
        assert self._run is not None
        runs: list[dict[str, Any]] = []
        for i, (code, written) in enumerate(pairs):
            if written is None:
                continue
            program = stateful_program([c for c, _ in pairs[: i + 1]]) if self.stateful else code
            res = self._run(program, timeout=self.timeout, memory_mb=self.memory_mb)
            if res.status == "SE":
                return Score.error(f"the code sandbox failed on block {i}: {res.reason}")
            error = None
            if res.status == "RE":
                error = next((ln for ln in reversed(res.stderr.splitlines()) if ln.strip()), None)
            elif res.status == "CE":
                error = res.reason.split(" (", 1)[0] if res.reason else None
            match = res.status in ("OK", "RE", "CE") and outputs_match(written, res.stdout, error)
            runs.append({"block": i, "status": res.status, "match": match})
        return runs
