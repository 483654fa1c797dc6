"""The init process of one sandbox: it mounts the box's ``/tmp`` and ``/proc``, then runs the tests.

It is PID 1 of a fresh PID namespace, so when it exits the kernel kills every process
left in the box (a double-forked ``setsid`` orphan included), and between two tests it
clears the box with ``kill(-1, SIGKILL)``, which reaches every process of the namespace
but itself. It never runs the program's code: each test is a child (see ``_child``)
watched from here with a wall-clock deadline, its stdout and stderr drained
concurrently under a byte cap. Results go to the parent as frames; the parent compares
them with the expected outputs, which never enter the box. For assert-style tests init
itself is the trusted checker (``_checker``): it reads the test code only after the
program is forked, so the program's memory never holds it.

Standard library only: this module is loaded into the zygote.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from . import _checker, _child

__all__ = ["Init", "check_outcome", "classify", "oom_kills", "pread_all", "program_rlimits", "send_check_result",
           "send_frame", "send_last"]

_SETUP_FAILED = "sandbox setup failed"


def send_frame(fd: int, header: dict[str, Any], body: bytes = b"") -> None:
    """Frame to the parent: two big-endian lengths, a JSON header, raw bytes."""
    head = json.dumps(header, separators=(",", ":")).encode()
    data = memoryview(struct.pack(">II", len(head), len(body)) + head + body)
    while data:
        n = os.write(fd, data)
        data = data[n:]


pread_all = _checker.pread_all


def send_check_result(out: int, i: int, status: str, reason: str, wait_status: int, *, cpu: float, wall: float,
                      stopped: bool, setup_ok: bool, oom: bool, err: str, cpu_limit: float) -> str:
    """Frame assert-style test ``i``: the checker's ``(status, reason)`` weighed against
    the program's fate (raw ``wait_status``, CPU, whether it had to be stopped, set up,
    OOM-killed; see :func:`check_outcome`). Returns the final status."""
    sig = os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else 0
    code = os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else None
    res = {"timeout": status == "TLE", "ole": status == "OLE", "stopped": stopped, "setup_ok": setup_ok, "cpu": cpu,
           "oom": oom, "err": err, "signal": sig, "exit": code}
    status, reason = check_outcome(status, reason, res, cpu_limit)
    send_frame(out, {"t": "test", "i": i, "status": status, "reason": reason, "cpu": cpu, "wall": wall,
                     "exit": code, "signal": sig, "stderr": err})
    return status


def send_last(fd: int, status: dict[str, Any]) -> None:
    """The lane's last frame of a sample: its ``end`` (an ``error`` is followed by one)."""
    try:
        send_frame(fd, status)
        if status["t"] == "error":
            send_frame(fd, {"t": "end", "status": "error"})
    except OSError:
        pass  # the parent already has the results and closed its end


def oom_kills(events: int) -> int:
    """The memory cgroup's OOM-kill count (0 without a cgroup)."""
    if events < 0:
        return 0
    try:
        text = os.pread(events, 4096, 0).decode()
    except OSError:
        return 0
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            return int(value)
    return 0


def program_rlimits(lim: dict[str, Any], cpu: float, exec_next: bool, compile_: bool = False) -> dict[str, Any]:
    """The rlimits of one program (or compiler) process under the request's limits."""
    mem = lim["compile_memory_mb" if compile_ else "memory_mb"] << 20
    rl: dict[str, Any] = {"cpu": max(1, int(cpu + 0.999)), "fsize": lim["file_size_mb"] << 20,
                          "nofile": lim["open_files"], "nproc": lim["processes"], "stack": min(mem, 256 << 20)}
    if not lim["cgroup_memory"]:
        base = 0 if exec_next else _vm_size()
        rl["as"] = base + mem + (lim["vm_extra_mb"] << 20 if exec_next else 0)
    return rl


def classify(res: dict[str, Any], cpu_limit: float) -> tuple[str, str]:
    """The status of one run: OK (ran to completion; the parent compares), or a verdict."""
    sig = res["signal"]
    if not res["setup_ok"]:
        return "SE", f"{_SETUP_FAILED}: {res['err'][-300:]}"
    if res["ole"] or sig == signal.SIGXFSZ:
        return "OLE", "output limit exceeded" if res["ole"] else "file size limit exceeded"
    if res["oom"] or res["exit"] == _child.EXIT_MLE:
        return "MLE", "memory limit exceeded"
    if res["timeout"] or sig == signal.SIGXCPU or res["cpu"] > cpu_limit + 0.05:
        return "TLE", f"time limit exceeded (limit {cpu_limit:g}s cpu)"  # measured times go to details, not the reason: reasons must be reproducible
    if sig and not res["stopped"]:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return "RE", f"killed by {name}"
    if res["exit"]:
        return "RE", f"exit code {res['exit']}"
    return "OK", ""


def check_outcome(status: str, reason: str, res: dict[str, Any], cpu_limit: float) -> tuple[str, str]:
    """An assert-style test's verdict: the checker's ``(status, reason)`` unless the
    program's own fate (``res``, see :func:`classify`) explains the failure better."""
    prog, why = classify(res, cpu_limit)
    if status == "SE":
        return status, reason
    if prog in ("SE", "MLE", "OLE", "TLE"):
        return prog, why
    if status == "GONE":
        return "RE", why if prog == "RE" else reason
    return status, reason


class Init:
    """Runs a request's tests inside the box and reports each as a frame."""

    def __init__(self, req: dict[str, Any], out: int, secret: int, ctl: int, cg: tuple[int, int], pidns: bool,
                 uids: tuple[int | None, int | None]) -> None:
        self.req = req
        self.out = out
        self.secret = secret
        self.ctl = ctl
        self.events, self.limit_fd = cg
        self.pidns = pidns
        self.prog_uid, self.check_uid = uids
        self.lim = req["limits"]
        self.devnull = os.open("/dev/null", os.O_RDWR)

    # -- process handling ----------------------------------------------------------

    def _oom_kills(self) -> int:
        return oom_kills(self.events)

    def _spawn(self, fds: dict[int, int], rl: dict[str, Any], uid: int | None, oom: int, exec_next: bool,
               target: Callable[[], None]) -> int:
        status_r, status_w = os.pipe()
        layout = dict(fds)
        layout[max(layout) + 1] = status_w
        pid = os.fork()
        if pid == 0:
            try:
                _child.enter(layout, rl, uid, oom, exec_next, self.pidns)
                os.write(max(layout), b"k")
                os.close(max(layout))
                target()
            except BaseException:  # a child must never return into init
                pass
            os._exit(127)
        os.close(status_w)
        self._status_fds[pid] = status_r
        return pid

    def _setup_ok(self, pid: int) -> bool:
        fd = self._status_fds.pop(pid, -1)
        if fd < 0:
            return True
        try:
            return os.read(fd, 1) == b"k"
        finally:
            os.close(fd)

    def _signal_all(self, pid: int) -> None:
        """SIGKILL every process of the box but init (or, without a PID namespace, the group)."""
        try:
            if self.pidns:
                os.kill(-1, signal.SIGKILL)
            else:
                os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass

    def _reap_all(self, pids: list[int]) -> None:
        """Kill and reap until the box holds nothing but init."""
        if not self.pidns:
            for pid in pids:
                if pid > 0:
                    self._signal_all(pid)
                    try:
                        os.waitpid(pid, 0)
                    except ChildProcessError:
                        pass
            return
        for _ in range(2000):
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except ChildProcessError:
                return
            time.sleep(0.001)

    def _rlimits(self, cpu: float, exec_next: bool, compile_: bool = False) -> dict[str, Any]:
        return program_rlimits(self.lim, cpu, exec_next, compile_)

    def run(self, pid: int, wall: float, out_r: int, err_r: int, out_cap: int, side: int = -1,
            on_side: Callable[[bytes], float | None] | None = None, watch: int = -1) -> dict[str, Any]:
        """Watch ``pid`` until it exits (or, with ``watch``, until that process exits),
        ``wall`` seconds pass, stdout passes ``out_cap``, or ``on_side`` (fed what arrives
        on ``side``) returns -1. A non-negative return of ``on_side`` restarts the clock
        (one budget per function call). Everything left in the box is killed after."""
        res: dict[str, Any] = {"timeout": False, "ole": False, "done": False}
        out, err = bytearray(), bytearray()
        poller = select.poll()
        fds = {out_r: out, err_r: err}
        for fd in fds:
            poller.register(fd, select.POLLIN)
        if side >= 0:
            poller.register(side, select.POLLIN)
        pidfd = os.pidfd_open(pid)
        poller.register(pidfd, select.POLLIN)
        wfd = os.pidfd_open(watch) if watch > 0 else -1
        if wfd >= 0:
            poller.register(wfd, select.POLLIN)
        start = time.monotonic()
        deadline = start + wall
        exited = watched_exit = False
        oom0 = self._oom_kills()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                res["timeout"] = True
                break
            for fd, _ in poller.poll(left * 1000):
                if fd == pidfd:
                    exited = True
                    poller.unregister(fd)
                    continue
                if fd == wfd:
                    watched_exit = True
                    poller.unregister(fd)
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    poller.unregister(fd)
                    if fd == side and on_side is not None:
                        on_side(b"")
                    continue
                if fd == side and on_side is not None:
                    got = on_side(chunk)
                    if got is not None and got < 0:
                        res["done"] = True
                    elif got is not None:
                        deadline = time.monotonic() + wall
                elif fd == out_r:
                    out += chunk
                    if len(out) > out_cap:
                        res["ole"] = True
                else:
                    err += chunk
                    del err[:-8192]
            if res["ole"] or res["done"] or (exited and wfd < 0) or watched_exit:
                break
        res["wall"] = time.monotonic() - start
        if wfd >= 0 and not exited and not res["timeout"] and not res["ole"]:
            # The checker is done; give a program that is on its way out a moment to go.
            exited = bool(select.select([pidfd], [], [], 0.2)[0])
        res["stopped"] = not exited
        if not exited:
            self._signal_all(pid)
        _, status, ru = os.wait4(pid, 0)
        res["cpu"] = ru.ru_utime + ru.ru_stime
        res["setup_ok"] = self._setup_ok(pid)
        self._reap_all([pid, watch])
        res["oom"] = self._oom_kills() > oom0
        os.close(pidfd)
        if wfd >= 0:
            os.close(wfd)
        for fd, buf in fds.items():  # writers are all dead now: drain to EOF under the cap
            while len(buf) <= out_cap:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                buf += chunk
            os.close(fd)
        if len(out) > out_cap:
            res["ole"] = True
            del out[out_cap:]
        res["out"], res["err"] = bytes(out), bytes(err[-4096:]).decode("utf-8", "replace")
        res["signal"] = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
        res["exit"] = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        return res

    # -- the request -----------------------------------------------------------------

    def main(self) -> None:
        self._status_fds: dict[int, int] = {}
        req = self.req
        if req["lang"] == "python":
            try:
                code = compile(req["code"], "main.py", "exec", dont_inherit=True)
            except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
                send_frame(self.out, {"t": "compile", "ok": False, "reason": f"{type(exc).__name__}: {exc}"[:4000]})
                return
            self.code = code
        elif req.get("compile"):
            if not self.compile(req["compile"]):
                return
        else:
            self.write_source(req["source_name"])
        mode = req["mode"]
        tests = req["tests"]
        if mode == "call":
            self.run_calls(tests)
            return
        for i, test in enumerate(tests):
            if self._stop_requested():
                send_frame(self.out, {"t": "stopped", "i": i})
                return
            ok = self.run_check(i) if mode == "check" else self.run_stdio(i, test)
            if not ok and req.get("stop_on_failure"):
                send_frame(self.out, {"t": "stopped", "i": i + 1})
                return

    def _stop_requested(self) -> bool:
        if self.ctl < 0:
            return False
        return bool(select.select([self.ctl], [], [], 0)[0])

    def write_source(self, name: str) -> None:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.req["code"])

    def compile(self, spec: dict[str, Any]) -> bool:
        self.write_source(spec["source_name"])
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        lim = self.lim
        rl = self._rlimits(lim["compile_time"], True, compile_=True)
        rl["nproc"] = max(rl["nproc"], 64)
        argv = spec["argv"]
        pid = self._spawn({0: self.devnull, 1: out_w, 2: err_w}, rl, self.prog_uid, 500, True,
                          lambda: _child.exec_main(argv))
        os.close(out_w)
        os.close(err_w)
        res = self.run(pid, lim["compile_wall"], out_r, err_r, 1 << 16)
        status, reason = classify(res, lim["compile_time"])
        if status == "OK":
            if self.limit_fd >= 0 and self.req.get("run_memory"):
                try:  # the compiler may use more memory than the program is allowed
                    os.write(self.limit_fd, str(self.req["run_memory"]).encode())
                except OSError:
                    pass
            send_frame(self.out, {"t": "compile", "ok": True, "wall": res["wall"]})
            return True
        if status == "SE":
            send_frame(self.out, {"t": "error", "reason": reason})
            return False
        text = (res["out"].decode("utf-8", "replace") + res["err"])[-4000:]
        send_frame(self.out, {"t": "compile", "ok": False, "reason": f"{status}: {reason}\n{text}".strip()})
        return False

    def _program(self, mode: str, calls: list[Any] | None = None) -> Callable[[], None]:
        if self.req["lang"] == "python":
            code, entry = self.code, self.req.get("entry_point")
            return lambda: _child.python_main(code, mode, calls, entry)
        argv = self.req["run_argv"]
        return lambda: _child.exec_main(argv)

    def run_stdio(self, i: int, test: dict[str, Any]) -> bool:
        data = test.get("stdin", "").encode()
        stdin = os.memfd_create("stdin")
        os.write(stdin, data)
        os.lseek(stdin, 0, os.SEEK_SET)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        lim = self.lim
        exec_next = self.req["lang"] != "python"
        pid = self._spawn({0: stdin, 1: out_w, 2: err_w, 3: self.devnull}, self._rlimits(lim["time"], exec_next),
                          self.prog_uid, 1000, exec_next, self._program("stdio"))
        for fd in (stdin, out_w, err_w):
            os.close(fd)
        res = self.run(pid, lim["wall_time"], out_r, err_r, lim["output_bytes"])
        status, reason = classify(res, lim["time"])
        send_frame(self.out, {"t": "test", "i": i, "status": status, "reason": reason, "cpu": res["cpu"],
                              "wall": res["wall"], "exit": res["exit"], "signal": res["signal"],
                              "stderr": res["err"]}, res["out"])
        return status == "OK"

    def run_calls(self, calls: list[Any]) -> None:
        """Function-call tests: one process runs the calls in order, one frame per result;
        a call that crashes or runs past its budget costs that call, and a new process
        goes on from the next one."""
        lim = self.lim
        start = 0
        while start < len(calls):
            fr_r, fr_w = os.pipe()
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            rl = self._rlimits(lim["time"] * (len(calls) - start) + 1, False)
            pid = self._spawn({0: self.devnull, 1: out_w, 2: err_w, 3: fr_w}, rl, self.prog_uid, 1000, False,
                              self._program("call", calls[start:]))
            for fd in (out_w, err_w, fr_w):
                os.close(fd)
            state: dict[str, Any] = {"buf": b"", "next": start, "ready": False, "t0": time.monotonic()}

            def on_side(chunk: bytes, state: dict[str, Any] = state) -> float | None:
                state["buf"] += chunk
                progressed = None
                while len(state["buf"]) >= 4:
                    (n,) = struct.unpack(">I", state["buf"][:4])
                    if n > lim["output_bytes"]:
                        state["buf"] = b""
                        return -1.0
                    if len(state["buf"]) < 4 + n:
                        break
                    frame, state["buf"] = state["buf"][4:4 + n], state["buf"][4 + n:]
                    now = time.monotonic()
                    if not state["ready"]:
                        state["ready"] = True
                    elif state["next"] < len(calls):
                        send_frame(self.out, {"t": "test", "i": state["next"], "status": "OK", "reason": "",
                                              "wall": now - state["t0"]}, frame)
                        state["next"] += 1
                    state["t0"] = now
                    progressed = 0.0
                    if state["next"] >= len(calls):
                        return -1.0
                return progressed

            res = self.run(pid, lim["wall_time"], out_r, err_r, lim["output_bytes"], side=fr_r, on_side=on_side)
            os.close(fr_r)
            done = int(state["next"])
            if done >= len(calls):
                return
            status, reason = classify(res, lim["time"] * (len(calls) - start) + 1)
            if status == "OK":
                status, reason = "RE", "the program exited before returning"
            elif status == "TLE":
                reason = "time limit exceeded"
            if status == "SE":
                send_frame(self.out, {"t": "error", "reason": reason})
                return
            last = done + 1 if state["ready"] else len(calls)  # a crash while loading fails every call
            for j in range(done, last):
                send_frame(self.out, {"t": "test", "i": j, "status": status, "reason": reason,
                                      "stderr": res["err"], "wall": res["wall"]})
            if self._stop_requested() or self.req.get("stop_on_failure"):
                send_frame(self.out, {"t": "stopped", "i": last})
                return
            start = last

    def _secret_item(self, i: int) -> dict[str, Any]:
        return dict(json.loads(pread_all(self.secret))[i])

    def run_check(self, i: int) -> bool:
        """Assert-style test ``i``: the program is forked first, then init (trusted) reads
        the test code and runs it, calling into the program through a socket pair."""
        lim = self.lim
        mine, theirs = socket.socketpair()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        start = time.monotonic()
        pid = self._spawn({0: self.devnull, 1: out_w, 2: err_w, 3: theirs.fileno()},
                          self._rlimits(lim["time"], False), self.prog_uid, 1000, False, self._program("rpc"))
        theirs.close()
        os.close(out_w)
        os.close(err_w)
        pidfd = os.pidfd_open(pid)
        oom0 = self._oom_kills()
        link = _checker.Link(mine.fileno(), out_r, err_r, pidfd, start + lim["wall_time"], lim["output_bytes"],
                             lim["output_bytes"])
        try:
            item = self._secret_item(i)
        except (OSError, ValueError, IndexError) as exc:
            status, reason = "SE", f"unreadable test: {exc}"
        else:
            status, reason = _checker.run_check(link, item)
        mine.close()
        stopped = not link.settle(status)
        if stopped:
            self._signal_all(pid)
        _, st, ru = os.wait4(pid, 0)
        self._reap_all([pid])
        status = send_check_result(self.out, i, status, reason, st, cpu=ru.ru_utime + ru.ru_stime,
                                   wall=time.monotonic() - start, stopped=stopped, setup_ok=self._setup_ok(pid),
                                   oom=self._oom_kills() > oom0,
                                   err=bytes(link.err[-4096:]).decode("utf-8", "replace"), cpu_limit=lim["time"])
        os.close(pidfd)
        for fd in (out_r, err_r):
            os.close(fd)
        return status == "AC"


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0
