"""Process management for the pool: the fork server, the workers, their deaths.

The caller never forks (unsafe from a threaded process). It starts the fork
server with ``subprocess`` and talks to it over a Unix control socket: "spawn a worker on this socket", "kill this worker's group and tell
me how it ended". The zygote also reports workers that die on their own.
Everything here runs under the pool's lock; only the dispatcher thread
touches the selector.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Any

from . import _worker as w
from ._state import Job, Settled, Worker, fail, killpg
from .result import describe_wait_status

__all__ = ["CTRL", "Processes", "log"]

log = logging.getLogger("moreward.runtime")

CTRL = "ctrl"
_SEND_TIMEOUT = 60.0
_MAX_RESTARTS = 5  # fork-server restarts per minute before the pool gives up
_ZYGOTE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_zygote.py")


class Processes:
    """The fork server and worker processes of one pool (state shared with ``Engine``)."""

    n: int
    name: str
    lock: threading.Lock
    sel: selectors.BaseSelector
    closed: bool
    stopping: bool
    broken_reason: str
    pending: deque[Job]
    idle: list[Worker]

    def init_processes(self, preload: list[str]) -> None:
        self.preload = list(preload)
        self.preload_errors: dict[str, str] = {}
        self.files_sent: set[str] = set()
        self.workers: dict[int, Worker] = {}
        self.awaiting: dict[int, tuple[Job | None, float]] = {}  # pid -> job that was on it, when it ended
        self.spawn_at = 0.0
        self.fail_streak = 0
        self.fail_reason = "worker exited during start-up"
        self.restarts: deque[float] = deque()
        self.tokens = 0
        # Bumped by add_preload: workers of an older generation lack the new modules, so they
        # are replaced once idle instead of importing them inside some job's deadline.
        self.preload_gen = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.ctrl: socket.socket | None = None
        self.ctrl_reader = w.MsgReader()

    def start_zygote(self) -> None:
        """Start the fork server (fork+exec via subprocess: safe from any thread)."""
        if not sys.executable:
            raise RuntimeError("sys.executable is empty: cannot start the worker pool's fork server")
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            fd = theirs.fileno()
            script = [_ZYGOTE] if os.path.isfile(_ZYGOTE) else ["-m", "moreward.runtime._zygote"]
            self.proc = subprocess.Popen(
                [sys.executable, *script, str(fd)],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # out of the terminal's process group: Ctrl-C goes to the caller only
            )
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        mine.settimeout(_SEND_TIMEOUT)
        w.send_msg(mine, "init", list(sys.path), self.preload)
        self.ctrl = mine
        self.ctrl_reader = w.MsgReader()
        self.sel.register(mine, selectors.EVENT_READ, CTRL)

    def ctrl_send(self, *msg: Any, fd: int | None = None) -> bool:
        if self.ctrl is None:
            return False
        try:
            w.send_msg(self.ctrl, *msg, fd=fd)
            return True
        except OSError:
            return False  # the zygote is gone; its EOF is handled by the dispatcher

    def preload_files(self, hints: dict[str, str]) -> None:
        """Have the zygote load job modules known only by file, so respawned workers have them warm."""
        if all(m in self.files_sent for m in hints):
            return
        with self.lock:
            for module, path in hints.items():
                if module not in self.files_sent:
                    self.files_sent.add(module)
                    self.ctrl_send("preload_file", module, path)

    def top_up(self, now: float) -> None:
        """Spawn workers until the pool has ``n`` (unless stopping or backing off)."""
        while (
            (not self.stopping or self.pending)
            and self.ctrl is not None
            and now >= self.spawn_at
            and len(self.workers) < self.n
        ):
            self.tokens += 1
            mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sent = self.ctrl_send("spawn", self.tokens, fd=theirs.fileno())
            finally:
                theirs.close()
            if not sent:
                mine.close()
                return
            mine.settimeout(_SEND_TIMEOUT)
            worker = Worker(self.tokens, mine)
            worker.gen = self.preload_gen
            self.workers[worker.token] = worker
            self.sel.register(mine, selectors.EVENT_READ, worker)

    def retire(self, worker: Worker, kill: bool, job: Job | None = None, now: float = 0.0) -> None:
        """Forget a worker; with ``kill``, have the zygote kill its group and report how it ended."""
        if worker.retired:
            return
        worker.retired = True
        self.workers.pop(worker.token, None)
        if worker in self.idle:
            self.idle.remove(worker)
        try:
            self.sel.unregister(worker.sock)
        except (KeyError, ValueError):
            pass
        if worker.sending:  # a submitting thread is writing: it closes the socket when done
            try:
                worker.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            worker.close_pending = True
        else:
            worker.sock.close()
        if kill and worker.pid is not None:
            # keyed by pid, or by -token when the zygote is gone (the zygote-death path fails it)
            key = worker.pid if self.ctrl_send("kill", worker.pid) else -worker.token
            self.awaiting[key] = (job, now)

    def on_worker_exit(self, pid: int, status: int | None, settled: Settled) -> None:
        """The zygote reaped worker ``pid`` (killed on request, or dead on its own)."""
        if pid in self.awaiting:
            job, ended = self.awaiting.pop(pid)
        else:  # died on its own, maybe before we saw EOF, maybe with no EOF at all (a child holds its socket)
            worker = next((w for w in self.workers.values() if w.pid == pid), None)
            if worker is None:
                return
            job, ended, worker.job = worker.job, time.monotonic(), None
            self.retire(worker, kill=False)
        if job is not None:
            reason = describe_wait_status(status)
            if job.memory_limit:
                reason += f" (the job ran under a memory limit of {job.memory_limit} bytes)"
            fail(settled, job, reason, ended)

    def on_ctrl(self, settled: Settled) -> None:
        """A message (or EOF) from the zygote."""
        assert self.ctrl is not None
        try:
            data = self.ctrl.recv(1 << 16)
        except (TimeoutError, BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.on_zygote_death(settled)
            return
        with self.lock:
            for msg in self.ctrl_reader.feed(data):
                self._on_ctrl_msg(msg, settled)

    def _on_ctrl_msg(self, msg: tuple[Any, ...], settled: Settled) -> None:
        """Under lock: one message from the zygote."""
        if msg[0] == "spawned":
            worker = self.workers.get(msg[1])
            if worker is not None:
                worker.pid = worker.pid or msg[2]
            else:  # retired before we learnt its pid: still have it killed and reaped
                self.awaiting[msg[2]] = (None, 0.0)
                self.ctrl_send("kill", msg[2])
        elif msg[0] == "spawn_failed":
            self.fail_reason = f"fork failed: {msg[2]}"
        elif msg[0] == "exit":
            self.on_worker_exit(msg[1], msg[2], settled)
        elif msg[0] == "preload_failed":
            self.preload_errors[msg[1]] = msg[2]
            log.warning("moreward worker pool %r: preloading %s failed: %s", self.name, msg[1], msg[2])

    def on_zygote_death(self, settled: Settled) -> None:
        """The fork server died: fail what ran on its workers, then restart it (a few times)."""
        now = time.monotonic()
        with self.lock:
            code = self.stop_zygote(timeout=1.0)
            reason = f"worker lost: the pool's fork server exited unexpectedly (status {code})"
            for worker in list(self.workers.values()):
                job, worker.job = worker.job, None
                if worker.pid is not None and not sys.platform.startswith("linux"):
                    killpg(worker.pid)  # on Linux they already got SIGKILL (PR_SET_PDEATHSIG)
                self.retire(worker, kill=False)
                fail(settled, job, reason, now)
            for job, ended in self.awaiting.values():
                fail(settled, job, "worker died (exit status lost with the fork server)", ended)
            self.awaiting.clear()
            if self.stopping:
                return
            self.restarts.append(now)
            while self.restarts and now - self.restarts[0] > 60.0:
                self.restarts.popleft()
            if len(self.restarts) > _MAX_RESTARTS:
                self.broken_reason = f"the fork server died {len(self.restarts)} times within a minute"
                self.closed = self.stopping = True
                for job in self.drain_pending():
                    fail(settled, job, self.broken_reason)
                return
            log.warning(
                "moreward worker pool %r: fork server died (status %s); restarting it", self.name, code
            )
            self.start_zygote()

    def stop_zygote(self, timeout: float) -> int | None:
        """Close the control socket (the zygote then kills its workers and exits) and reap it."""
        if self.ctrl is not None:
            try:
                self.sel.unregister(self.ctrl)
            except (KeyError, ValueError):
                pass
            self.ctrl.close()
            self.ctrl = None
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def drain_pending(self) -> list[Job]:
        """Take every queued job that was not cancelled (marking it running)."""
        jobs = []
        while self.pending:
            job = self.pending.popleft()
            if job.running or job.future.set_running_or_notify_cancel():
                job.running = True
                jobs.append(job)
        return jobs
