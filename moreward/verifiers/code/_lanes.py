"""The caller's handles on the sandbox's processes: the zygote, its lanes, and the
frame protocol of one sample (see ``_box.py`` for the other side).

A lane runs one sample at a time; after each it says ``free`` once its box is gone,
so its cgroups can be re-limited for the next sample.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import SandboxError
from ._cgroups import Slot

__all__ = ["BOX_SCRIPT", "BoxRun", "Lane", "LaneGone", "Zygote", "exchange"]

BOX_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_box.py")
ZYGOTE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/tmp"}


class LaneGone(SandboxError):
    """The lane died before it was given the sample (nothing ran): try another."""


@dataclass
class BoxRun:
    """Everything one box reported (internal to the package)."""

    frames: dict[int, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    compile_error: str | None = None
    error: str | None = None
    layers: dict[str, Any] | None = None
    stopped_at: int | None = None
    elapsed: float = 0.0


class Zygote:
    def __init__(self, conf: dict[str, Any]) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", BOX_SCRIPT, json.dumps(conf), str(child.fileno())],
                pass_fds=[child.fileno()], env=dict(ZYGOTE_ENV), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True, cwd="/",
            )
        finally:
            child.close()
        self.sock = parent
        self.lock = threading.Lock()
        parent.settimeout(60)
        try:
            hello = parent.recv(1 << 16)
        except OSError as exc:
            hello = b""
            err = str(exc)
        else:
            err = ""
        parent.settimeout(None)
        if not hello:
            tail = self.log_tail()
            self.close()
            raise SandboxError(f"the sandbox zygote did not start: {err or tail}")
        self.info = json.loads(hello)
        self.pid = self.proc.pid

    def log_tail(self) -> str:
        try:
            self._log.seek(0)
            return self._log.read().decode("utf-8", "replace")[-2000:] or "(no output)"
        except (OSError, ValueError):
            return "(no output)"

    def new_lane(self, slot: Slot | None) -> Lane:
        """Ask the zygote for a lane (in ``slot``'s cgroups when given)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cg: dict[str, Any] = {}
        if slot is not None:
            cg = {"procs": slot.procs, "events": slot.events, "limit": slot.limit}
        try:
            with self.lock:
                socket.send_fds(self.sock, [b"lane" + json.dumps(cg).encode()], [theirs.fileno()])
        finally:
            theirs.close()
        ours.settimeout(30)
        try:
            hello = json.loads(ours.recv(1 << 16) or b"{}")
        except (OSError, ValueError) as exc:
            ours.close()
            raise SandboxError(f"a sandbox lane did not start: {exc}; {self.log_tail()}") from exc
        ours.settimeout(None)
        if not hello.get("ready"):
            ours.close()
            raise SandboxError(f"a sandbox lane did not start: {hello.get('error') or self.log_tail()}")
        return Lane(ours, slot)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


class Lane:
    """The parent's handle on one lane: its socket and its cgroups."""

    def __init__(self, sock: socket.socket, slot: Slot | None) -> None:
        self.sock = sock
        self.slot = slot
        self.pending = False  # its last box may still be tearing down
        self.dead = False

    def poll_free(self, timeout: float = 0.0) -> bool:
        if not self.pending:
            return True
        try:
            if not select.select([self.sock], [], [], timeout)[0]:
                return False
            msg = self.sock.recv(64)
        except OSError:
            msg = b""
        if msg == b"free":
            self.pending = False
            return True
        self.dead = True
        return False

    def send(self, fds: list[int], deadline: float, budget: dict[str, Any] | None = None) -> None:
        msg = b"run %.3f" % deadline
        if budget is not None:
            msg += b" " + json.dumps(budget).encode()
        socket.send_fds(self.sock, [msg], fds)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def exchange(lane: Lane, req: dict[str, Any], secret: list[Any],
             on_frame: Callable[[dict[str, Any], bytes], bool] | None, budget: dict[str, Any] | None = None) -> BoxRun:
    """Send one sample to ``lane`` and collect its frames until the box is done.

    ``on_frame`` sees each test frame as it arrives and returns True to stop the box
    (fail-fast). The deadline here is a last resort: the lane keeps its own. A
    ``budget`` (``time``, ``wall``, ``out_cap`` of its one test) sends a single
    assert-style test down the lane's direct path (``_direct``).
    """
    req_fd = os.memfd_create("request", os.MFD_CLOEXEC)
    sec_fd = os.memfd_create("secret", os.MFD_CLOEXEC)
    res_r, res_w = os.pipe()
    ctl_r, ctl_w = os.pipe()
    try:
        os.write(req_fd, json.dumps(req).encode())
        os.write(sec_fd, json.dumps(secret).encode())
        os.lseek(sec_fd, 0, os.SEEK_SET)
        lane.send([req_fd, sec_fd, res_w, ctl_r], float(req["deadline"]), budget)
    except OSError as exc:
        for fd in (res_r, ctl_w):
            os.close(fd)
        lane.dead = True
        raise LaneGone(f"a sandbox lane is gone: {exc}") from exc
    finally:
        for fd in (req_fd, sec_fd, res_w, ctl_r):
            os.close(fd)
    out = BoxRun()
    start = time.monotonic()
    deadline = start + float(req["deadline"]) + 10.0
    buf = bytearray()
    box_pid = 0
    ended = False
    try:
        while not ended:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([res_r], [], [], left)[0]:
                if box_pid:
                    try:
                        os.kill(box_pid, signal.SIGKILL)
                    except OSError:
                        pass
                out.error = out.error or "the sandbox did not answer before its deadline"
                lane.dead = True
                break
            chunk = os.read(res_r, 1 << 20)
            if not chunk:
                out.error = out.error or "the sandbox stopped without a result"
                lane.dead = True
                break
            buf += chunk
            while len(buf) >= 8:
                hlen, blen = struct.unpack(">II", buf[:8])
                if len(buf) < 8 + hlen + blen:
                    break
                head = json.loads(bytes(buf[8:8 + hlen]))
                body = bytes(buf[8 + hlen:8 + hlen + blen])
                del buf[:8 + hlen + blen]
                kind = head.get("t")
                if kind == "start":
                    box_pid = int(head["pid"])
                elif kind == "test":
                    out.frames[int(head["i"])] = (head, body)
                    if on_frame is not None and on_frame(head, body):
                        try:
                            os.write(ctl_w, b"s")
                        except OSError:
                            pass
                elif kind == "compile" and not head.get("ok"):
                    out.compile_error = str(head.get("reason", ""))
                elif kind == "error":
                    out.error = out.error or str(head.get("reason", "sandbox error"))
                elif kind == "layers":
                    out.layers = head
                elif kind == "stopped":
                    out.stopped_at = int(head.get("i", 0))
                elif kind in ("done", "end"):
                    ended = True
                    if head.get("status") == "deadline" and out.error is None:
                        out.error = str(head.get("reason", "deadline"))
    finally:
        os.close(res_r)
        os.close(ctl_w)
    out.elapsed = time.monotonic() - start
    return out
