"""The fork server ("zygote") of the hard-deadline runtime.

Why a separate process: forking the caller is unsafe when it has threads (a
lock held by another thread stays locked in the child forever; Python 3.12+
warns about it), and trainers call rewards from threads, event loops, Ray
actors and their own forked children. So the caller starts this script once
with ``subprocess`` (fork+exec, safe from any thread). It is single-threaded,
imports the preload modules (sympy, ...) once, and forks warm workers on
request. Each worker gets its job socket from the caller over the control
socket (``SCM_RIGHTS``), so jobs and results never pass through the zygote.

The zygote is the parent of every worker, so it is the one that kills and
reaps them: a ``kill`` request sends SIGKILL to the worker's whole process
group (jobs may fork) *before* the worker is reaped, while its pid, and so
its group id, cannot have been reused. It reports the wait status back so
the caller can say "worker died with signal SIGSEGV". When the caller goes
away (control socket EOF) it kills every worker group and exits; workers
also get SIGKILL if the zygote dies (``PR_SET_PDEATHSIG`` on Linux).

This file runs as a script, before (and without) importing ``moreward``; it
loads its sibling ``_worker.py`` (the worker loop and the wire protocol) by
file. It must stay stdlib-only and import-light.

Control messages (see ``_worker.py`` for the framing)::

    caller -> zygote   ("init", sys_path, preload) | ("spawn", token) + fd | ("kill", pid)
                       ("preload", names) | ("preload_file", module, path)
    zygote -> caller   ("spawned", token, pid) | ("spawn_failed", token, reason)
                       ("exit", pid, wait_status) | ("preload_failed", name, reason)
"""

from __future__ import annotations

import os
import select
import signal
import socket
import sys
import time
import traceback
from typing import Any

if __package__:
    from . import _worker as w
else:  # run as a script (the normal case): load the sibling by file, without importing moreward
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "_moreward_runtime_worker", os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")
    )
    assert _spec is not None and _spec.loader is not None
    w = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = w
    _spec.loader.exec_module(w)

__all__ = ["main"]


class _Zygote:
    """The single-threaded fork server. See the module docstring."""

    def __init__(self, ctrl: socket.socket) -> None:
        self.ctrl = ctrl
        self.workers: set[int] = set()
        self.kill_requested: set[int] = set()
        self.reader = w.MsgReader()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)

    def send(self, *msg: Any) -> None:
        self.ctrl.sendall(w.encode_msg(*msg))

    def preload(self, names: list[str]) -> None:
        import importlib

        for name in names:
            try:
                importlib.import_module(name)
            except BaseException as exc:
                self.send("preload_failed", name, w.describe(exc))

    def preload_file(self, name: str, path: str) -> None:
        """Load a job module the caller named by file, so workers forked from now on have it."""
        try:
            w.load_hinted("__mp_main__" if name == "__main__" else name, path)
        except BaseException as exc:
            self.send("preload_failed", name, w.describe(exc))

    def spawn(self, token: int, fd: int) -> None:
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(fd)
            self.send("spawn_failed", token, w.describe(exc))
            return
        if pid == 0:  # worker
            os.set_inheritable(fd, False)
            code = 0
            try:
                # close what belongs to the zygote, including fds that came for later spawns
                w.worker_main(
                    fd, os.getppid(), [self.ctrl.fileno(), self.wake_r, self.wake_w, *self.reader.fds]
                )
            except BaseException:
                traceback.print_exc()
                code = 70
            finally:
                os._exit(code)
        os.close(fd)
        try:
            os.setpgid(pid, pid)  # also here, so a kill right after spawn finds the group
        except OSError:
            pass
        self.workers.add(pid)
        self.send("spawned", token, pid)

    def kill(self, pid: int) -> None:
        if pid in self.workers:
            self.kill_requested.add(pid)
            _kill_group(pid)  # reaped (and reported) by reap() once it is gone
        else:
            self.send("exit", pid, None)

    def reap(self) -> None:
        """Reap every exited child; kill a worker's group before reaping its leader."""
        if not hasattr(os, "waitid"):  # pragma: no cover - no peeking: kill the group just after
            self._reap_without_waitid()
            return
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid == 0:
                return
            pid = info.si_pid
            if pid in self.workers:
                _kill_group(pid)  # the zombie leader keeps the group id reserved
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                continue
            if pid in self.workers:
                # Reported even when nobody asked: a job's leftover child may hold the worker's
                # socket open, so the caller cannot count on seeing EOF when the worker dies.
                self.workers.discard(pid)
                self.kill_requested.discard(pid)
                self.send("exit", pid, status)

    def _reap_without_waitid(self) -> None:  # pragma: no cover - platforms without os.waitid
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.workers:
                _kill_group(pid)
                self.workers.discard(pid)
                self.kill_requested.discard(pid)
                self.send("exit", pid, status)

    def handle(self, msg: tuple[Any, ...], fds: list[int]) -> None:
        kind = msg[0]
        if kind == "spawn":
            if fds:
                self.spawn(msg[1], fds.pop(0))
            else:  # cannot happen unless the kernel dropped the fd (MSG_CTRUNC)
                self.send("spawn_failed", msg[1], "no socket arrived with the spawn request")
        elif kind == "init":
            sys.path[:] = list(msg[1])
            self.preload(list(msg[2]))
        elif kind == "kill":
            self.kill(msg[1])
        elif kind == "preload":
            self.preload(list(msg[1]))
        elif kind == "preload_file":
            self.preload_file(msg[1], msg[2])

    def serve(self) -> None:
        while True:
            ctrl_fd = self.ctrl.fileno()
            readable, _, _ = select.select([ctrl_fd, self.wake_r], [], [], 5.0)
            if self.wake_r in readable:
                try:
                    while os.read(self.wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
            if ctrl_fd in readable:
                data, fds, _, _ = socket.recv_fds(self.ctrl, w.CTRL_MAX, 64)
                if not data:
                    for fd in fds + self.reader.fds:
                        os.close(fd)
                    return
                for msg in self.reader.feed(data, fds):
                    self.handle(msg, self.reader.fds)
            self.reap()

    def shutdown(self, grace: float = 5.0) -> None:
        """Kill every worker group and every stray descendant, and reap them (for ``grace`` s at most)."""
        give_up = time.monotonic() + grace
        while True:
            for pid in list(self.workers):
                _kill_group(pid)
            for pid in _proc_children():  # strays re-parented to us (we are a subreaper)
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            while True:
                try:
                    pid, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return
                if pid == 0:
                    break
                self.workers.discard(pid)
            if time.monotonic() > give_up:
                return
            time.sleep(0.005)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _proc_children() -> list[int]:
    """Our direct children, from ``/proc`` (Linux); empty elsewhere."""
    pids: list[int] = []
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/children") as fh:
                pids.extend(int(p) for p in fh.read().split())
    except OSError:
        pass
    return pids


def main(argv: list[str] | None = None) -> None:
    """Run the zygote on the control socket whose fd is ``argv[1]``."""
    argv = sys.argv if argv is None else argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides when we stop
    import warnings

    # Preloaded modules may start threads; our forks are still safe enough because
    # the workers only run jobs, and a warning here would only be noise.
    warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork.*")
    ctrl = socket.socket(fileno=int(argv[1]))
    ctrl.setblocking(True)
    zygote = _Zygote(ctrl)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(zygote.wake_w, warn_on_full_buffer=False)
    w.prctl(w.PR_SET_CHILD_SUBREAPER, 1)
    try:
        zygote.serve()
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        zygote.shutdown()


if __name__ == "__main__":
    main()
