"""What runs in the program's process: one per test, forked by the box's init.

The program under test is untrusted: a fork of the warm interpreter that ``exec``s the
candidate's compiled code, or an ``execve`` of a compiled binary. Before any of its
code runs it drops every privilege (an unprivileged uid where the user namespace maps
one, a locked, empty capability set otherwise, under the ``no_new_privs`` init set), takes
its rlimits and keeps only fds 0-3. For function-call tests it writes each result to
fd 3 as data (``_codec``); for assert-style tests it serves the trusted checker's
calls on the socket at fd 3 (see ``_checker``).

Standard library only: this module is loaded into the zygote.
"""

from __future__ import annotations

import atexit
import builtins
import io
import json
import os
import resource
import signal
import struct
import sys
import traceback
import types
from typing import Any

from . import _codec, _sys

__all__ = ["ENV", "EXIT_MLE", "enter", "exec_main", "prebuild_stdio", "python_main", "read_frame", "write_frame"]

EXIT_MLE = 86  # a Python program that ran out of memory (MemoryError) exits with this
ENV = _ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/tmp", "TMPDIR": "/tmp"}
_MAX_FRAME = 64 << 20
ENV_IN_PLACE = False  # set by the zygote once ``os.environ`` is exactly ``ENV``, before any fork


def write_frame(fd: int, payload: bytes) -> None:
    """Length-prefixed write of one message."""
    data = struct.pack(">I", len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, limit: int = _MAX_FRAME) -> bytes | None:
    """Read one length-prefixed message; ``None`` at end of stream or when it is too large."""
    head = _read_exact(fd, 4)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    if n > limit:
        return None
    return _read_exact(fd, n)


def _set_limit(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    try:
        resource.setrlimit(which, (soft, soft if which != resource.RLIMIT_CPU else soft + 1))
    except (ValueError, OSError):
        resource.setrlimit(which, (soft, hard))


def enter(fds: dict[int, int], rl: dict[str, Any], uid: int | None, oom_adj: int, exec_next: bool,
          pidns: bool = True) -> None:
    """Become a sandboxed child: fds in place, limits on, privileges gone, env cleared.

    Order matters: ``PR_SET_PDEATHSIG`` first (if init dies, so do we), the fd layout
    before the privilege drop, the capability drop after the uid change (the locked
    securebits keep ``setresuid`` from clearing them, so we zero them ourselves).
    """
    if not pidns:  # in a PID namespace, init's death kills us anyway
        _sys.set_pdeathsig(signal.SIGKILL)
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        os.write(fd, str(oom_adj).encode())
        os.close(fd)
    except OSError:
        pass
    # Lay the fds out as 0..n-1 without clobbering a source before it is copied.
    moved = {dst: os.dup(src) for dst, src in fds.items()}
    for dst, tmp in moved.items():
        os.dup2(tmp, dst, inheritable=True)
        os.close(tmp)
    os.closerange(max(fds) + 1 if fds else 3, 1 << 20)
    if not pidns:  # init kills by process group when it has no PID namespace
        # A group, not a session: setsid() also creates a scheduler autogroup, which
        # costs milliseconds, and there is no terminal to detach from.
        os.setpgid(0, 0)
    lim = resource
    _set_limit(lim.RLIMIT_CORE, 0)
    if rl.get("cpu"):
        _set_limit(lim.RLIMIT_CPU, int(rl["cpu"]))
    if rl.get("as"):
        _set_limit(lim.RLIMIT_AS, int(rl["as"]))
    if rl.get("fsize"):
        _set_limit(lim.RLIMIT_FSIZE, int(rl["fsize"]))
    if rl.get("nofile"):
        _set_limit(lim.RLIMIT_NOFILE, int(rl["nofile"]))
    if rl.get("nproc"):
        _set_limit(lim.RLIMIT_NPROC, int(rl["nproc"]))
    if rl.get("stack") and exec_next:
        _set_limit(lim.RLIMIT_STACK, int(rl["stack"]))
    _drop_privileges(uid)
    if not ENV_IN_PLACE and os.environ != _ENV:  # comparing costs a fresh process ~10 page faults
        os.environ.clear()
        os.environ.update(_ENV)
    if exec_next:
        for sig in range(1, signal.NSIG):
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                try:
                    signal.signal(sig, signal.SIG_DFL)
                except (OSError, ValueError, RuntimeError):
                    pass
        signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _drop_privileges(uid: int | None) -> None:
    if uid is None:  # staying uid 0: lock the securebits so no execve can regain capabilities
        try:
            _sys.prctl(_sys.PR_SET_SECUREBITS, _sys._SECUREBITS_LOCKDOWN)
        except OSError:
            pass
    else:  # an unprivileged uid: the change itself clears every capability
        try:
            os.setgroups([])
        except OSError:
            pass
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    # no_new_privs is already set: init set it on itself and it is inherited for good.
    if uid is None:  # still uid 0 in the namespace: every capability must go, for good
        _sys.drop_capabilities()


def exec_main(argv: list[str]) -> None:
    """Replace this process with a compiled program (or a compiler)."""
    os.execve(argv[0], argv, dict(_ENV))


# --- Python programs run in the forked interpreter -------------------------------


_Streams = tuple[Any, Any, Any]  # stdin, stdout, stderr (text streams)


def _new_stdio(read_stdin: bool) -> _Streams:
    source: io.BufferedIOBase = io.BufferedReader(io.FileIO(0, "rb", closefd=False)) if read_stdin else io.BytesIO()
    stdin = io.TextIOWrapper(source, encoding="utf-8")  # type: ignore[type-var]
    stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "wb", closefd=False), 1 << 16), encoding="utf-8")
    stderr = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(2, "wb", closefd=False)), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )
    return stdin, stdout, stderr


# Streams built once in the zygote (see ``prebuild_stdio``), and the zygote's own,
# kept referenced so that no program's process pays for tearing them down.
_PREBUILT: dict[bool, _Streams] = {}
_ORIGINAL: list[Any] = []


def prebuild_stdio() -> None:
    """Build the programs' std streams in the zygote, before it forks.

    Why: building three text streams cost each box about 50 copy-on-write page faults
    (codec lookups, buffers, finalising the streams they replace; measured on
    HumanEval), some 3% of a sandboxed sample's CPU. A stream only names its fd (0, 1 or 2, with
    ``closefd=False``), and every program's process gets its own copy of these
    objects, unused until then, so nothing passes from one program to another.
    """
    _ORIGINAL[:] = [sys.stdin, sys.stdout, sys.stderr]
    for read_stdin in (False, True):
        _PREBUILT[read_stdin] = _new_stdio(read_stdin)


def _fresh_stdio(read_stdin: bool) -> None:
    stdin, stdout, stderr = _PREBUILT.pop(read_stdin) if read_stdin in _PREBUILT else _new_stdio(read_stdin)
    sys.stdin = sys.__stdin__ = stdin  # type: ignore[misc]
    sys.stdout = sys.__stdout__ = stdout  # type: ignore[misc]
    sys.stderr = sys.__stderr__ = stderr  # type: ignore[misc]


def _main_module() -> types.ModuleType:
    mod = types.ModuleType("__main__")
    mod.__dict__["__builtins__"] = builtins
    mod.__file__ = "main.py"
    sys.modules["__main__"] = mod
    sys.argv[:] = ["main.py"]
    return mod


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def _finish(status: int) -> None:
    """What interpreter shutdown would do (join threads, atexit, flush), then leave.

    Programs often start a big-stack thread for deep recursion and let the main module
    end; exiting before joining it would lose their output.
    """
    try:
        threading = sys.modules.get("threading")  # only if the program imported it
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
        atexit._run_exitfuncs()
    except SystemExit as exc:
        status = _exit_code(exc)
    except BaseException:  # the program's own shutdown failed
        status = status or 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(status)


def _run_module(code: types.CodeType) -> tuple[dict[str, Any] | None, int]:
    mod = _main_module()
    try:
        exec(code, mod.__dict__)
    except SystemExit as exc:
        return None, _exit_code(exc)
    except MemoryError:
        return None, EXIT_MLE
    except BaseException as exc:  # report any crash of the program
        try:  # from the program's own frames on: the harness frame is noise
            traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
        except BaseException:
            pass
        return None, 1
    return mod.__dict__, 0


def python_main(code: types.CodeType, mode: str, calls: list[Any] | None = None, entry: str | None = None) -> None:
    """Run a Python program: ``stdio`` (read stdin, write stdout), ``call`` (call ``entry``
    with each argument list and write each encoded result to fd 3), or ``rpc`` (serve
    the checker's calls on the socket at fd 3)."""
    _fresh_stdio(read_stdin=mode == "stdio")
    namespace, status = _run_module(code)
    if namespace is None or mode == "stdio":
        _finish(status)
    assert namespace is not None
    if mode == "call":
        write_frame(3, b'{"ready":true}')
        for args in calls or []:
            write_frame(3, _call(namespace, entry or "", args))
    else:
        names = sorted(k for k, v in namespace.items() if callable(v) and not k.startswith("__"))
        write_frame(3, json.dumps({"names": names}).encode())
        while True:
            req = read_frame(3)
            if req is None:
                break
            try:
                msg = json.loads(req)
                args = _codec.decode(msg["args"])
                kwargs = _codec.decode(msg.get("kwargs", {"$d": []}))
            except (ValueError, KeyError, TypeError):
                break
            write_frame(3, _call(namespace, str(msg.get("name", "")), args, kwargs))
    _finish(0)


def _resolve(namespace: dict[str, Any], name: str) -> Any:
    if "." in name:  # "Solution.twoSum": LeetCode style, a fresh instance per call
        cls_name, _, meth = name.partition(".")
        return getattr(namespace[cls_name](), meth)
    if name in namespace:
        return namespace[name]
    sol = namespace.get("Solution")
    if sol is not None and hasattr(sol, name):
        return getattr(sol(), name)
    raise NameError(f"name {name!r} is not defined")


def _call(namespace: dict[str, Any], name: str, args: Any, kwargs: Any = None) -> bytes:
    try:
        fn = _resolve(namespace, name)
        value = fn(*args, **(kwargs or {})) if isinstance(args, (list, tuple)) else fn(args)
        return b'{"ok":' + _codec.dumps(value) + b"}"
    except MemoryError:
        return b'{"exc":["MemoryError",""],"mle":true}'
    except BaseException as exc:  # the program's failure is a result
        try:
            text = f"{type(exc).__name__}: {exc}"[:2000]
        except BaseException:  # a hostile __str__
            text = "exception"
        name_ = type(exc).__name__ if type(exc).__module__ == "builtins" else "Exception"
        return json.dumps({"exc": [name_, text]}).encode()
