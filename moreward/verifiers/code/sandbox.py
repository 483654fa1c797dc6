"""The caller's side of the code sandbox: :class:`Sandbox`, :class:`Limits`,
:class:`Capabilities` and :func:`run_python`.

Why not the shared worker pool: the program under test must be its own process with
its own namespaces and limits anyway, so a pool worker would only add a hop. Instead
a dedicated zygote (``_box.py``) is started once per process, with an empty
environment and only the standard library loaded, and forks one box per sample.
Many samples run at once from a thread pool; each thread only waits on a pipe.

Layers, outermost first: the wall-clock deadline of the whole sample (enforced by the
lane outside the box, and again here), user/PID/network/mount/IPC/UTS
namespaces, a read-only root with a private tmpfs ``/tmp``, an unprivileged uid or a
dropped capability set with ``no_new_privs``, cgroup memory and pids limits when the
hierarchy is writable, and rlimits (CPU, address space when there is no memory
cgroup, processes, file size, open files, core dumps).
"""

from __future__ import annotations

import atexit
import os
import select
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ...errors import ConfigError, SandboxError
from ._cgroups import Cgroups
from ._lanes import BoxRun, Lane, LaneGone, Zygote, exchange
from .languages import Language, get_language

__all__ = ["DEFAULT_REQUIRE", "Capabilities", "ExecResult", "Limits", "Sandbox", "get_sandbox", "run_python"]

_SYSTEM_RO = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
DEFAULT_REQUIRE: tuple[str, ...] = ("net_ns", "pid_ns")
_LAYERS = ("user_ns", "pid_ns", "net_ns", "mount_ns", "ipc_ns", "uts_ns", "readonly_root", "unprivileged_uid",
           "cgroup_memory", "cgroup_pids", "rlimits", "no_new_privs")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run.

    Args:
        time: CPU seconds per test (the time limit proper).
        wall_time: wall-clock seconds per test; default ``2 * time + 1`` (sleeping counts here).
        memory_mb: memory of the program (cgroup limit, or address space without cgroups).
        output_bytes: stdout cap per test; more is an output-limit verdict (OLE).
        processes: processes and threads the program may have at once.
        file_size_mb: largest file the program may write (RLIMIT_FSIZE).
        tmp_mb: size of the private ``/tmp`` work directory.
        open_files: RLIMIT_NOFILE.
        compile_time: CPU seconds for compilation.
        compile_memory_mb: memory for compilation.
    """

    time: float = 2.0
    wall_time: float | None = None
    memory_mb: int = 512
    output_bytes: int = 8 << 20
    processes: int = 32
    file_size_mb: int = 64
    tmp_mb: int = 64
    open_files: int = 256
    compile_time: float = 10.0
    compile_memory_mb: int = 1024

    def __post_init__(self) -> None:
        for name in ("time", "memory_mb", "output_bytes", "processes", "file_size_mb", "tmp_mb", "open_files",
                     "compile_time", "compile_memory_mb"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"Limits.{name} must be a positive number, got {value!r}")
        if self.wall_time is not None and self.wall_time <= 0:
            raise ConfigError(f"Limits.wall_time must be positive or None, got {self.wall_time!r}")

    @property
    def wall(self) -> float:
        """The per-test wall-clock limit in force."""
        return float(self.wall_time) if self.wall_time is not None else 2.0 * self.time + 1.0

    @classmethod
    def coerce(cls, value: Limits | dict[str, Any] | None) -> Limits:
        """Accept a :class:`Limits`, a dict of its fields, or ``None`` (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(cls.__dataclass_fields__))
            if unknown:
                raise ConfigError(f"unknown limit(s) {unknown}; allowed: {', '.join(cls.__dataclass_fields__)}")
            return cls(**value)
        raise ConfigError(f"limits must be a Limits or a dict, got {type(value).__name__}")


@dataclass(frozen=True)
class Capabilities:
    """The isolation layers actually in force on this machine (observed from inside a box)."""

    user_ns: bool = False
    pid_ns: bool = False
    net_ns: bool = False
    mount_ns: bool = False
    ipc_ns: bool = False
    uts_ns: bool = False
    readonly_root: bool = False
    unprivileged_uid: bool = False
    cgroup_memory: bool = False
    cgroup_pids: bool = False
    rlimits: bool = True
    no_new_privs: bool = True
    mode: str = "none"
    cgroup_version: int | None = None
    notes: tuple[str, ...] = ()

    def active(self) -> list[str]:
        """The names of the layers that hold."""
        return [name for name in _LAYERS if getattr(self, name)]

    def missing(self, required: Sequence[str]) -> list[str]:
        """The names in ``required`` that do not hold."""
        return [name for name in required if not getattr(self, name, False)]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExecResult:
    """The outcome of :meth:`Sandbox.run`: one program, one stdin.

    ``status`` is ``OK`` (ran and exited 0), ``TLE``, ``MLE``, ``RE``, ``OLE``, ``CE``
    (did not compile) or ``SE`` (the sandbox failed; not the program's fault).
    """

    status: str
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    signal: int = 0
    cpu: float = 0.0
    wall: float = 0.0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "OK"


_instances: weakref.WeakSet[Sandbox] = weakref.WeakSet()


class Sandbox:
    """Runs untrusted programs in fresh Linux namespaces with hard limits.

    Args:
        require: layers that must hold or runs are refused (see :class:`Capabilities`);
            default: network and PID namespaces. ``()`` accepts anything.
        site_packages: let Python programs import the installed third-party packages
            (numpy...). Off by default: installed packages can carry datasets and answers.
        extra_paths: more host paths to expose read-only.
        preload: modules the zygote imports once so programs need not.

    Thread-safe; one zygote per process, started on first use and restarted if it dies
    (or after ``fork``).
    """

    def __init__(self, *, require: Sequence[str] = DEFAULT_REQUIRE, site_packages: bool = False,
                 extra_paths: Sequence[str] = (), preload: Sequence[str] = ()) -> None:
        bad = [r for r in require if r not in _LAYERS]
        if bad:
            raise ConfigError(f"unknown isolation layer(s) {bad}; allowed: {', '.join(_LAYERS)}")
        self.require = tuple(require)
        self.site_packages = bool(site_packages)
        self.extra_paths = tuple(extra_paths)
        self.preload = tuple(preload)
        self._lock = threading.Lock()
        self._zygote: Zygote | None = None
        self._owner = os.getpid()
        self._cgroups: Cgroups | None = None
        self._caps: Capabilities | None = None
        self._idle: list[Lane] = []
        self._lanes = 0
        self.max_lanes = max(4, min(64, 4 * (os.cpu_count() or 1)))
        _instances.add(self)

    # -- lifecycle -------------------------------------------------------------------

    def _conf(self) -> dict[str, Any]:
        from .languages import _detect

        ro = [*_SYSTEM_RO, sys.base_prefix, os.path.realpath(sys.base_prefix)]
        for lang in _detect().values():
            ro.extend(lang.paths)
        if self.site_packages:
            ro.extend(p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and os.path.isdir(p))
        ro.extend(self.extra_paths)
        return {"ro": ro, "site_packages": self.site_packages, "preload": list(self.preload)}

    def _state(self) -> tuple[Zygote, Cgroups]:
        with self._lock:
            if self._owner != os.getpid():  # we were forked: the zygote belongs to the parent
                self._zygote, self._cgroups, self._owner = None, None, os.getpid()
                self._idle, self._lanes = [], 0
            if self._zygote is None or not self._zygote.alive():
                if self._zygote is not None:
                    self._zygote.close()
                self._zygote = Zygote(self._conf())
            if self._cgroups is None:
                self._cgroups = Cgroups()
            return self._zygote, self._cgroups

    def close(self) -> None:
        """Stop the zygote and remove the cgroups (also done at interpreter exit)."""
        with self._lock:
            if self._owner != os.getpid():
                return
            for lane in self._idle:
                lane.close()
            self._idle, self._lanes = [], 0
            if self._zygote is not None:
                self._zygote.close()
                self._zygote = None
            if self._cgroups is not None:
                self._cgroups.close()
                self._cgroups = None

    @property
    def zygote_pid(self) -> int | None:
        """The zygote's pid (every box descends from it), or None before first use."""
        z = self._zygote
        return z.pid if z is not None else None

    # -- capabilities -----------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """Which layers hold here, measured once by running an empty box."""
        if self._caps is not None:
            return self._caps
        zyg, cg = self._state()
        mode = zyg.info.get("mode", {})
        kind = mode.get("kind", "none")
        req = self.request(get_language("python"), "", "stdio", [], Limits())
        req["probe"] = True
        run = self._box(req, [], Limits(), None, check=False)
        layers = run.layers or {}
        ns = kind in ("userns", "root") and run.error is None
        notes = []
        if cg.error:
            notes.append(f"cgroups unavailable ({cg.error}); rlimits used instead")
        if run.error:
            notes.append(f"probe failed: {run.error}")
        caps = Capabilities(
            user_ns=kind == "userns" and ns, pid_ns=bool(layers.get("pid_ns")), net_ns=bool(layers.get("net_ns")),
            mount_ns=ns, ipc_ns=ns, uts_ns=layers.get("hostname") == "sandbox",
            readonly_root=bool(layers.get("readonly_root")),
            unprivileged_uid=bool(layers.get("uid_switch")) or os.geteuid() != 0,
            cgroup_memory=cg.memory, cgroup_pids=cg.pids, mode=kind, cgroup_version=cg.version, notes=tuple(notes),
        )
        self._caps = caps
        return caps

    def check(self) -> None:
        """Raise :class:`SandboxError` naming what is missing when ``require`` does not hold."""
        caps = self.capabilities()
        missing = caps.missing(self.require)
        if missing:
            raise SandboxError(
                f"the sandbox cannot provide {', '.join(missing)} on this machine (in force: "
                f"{', '.join(caps.active()) or 'nothing'}); pass require=() to run with less isolation"
                + (f"; {'; '.join(caps.notes)}" if caps.notes else "")
            )

    # -- running ------------------------------------------------------------------------

    def run(self, code: str, *, language: str = "python", stdin: str = "",
            limits: Limits | dict[str, Any] | None = None) -> ExecResult:
        """Run one program on one input and return what it printed.

        Raises:
            SandboxError: the sandbox could not run it (never the program's fault).
        """
        lim = Limits.coerce(limits)
        req = self.request(get_language(language), code, "stdio", [{"stdin": stdin}], lim)
        run = self._box(req, [], lim, None)
        if run.error:
            raise SandboxError(run.error)
        if run.compile_error is not None:
            return ExecResult("CE", reason=run.compile_error)
        if 0 not in run.frames:
            raise SandboxError("the sandbox returned no result")
        head, body = run.frames[0]
        return ExecResult(str(head["status"]), body.decode("utf-8", "replace"), str(head.get("stderr", "")),
                          head.get("exit"), int(head.get("signal") or 0), float(head.get("cpu", 0.0)),
                          float(head.get("wall", 0.0)), str(head.get("reason", "")))

    def request(self, lang: Language, code: str, mode: str, tests: list[Any], lim: Limits,
                entry_point: str | None = None, stop_on_failure: bool = False) -> dict[str, Any]:
        """Build the request a box reads (internal, but stable within the package)."""
        source_name, compile_argv, run_argv = lang.prepare(code, lim.memory_mb)
        req: dict[str, Any] = {
            "lang": "python" if lang.name == "python" else "native", "mode": mode, "code": code, "tests": tests,
            "source_name": source_name, "run_argv": run_argv, "entry_point": entry_point,
            "stop_on_failure": stop_on_failure,
            "limits": {"time": lim.time, "wall_time": lim.wall, "memory_mb": lim.memory_mb,
                       "output_bytes": lim.output_bytes, "processes": lim.processes + lang.extra_processes,
                       "file_size_mb": lim.file_size_mb, "tmp_mb": lim.tmp_mb, "open_files": lim.open_files,
                       "compile_time": lim.compile_time, "compile_wall": 2 * lim.compile_time + 5,
                       "compile_memory_mb": lim.compile_memory_mb, "vm_extra_mb": lang.vm_extra_mb},
        }
        if compile_argv:
            req["compile"] = {"argv": compile_argv, "source_name": source_name}
        return req

    def _box(self, req: dict[str, Any], secret: list[Any], lim: Limits,
             on_frame: Callable[[dict[str, Any], bytes], bool] | None, *, check: bool = True) -> BoxRun:
        """Run one box; ``on_frame`` sees each test frame and returns True to stop the box."""
        if check:
            self.check()
        try:
            zyg, cg = self._state()
        except SandboxError:
            raise
        except OSError as exc:
            raise SandboxError(f"could not start the sandbox: {exc}") from exc
        n = max(1, len(req.get("tests") or ()))
        compile_wall = req["limits"]["compile_wall"] if req.get("compile") else 0.0
        req["deadline"] = compile_wall + n * (lim.wall + 0.05) + 3.0
        run_mem = (lim.memory_mb + 64) << 20
        for _ in range(3):  # a lane can die idle (its checker did): nothing ran, so another may take it
            try:
                return self._on_lane(zyg, cg, req, secret, lim, on_frame, run_mem)
            except LaneGone:
                continue
        return self._on_lane(zyg, cg, req, secret, lim, on_frame, run_mem)

    def _on_lane(self, zyg: Zygote, cg: Cgroups, req: dict[str, Any], secret: list[Any], lim: Limits,
                 on_frame: Callable[[dict[str, Any], bytes], bool] | None, run_mem: int) -> BoxRun:
        """One attempt of ``_box`` on a free lane."""
        lane = self._acquire(zyg)
        ok = False
        try:
            req["limits"]["cgroup_memory"] = lane.slot is not None
            if lane.slot is not None:
                first = max(lim.memory_mb, lim.compile_memory_mb) if req.get("compile") else lim.memory_mb
                cg.set_limits(lane.slot, (first + 64) << 20, int(req["limits"]["processes"]) + 8)
                if req.get("compile"):
                    req["run_memory"] = run_mem
                    lane.slot.applied = None  # the box lowers the memory limit after compiling
            budget = None
            if req["mode"] == "check" and req["lang"] == "python" and len(secret) == 1 and not req.get("probe"):
                # one process does: the lane's direct path (_direct) saves a fork per sample
                budget = {"time": lim.time, "wall": lim.wall, "out_cap": lim.output_bytes}
            out = exchange(lane, req, secret, on_frame, budget)
            ok = True
            return out
        finally:
            self._release(lane, ok)

    def _acquire(self, zyg: Zygote) -> Lane:
        """A lane whose previous box is gone; a new one while under ``max_lanes``."""
        deadline = time.monotonic() + 120.0
        while True:
            with self._lock:
                for i, lane in enumerate(self._idle):
                    if lane.poll_free():
                        return self._idle.pop(i)
                dead = [lane for lane in self._idle if lane.dead]
                for lane in dead:
                    self._idle.remove(lane)
                    self._drop(lane)
                create = self._lanes < self.max_lanes
                if create:
                    self._lanes += 1
                waiting = list(self._idle)
            for lane in dead:
                if lane.slot is not None and self._cgroups is not None:
                    self._cgroups.retire(lane.slot)
            if create:
                try:
                    cg = self._cgroups
                    return zyg.new_lane(cg.new_slot() if cg is not None else None)
                except BaseException:
                    with self._lock:
                        self._lanes -= 1
                    raise
            if time.monotonic() > deadline:
                raise SandboxError("no sandbox lane became free within 120s")
            socks = [lane.sock for lane in waiting]
            try:
                select.select(socks, [], [], 0.05) if socks else time.sleep(0.005)
            except (OSError, ValueError):
                time.sleep(0.005)

    def _drop(self, lane: Lane) -> None:
        lane.close()
        self._lanes -= 1

    def _release(self, lane: Lane, ok: bool) -> None:
        lane.pending = True
        with self._lock:
            if self._owner != os.getpid() or not ok or lane.dead:
                lane.dead = True
                self._drop(lane)
                retire = True
            else:
                self._idle.append(lane)
                retire = False
        if retire and lane.slot is not None and self._cgroups is not None:
            self._cgroups.retire(lane.slot)

_default: Sandbox | None = None
_default_lock = threading.Lock()


def get_sandbox() -> Sandbox:
    """The process-wide default :class:`Sandbox` (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Sandbox()
        return _default


def run_python(code: str, *, stdin: str = "", timeout: float = 5.0, memory_mb: int = 512,
               sandbox: Sandbox | None = None) -> ExecResult:
    """Run a Python snippet in the sandbox and return its stdout (``result.stdout``).

    For tool-integrated reasoning: a model's code block runs isolated, with a CPU
    ``timeout`` and a memory cap, and what it printed comes back.

    Example:
        >>> run_python("print(6 * 7)").stdout
        '42\\n'
    """
    box = sandbox or get_sandbox()
    return box.run(code, language="python", stdin=stdin, limits=Limits(time=timeout, memory_mb=memory_mb))


@atexit.register
def _close_all() -> None:
    for box in list(_instances):
        try:
            box.close()
        except Exception:  # best effort at exit
            pass
