"""The trusted side of assert-style tests (HumanEval's ``check(candidate)``, MBPP asserts).

It never runs in the program's process: on the general path it runs in the box's
init, which forks the program *before* it reads the test code (from an fd the program
never holds), so the test, with its expected values, is not in the program's memory,
and init is not dumpable, so the program cannot read it from ``/proc`` either; on the
direct path it runs in the lane's checker process (``_direct``), outside the box,
which the program cannot even see. The test
calls the program's functions through :class:`Proxy` objects: arguments go over a
socket as data, and only data comes back (``_codec``), so an object with an always-true
``__eq__``, a patched ``assert`` or comparator, or an ``exit(0)`` before the asserts
cannot make a check pass. The verdict is this process's own.

While waiting for a reply it keeps draining the program's stdout and stderr (a full
pipe must not stall the program into a false TLE) and keeps the test's wall-clock
deadline. Standard library only: loaded into the zygote.
"""

from __future__ import annotations

import _signal
import builtins
import functools
import json
import os
import select
import signal
import struct
import sys
import time
from typing import Any

from . import _codec

__all__ = ["Gone", "InterpreterState", "Link", "OutputLimit", "Proxy", "Timeout", "pread_all", "run_check", "serve_one"]


def pread_all(fd: int) -> bytes:
    """The whole content of a file (a memfd), without moving the offset other forks share."""
    chunks: list[bytes] = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


class Gone(Exception):
    """The program exited, or closed its end, before answering."""


class Timeout(Exception):
    """The test's wall-clock deadline passed while waiting for the program."""


class OutputLimit(Exception):
    """The program printed more than the output cap."""


class Link:
    """One request/reply channel to the program, with the test's deadline and output caps."""

    def __init__(self, sock: int, out_r: int, err_r: int, pidfd: int, deadline: float, out_cap: int,
                 frame_cap: int) -> None:
        self.sock = sock
        self.deadline = deadline
        self.out_cap = out_cap
        self.frame_cap = frame_cap
        self.out = bytearray()
        self.err = bytearray()
        self.raised: BaseException | None = None
        self.poller = select.poll()
        self.out_r = out_r
        self.streams = {out_r: self.out, err_r: self.err}
        for fd in (sock, out_r, err_r, pidfd):
            self.poller.register(fd, select.POLLIN)
        self.pidfd = pidfd
        self.exited = False
        self.mle = False  # the program's last failed call ran out of memory

    def _recv(self) -> bytes:
        buf = bytearray()
        need = 4
        while True:
            if len(buf) >= need:
                if need == 4:
                    (n,) = struct.unpack(">I", bytes(buf[:4]))
                    if n > self.frame_cap:
                        raise OutputLimit("reply larger than the output cap")
                    need = 4 + n
                    continue
                return bytes(buf[4:need])
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            for fd, _ in self.poller.poll(left * 1000):
                if fd == self.pidfd:
                    self.exited = True
                    self.poller.unregister(fd)
                    continue
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError:
                    chunk = b""
                if fd == self.sock:
                    if not chunk:
                        raise Gone("the program exited before the tests finished")
                    buf += chunk
                elif not chunk:
                    self.poller.unregister(fd)
                else:
                    stream = self.streams[fd]
                    stream += chunk
                    if fd != self.out_r:
                        del stream[:-8192]
                    elif len(stream) > self.out_cap:
                        raise OutputLimit("output limit exceeded")

    def settle(self, status: str) -> bool:
        """Whether the program has exited; one that failed or left (``status`` GONE or
        RE) gets a moment to finish going, so its exit status is the real one."""
        if status in ("GONE", "RE") and not self.exited:
            self.exited = bool(select.select([self.pidfd], [], [], 0.2)[0])
        return self.exited

    def hello(self) -> list[str]:
        return [str(n) for n in json.loads(self._recv()).get("names", [])]

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        payload = json.dumps({"name": name, "args": _codec.encode(list(args)), "kwargs": _codec.encode(kwargs)},
                             separators=(",", ":"), allow_nan=False).encode()
        data = struct.pack(">I", len(payload)) + payload
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.sock, view):]
        except OSError:
            raise Gone("the program exited before the tests finished") from None
        msg = json.loads(self._recv())
        if "ok" in msg:
            return _codec.decode(msg["ok"])
        self.mle = bool(msg.get("mle"))
        name_, text = [*list(msg.get("exc") or ["Exception", ""]), "", ""][:2]
        exc_type = getattr(builtins, str(name_), None)
        if not (isinstance(exc_type, type) and issubclass(exc_type, Exception)):
            exc_type = RuntimeError
        try:
            err: BaseException = exc_type(str(text))
        except Exception:  # exception types with unusual constructors
            err = RuntimeError(str(text))
        self.raised = err
        raise err


class Proxy:
    """Stands for one of the program's functions inside the trusted test."""

    def __init__(self, link: Link, name: str) -> None:
        self._link = link
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._link.call(self._name, args, kwargs)

    def __repr__(self) -> str:
        return f"<candidate {self._name}>"


@functools.lru_cache(maxsize=256)
def _compiled(source: str, filename: str) -> Any:
    """The test's code object. Cached because a lane's checker sees the same test for
    every rollout of a prompt (a GRPO group); code objects are immutable, and each run
    still executes them in a fresh namespace."""
    return compile(source, filename, "exec", dont_inherit=True)


def run_check(link: Link, item: dict[str, Any]) -> tuple[str, str]:
    """Run one test item against the program; returns ``(status, reason)`` where status is
    AC, WA (assertion or wrong data), RE (the program raised), GONE, TLE or OLE."""
    try:
        ns: dict[str, Any] = {"__name__": "__checker__", "__builtins__": builtins}
        if item.get("prelude"):
            exec(_compiled(item["prelude"], "prelude.py"), ns)
        trusted = set(ns)
        entry = item.get("entry_point")
        for name in link.hello():
            if name not in trusted or name == entry:
                ns[name] = Proxy(link, name)
        if entry:
            ns[entry] = Proxy(link, entry)
        exec(_compiled(item["code"], "test.py"), ns)
        check = ns.get("check")
        if entry and callable(check) and not isinstance(check, Proxy):
            check(ns[entry])
        return "AC", ""
    except Timeout:
        return "TLE", "time limit exceeded"
    except OutputLimit as exc:
        return "OLE", str(exc)
    except Gone as exc:
        return "GONE", str(exc)
    except AssertionError as exc:
        return "WA", f"assertion failed: {exc}"[:500]
    except BaseException as exc:  # any other failure of the check
        if exc is link.raised and link.mle:  # without a memory cgroup, MemoryError is how it shows
            return "MLE", "memory limit exceeded"
        kind = "RE" if exc is link.raised else "WA"
        return kind, f"{type(exc).__name__}: {exc}"[:500]


# --- one test for the lane's checker process (see ``_direct``) ----------------------


class InterpreterState:
    """What a trusted test may change in the interpreter that runs it, saved once and
    restored after every test, since the lane's checker process outlives its samples.

    Covered: ``builtins``, ``sys.path``, the recursion and int-digits limits, the
    standard streams, the working directory, the environment, signal handlers and
    pending alarms. Not covered: attributes a test sets on modules it imported (a
    dataset's tests have no reason to), and threads it leaves running.
    """

    def __init__(self) -> None:
        self.builtins = dict(builtins.__dict__)
        self.path = list(sys.path)
        self.limits = (sys.getrecursionlimit(), sys.get_int_max_str_digits())
        self.streams = (sys.stdin, sys.stdout, sys.stderr)
        self.cwd = os.getcwd()
        self.environ = dict(os.environ)
        self.handlers = {sig: _signal.getsignal(sig) for sig in _CATCHABLE}

    def restore(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        for sig, handler in self.handlers.items():  # the C getter: signal.getsignal builds an enum each time
            if _signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)
        if builtins.__dict__ != self.builtins:
            builtins.__dict__.clear()
            builtins.__dict__.update(self.builtins)
        if sys.path != self.path:
            sys.path[:] = self.path
        if (sys.getrecursionlimit(), sys.get_int_max_str_digits()) != self.limits:
            sys.setrecursionlimit(self.limits[0])
            sys.set_int_max_str_digits(self.limits[1])
        sys.stdin, sys.stdout, sys.stderr = self.streams
        if os.getcwd() != self.cwd:
            os.chdir(self.cwd)
        if os.environ != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)


_CATCHABLE = tuple(s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP))



def serve_one(msg: bytes, fds: list[int]) -> dict[str, Any]:
    """One test: ``msg`` holds the budget, ``fds`` the program's socket, stdout, stderr,
    pidfd and the secret tests. The program's box is killed as soon as the test is
    decided (the lane waits for that, then for this reply); every fd is closed on
    return."""
    stopped = False
    try:
        if len(fds) != 5:
            return {"status": "SE", "reason": f"checker: expected 5 fds, got {len(fds)}"}
        rpc, out_r, err_r, pidfd, secret = fds
        head = json.loads(msg)
        cap = int(head["out_cap"])
        start = time.monotonic()
        link = Link(rpc, out_r, err_r, pidfd, start + float(head["wall"]), cap, cap)
        try:
            item = dict(json.loads(pread_all(secret))[int(head.get("i", 0))])
        except (OSError, ValueError, IndexError, TypeError) as exc:
            status, reason = "SE", f"unreadable test: {exc}"
        else:
            status, reason = run_check(link, item)
        wall = time.monotonic() - start
        stopped = not link.settle(status)
        return {"status": status, "reason": reason, "stopped": stopped, "wall": wall, "time": float(head["time"]),
                "err": bytes(link.err[-4096:]).decode("utf-8", "replace")}
    except Exception as exc:  # a checker bug is a sandbox error of this sample only
        stopped = True
        return {"status": "SE", "reason": f"checker: {type(exc).__name__}: {exc}"[:500]}
    finally:
        if stopped and len(fds) == 5:  # end the box now; the lane reaps it
            try:
                signal.pidfd_send_signal(fds[3], signal.SIGKILL)
            except OSError:
                pass
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
