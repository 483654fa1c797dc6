"""A box whose PID 1 is the program: the fast path for one assert-style test.

A sample whose tests are one assert-style check (HumanEval's ``check(candidate)``,
MBPP's asserts) needs one program process only. So instead of a trusted init that
forks the program, the box's first process sets the box up, drops every privilege and
*becomes* the program; the trusted side of the test runs in the lane's checker process
(``_checker.checker_main``), outside the box, and the lane keeps the deadline and
reaps. One Python process per sample instead of two saves a fork, a page-table copy
and teardown, and the copy-on-write faults of a second interpreter: about a third of
the CPU of such a sample.

What holds exactly as on the general path (``_init``): fresh namespaces, the
read-only root and private ``/tmp``, cgroups, rlimits, the uid and capability drop and
``no_new_privs`` (the same ``_child.enter``), stdout and stderr drained under a cap
(by the checker), and the end of the whole process tree with PID 1. The test code and
its expected values go to the checker only: the box never holds that fd once the
program runs, and the checker is not a process the box can see.

What differs, and why it is harmless: a namespace's init ignores the signals it sends
itself unless it installed a handler, so ``os.kill(os.getpid(), SIGKILL)`` does
nothing (a real fault such as a segfault is still fatal, and RLIMIT_CPU's SIGKILL and
the lane's come from outside); orphans of the program are re-parented to it and die
with it.

Standard library only: this module is loaded into the zygote.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from typing import Any

__all__ = ["EXIT_COMPILE", "EXIT_SETUP", "run_direct"]

EXIT_COMPILE = 3  # the box reported a compile error itself
EXIT_SETUP = 4  # the box could not set itself up (it reported why, when it still could)


def run_direct(fds: list[int], deadline: float, budget: dict[str, Any], mode: dict[str, Any],
               cg: tuple[int, int], checker: tuple[socket.socket, int]) -> bool:
    """Run one sample in a box whose init is the program. ``budget`` holds the test's
    ``time`` (CPU s), ``wall`` and ``out_cap``. Returns False when the lane's checker
    is unusable (stuck or dead), so the lane must end."""
    from . import _box, _init

    req_fd, secret_fd, out, _ctl = fds
    chk, chk_pid = checker
    mine, theirs = socket.socketpair()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ok_r, ok_w = os.pipe()
    box = pidfd = -1
    reaped = False
    healthy = True
    final: dict[str, Any] = {"t": "end", "status": "error"}
    try:
        oom0 = _init.oom_kills(cg[0])
        box = _box.spawn_box(mode)
        if box == 0:
            _box_main(req_fd, out, [theirs.fileno(), out_w, err_w, ok_w], cg, _box.box_uids(mode))
        for fd in (out_w, err_w, ok_w):
            os.close(fd)
        theirs.close()
        _init.send_frame(out, {"t": "start", "pid": box})
        pidfd = os.pidfd_open(box)
        socket.send_fds(chk, [json.dumps({"wall": budget["wall"], "out_cap": budget["out_cap"]}).encode()],
                        [mine.fileno(), out_r, err_r, pidfd, secret_fd])
        mine.close()
        os.close(out_r)
        os.close(err_r)
        # Wait for the box, not for the checker: the checker kills the box once the test
        # is decided, and this process stays idle meanwhile, so the pages it shares
        # with the box are not copied (every page it wrote would be).
        t0 = time.monotonic()
        if not select.select([pidfd], [], [], max(0.1, deadline))[0]:
            os.kill(box, signal.SIGKILL)  # the sample's deadline: the checker is stuck
        _, st, ru = os.wait4(box, 0)
        reaped = True
        reply = _await(chk, max(1.0, deadline - (time.monotonic() - t0)))
        if reply is None:  # stuck in the test's own code past the deadline, or dead
            healthy = False
            try:
                os.kill(chk_pid, signal.SIGKILL)
            except OSError:
                pass
            final = {"t": "end", "status": "deadline", "reason": f"sample deadline of {deadline:.1f}s"}
        else:
            final = {"t": "end", "status": "exit", "code": os.waitstatus_to_exitcode(st)}
            _report(out, reply, st, ru, os.read(ok_r, 1) == b"k", _init.oom_kills(cg[0]) > oom0,
                    float(budget["time"]))
    except BaseException as exc:
        final = {"t": "error", "reason": f"lane: {type(exc).__name__}: {exc}"[:2000]}
    finally:
        if box > 0 and not reaped:  # the box must not outlive the sample
            try:
                os.kill(box, signal.SIGKILL)
                os.waitpid(box, 0)
            except OSError:
                pass
        for fd in (pidfd, ok_r):
            if fd >= 0:
                os.close(fd)
        mine.close()
        theirs.close()
    try:
        _init.send_frame(out, final)
        if final["t"] == "error":
            _init.send_frame(out, {"t": "end", "status": "error"})
    except OSError:
        pass  # the parent already has the results and closed its end
    return healthy


def _await(chk: socket.socket, deadline: float) -> dict[str, Any] | None:
    """The checker's reply, or None when it does not come within ``deadline`` seconds."""
    if not select.select([chk], [], [], max(0.1, deadline))[0]:
        return None
    try:
        data = chk.recv(1 << 16)
    except OSError:
        return None
    return dict(json.loads(data)) if data else None


def _report(out: int, reply: dict[str, Any], st: int, ru: Any, setup_ok: bool, oom: bool, cpu_limit: float) -> None:
    """The test's frame, from the checker's verdict and the program's fate."""
    from . import _init

    code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else None
    if not setup_ok and code == EXIT_COMPILE:
        return  # the box has sent its compile error itself
    if not setup_ok and code == EXIT_SETUP:  # the parent keeps the box's own reason when it sent one
        _init.send_frame(out, {"t": "error", "reason": "the sandbox box could not set itself up"})
        return
    status, reason = str(reply.get("status", "SE")), str(reply.get("reason", ""))
    err = str(reply.get("err", ""))
    sig = os.WTERMSIG(st) if os.WIFSIGNALED(st) else 0
    res = {"timeout": status == "TLE", "ole": status == "OLE", "stopped": bool(reply.get("stopped", True)),
           "setup_ok": setup_ok,
           "cpu": ru.ru_utime + ru.ru_stime, "oom": oom, "err": err, "signal": sig, "exit": code}
    status, reason = _init.check_outcome(status, reason, res, cpu_limit)
    _init.send_frame(out, {"t": "test", "i": 0, "status": status, "reason": reason, "cpu": res["cpu"],
                           "wall": float(reply.get("wall", 0.0)), "exit": code, "signal": sig, "stderr": err})


def _box_main(req_fd: int, out: int, ends: list[int], cg: tuple[int, int], uids: tuple[int | None, int | None]) -> None:
    """The box: set up as init (trusted), then become the program. Never returns.

    ``ends`` are the program's ends of the checker's socket, stdout, stderr and the
    set-up pipe; everything else this process inherited from the lane (the request,
    the secret tests, the result pipe, the lane's sockets) is closed by
    ``_child.enter`` before any of the program's code runs.
    """
    from . import _child, _init, _root, _sys

    rpc, out_w, err_w, ok_w = ends
    try:
        _sys.set_pdeathsig(signal.SIGKILL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _sys.set_no_new_privs()
        req = json.loads(_init.pread_all(req_fd))
        lim = dict(req["limits"])
        _root.box_mounts(int(lim["tmp_mb"]))
        socket.sethostname("sandbox")
        try:
            code = compile(req["code"], "main.py", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
            _init.send_frame(out, {"t": "compile", "ok": False, "reason": f"{type(exc).__name__}: {exc}"[:4000]})
            os._exit(EXIT_COMPILE)
        devnull = os.open("/dev/null", os.O_RDWR)
        os.setpgid(0, 0)  # its own process group: a kill(0, ...) reaches the box only
        rl = _init.program_rlimits(lim, float(lim["time"]), False)
    except BaseException as exc:
        try:
            _init.send_frame(out, {"t": "error", "reason": f"box setup: {type(exc).__name__}: {exc}"[:2000]})
        finally:
            os._exit(EXIT_SETUP)
    try:
        _child.enter({0: devnull, 1: out_w, 2: err_w, 3: rpc, 4: ok_w}, rl, uids[0], 1000, False, True)
        _sys.set_pdeathsig(signal.SIGKILL)  # the uid change cleared it
        os.write(4, b"k")
        os.close(4)
    except BaseException:
        os._exit(EXIT_SETUP)  # no "k": the lane reports a sandbox error
    try:
        _child.python_main(code, "rpc", None, req.get("entry_point"))
    finally:
        os._exit(1)
