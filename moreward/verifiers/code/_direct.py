"""A box whose PID 1 is the program: the fast path for one assert-style test.

A sample whose tests are one assert-style check (HumanEval's ``check(candidate)``,
MBPP's asserts) needs one program process only. So instead of a trusted init that
forks the program, the box's first process sets the box up, drops every privilege and
*becomes* the program; the trusted side of the test runs in the lane's checker process
(:func:`checker_main` below), outside the box, and the lane keeps the deadline and
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

__all__ = ["EXIT_COMPILE", "EXIT_SETUP", "Spare", "checker_main", "report", "run_direct", "spawn_spare"]

EXIT_COMPILE = 3  # the box reported a compile error itself
EXIT_SETUP = 4  # the box could not set itself up (it reported why, when it still could)


class Spare:
    """A box cloned ahead of its sample, waiting for the request on ``ctl``.

    The lane clones it right after finishing a sample, while the caller prepares the
    next one: the namespaces, the id maps and the new process's first copy-on-write
    faults are then paid off the sample's critical path. It holds nothing of any
    sample until the lane hands it one (the request and the result pipe only; the
    secret tests go to the checker)."""

    def __init__(self, mode: dict[str, Any]) -> None:
        from . import _box

        self.mine, theirs = socket.socketpair()
        self.ctl, ctl_box = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.out_r, out_w = os.pipe()
        self.err_r, err_w = os.pipe()
        self.ok_r, ok_w = os.pipe()
        self.pid = _box.spawn_box(mode)
        if self.pid == 0:
            self.ctl.close()
            _box_main(ctl_box, [theirs.fileno(), out_w, err_w, ok_w], _box.box_uids(mode))
        for fd in (out_w, err_w, ok_w):
            os.close(fd)
        theirs.close()
        ctl_box.close()

    def hand_over(self) -> None:
        """Close the lane's ends of the program's socket and output once the checker holds
        them: if the checker dies, the program must see the end of its socket and go."""
        for fd in (self.out_r, self.err_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.out_r = self.err_r = -1
        self.mine.close()

    def close(self) -> None:
        """Release the lane's ends (the box itself is reaped by whoever ran it)."""
        self.hand_over()
        try:
            os.close(self.ok_r)
        except OSError:
            pass
        self.ctl.close()

    def discard(self) -> None:
        """End an unused spare (the lane is going away)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        self.close()


def spawn_spare(mode: dict[str, Any]) -> Spare | None:
    """A spare box, or None when this machine cannot give one."""
    try:
        return Spare(mode)
    except OSError:
        return None


def run_direct(fds: list[int], deadline: float, budget: bytes, mode: dict[str, Any],
               cg: tuple[int, list[int]], checker: tuple[socket.socket, int], spare: Spare | None) -> bool:
    """Run one sample in a box whose init is the program (``spare``, or one cloned now).
    ``budget`` is the test's ``time`` (CPU s), ``wall`` and ``out_cap`` as JSON, passed
    to the checker unread; ``cg`` the OOM-event fd and the OOM kills seen so far (kept
    current). Returns False when the lane's checker is unusable (stuck or dead), so the
    lane must end.

    Every page this process writes while a box lives is copied (the box shares them),
    so it does as little as it can until the box is gone."""
    from . import _init

    req_fd, secret_fd, out, _ctl = fds
    chk, chk_pid = checker
    box = pidfd = -1
    reaped = False
    healthy = True
    final: dict[str, Any] = {"t": "end", "status": "error"}
    events, ooms = cg
    try:
        try:
            if spare is None:
                raise OSError("no spare box")
            socket.send_fds(spare.ctl, [b"go"], [req_fd, out])
        except OSError:  # none was ready, or it died waiting: clone one now
            if spare is not None:
                spare.discard()
            spare = Spare(mode)
            socket.send_fds(spare.ctl, [b"go"], [req_fd, out])
        box = spare.pid
        _init.send_frame(out, {"t": "start", "pid": box})
        pidfd = os.pidfd_open(box)
        socket.send_fds(chk, [budget], [spare.mine.fileno(), spare.out_r, spare.err_r, pidfd, secret_fd, out])
        spare.hand_over()
        # Wait for the box, not for the checker: the checker kills the box once the test
        # is decided, and this process stays idle meanwhile, so the pages it shares
        # with the box are not copied (every page it wrote would be).
        t0 = time.monotonic()
        if not select.select([pidfd], [], [], max(0.1, deadline))[0]:
            os.kill(box, signal.SIGKILL)  # the sample's deadline: the checker is stuck
        _, st, ru = os.wait4(box, 0)
        reaped = True
        # The program's fate goes to the checker, which writes the test's frame itself:
        # this process never holds the test's verdict text (an assertion message can
        # quote expected values), since the next box is a copy of its memory.
        seen, ooms[0] = ooms[0], _init.oom_kills(events)
        fate = {"status": st, "cpu": ru.ru_utime + ru.ru_stime, "setup_ok": os.read(spare.ok_r, 1) == b"k",
                "oom": ooms[0] > seen}
        try:
            chk.send(json.dumps(fate).encode())
        except OSError:  # the checker died
            pass
        answer = _await(chk, max(1.0, deadline - (time.monotonic() - t0)))
        if answer != b"done":
            healthy = False  # stuck in the test's own code past the deadline, or dead
            try:
                os.kill(chk_pid, signal.SIGKILL)
            except OSError:
                pass
            final = ({"t": "error", "reason": "the sandbox's checker process died during the test"} if answer == b""
                     else {"t": "end", "status": "deadline", "reason": f"sample deadline of {deadline:.1f}s"})
        else:
            final = {"t": "end", "status": "exit", "code": os.waitstatus_to_exitcode(st)}
    except BaseException as exc:  # a dead checker, say: this lane ends, the parent starts a new one
        healthy = False
        final = {"t": "error", "reason": f"lane: {type(exc).__name__}: {exc}"[:2000]}
    finally:
        if box > 0 and not reaped:  # the box must not outlive the sample
            try:
                os.kill(box, signal.SIGKILL)
                os.waitpid(box, 0)
            except OSError:
                pass
        if pidfd >= 0:
            os.close(pidfd)
        if spare is not None:
            spare.close()
    _init.send_last(out, final)
    return healthy


def _await(chk: socket.socket, seconds: float) -> bytes | None:
    """The checker's next message; ``b""`` when it is gone, None when nothing comes
    within ``seconds``."""
    if not select.select([chk], [], [], max(0.1, seconds))[0]:
        return None
    try:
        return chk.recv(1 << 16)
    except OSError:
        return b""


# --- the lane's checker process --------------------------------------------------


def checker_main(sock: socket.socket, isolate: int) -> None:
    """Serve a lane's assert-style tests until the lane goes away. Never returns.

    Forked by the zygote next to each lane, before any sample exists, and never forks
    itself: no box is a copy of this process, so the tests it has read cannot reach a
    program through inherited memory. It leaves the network first (``isolate`` holds
    the namespace flags the machine allows) and cannot be ptraced; the trusted test
    code runs here, so a broken test costs one sample and this process, never the
    trainer. Per sample the lane sends the budget and six fds (the program's socket,
    stdout, stderr, pidfd, the secret tests, the result pipe), then, once it has
    reaped the box, the program's fate; this process writes the test's frame and
    answers ``done``.
    """
    from . import _box, _checker, _sys

    _sys.set_dumpable(False)
    if isolate:
        try:
            _box.unshare_as_self(isolate)
        except OSError:
            pass  # defence in depth only: the test code is the dataset's, not the policy's
    try:
        _sys.set_no_new_privs()
    except OSError:
        pass
    state = _checker.InterpreterState()
    try:
        while _serve_next(sock, state):
            pass
    finally:  # whatever escaped (a test's late signal handler, say): the lane starts a new checker
        os._exit(0)


def _serve_next(sock: socket.socket, state: Any) -> bool:
    """One sample; False when the lane is gone."""
    from . import _checker

    try:
        msg, fds, _, _ = socket.recv_fds(sock, 1 << 12, 8)
    except InterruptedError:
        return True
    except OSError:
        return False
    if not msg:
        return False
    out = fds.pop() if len(fds) == 6 else -1
    try:
        try:
            reply = _checker.serve_one(msg, fds)
        finally:
            state.restore()  # what the test changed in this interpreter must not reach the next one
        fate = json.loads(sock.recv(1 << 12) or b"null")
        if out >= 0 and isinstance(fate, dict):
            report(out, reply, fate)
        sock.send(b"done")
        return True
    except (OSError, ValueError):
        return False
    finally:
        if out >= 0:
            os.close(out)


def report(out: int, reply: dict[str, Any], fate: dict[str, Any]) -> None:
    """The test's frame, from the checker's verdict (``reply``, with the test's CPU
    ``time`` limit) and the program's fate as the lane saw it (raw wait ``status``,
    ``cpu``, ``setup_ok``, ``oom``)."""
    from . import _init

    st = int(fate["status"])
    code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else None
    if not fate["setup_ok"] and code == EXIT_COMPILE:
        return  # the box has sent its compile error itself
    if not fate["setup_ok"] and code == EXIT_SETUP:  # the parent keeps the box's own reason when it sent one
        _init.send_frame(out, {"t": "error", "reason": "the sandbox box could not set itself up"})
        return
    _init.send_check_result(out, 0, str(reply.get("status", "SE")), str(reply.get("reason", "")), st,
                            cpu=float(fate["cpu"]), wall=float(reply.get("wall", 0.0)),
                            stopped=bool(reply.get("stopped", True)), setup_ok=bool(fate["setup_ok"]),
                            oom=bool(fate["oom"]), err=str(reply.get("err", "")),
                            cpu_limit=float(reply.get("time", 0.0)))


def _box_main(ctl: socket.socket, ends: list[int], uids: tuple[int | None, int | None]) -> None:
    """The box: wait for a sample, set up as init (trusted), then become the program.
    Never returns.

    ``ends`` are the program's ends of the checker's socket, stdout, stderr and the
    set-up pipe. The sample arrives on ``ctl`` as two fds: the request and the result
    pipe. Everything else this process inherited from the lane (the lane's sockets)
    is closed by ``_child.enter`` before any of the program's code runs.
    """
    from . import _child, _init, _root, _sys

    rpc, out_w, err_w, ok_w = ends
    try:
        _sys.set_pdeathsig(signal.SIGKILL)  # it may wait long for its sample
        _, fds, _, _ = socket.recv_fds(ctl, 16, 2)
        if len(fds) != 2:  # the lane went away before giving it a sample
            os._exit(0)
    except BaseException:
        os._exit(0)
    req_fd, out = fds
    try:
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
        # SIGINT keeps the zygote's SIG_IGN: a namespace's init ignores it either way.
        # no_new_privs was set by the lane and is inherited for good.
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
