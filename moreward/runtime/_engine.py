"""The dispatcher of :class:`~moreward.runtime.WorkerPool`: job hand-off and deadlines.

One dispatcher thread per pool owns a selector over the job sockets of the
workers, the control socket of the fork server and a wake-up pipe. It reads
results, hands queued jobs to freed workers, enforces deadlines (it sleeps
exactly until the earliest one), has workers that timed out or died killed
and reaped, and keeps the pool topped up (``_procs.py``). Submitting
threads take an idle worker under the lock and write the job themselves, so
a trivial round trip costs one write, one worker wake-up and one dispatcher
wake-up.

Locking rules, because futures run callbacks: a future is resolved only
*outside* the lock (a callback may submit again); the selector is touched
only by the dispatcher; a socket is never closed while another thread
writes to it (``sending`` / ``close_pending``), so its fd number cannot be
reused under that write.
"""

from __future__ import annotations

import atexit
import math
import os
import pickle
import selectors
import struct
import threading
import time
from collections import deque

from . import _worker as w
from ._procs import CTRL, Processes, log
from ._state import Job, Settled, Worker, close_quietly, fail, loads_result, resolve
from .result import JobResult

__all__ = ["Engine", "Job", "live_engines", "terminate_all"]

_TICK = 0.05  # while jobs flow the dispatcher wakes at least this often, so submitters need not wake it
_ACTIVE_WINDOW = 1.0
_WAKE = "wake"

live_engines: set[Engine] = set()
"""Every engine of this process whose dispatcher has not finished (stopped at exit, dropped on fork)."""


class Engine(Processes):
    """State and dispatcher loop of one pool (see the module docstring)."""

    def __init__(self, workers: int, preload: list[str], name: str) -> None:
        self.n = workers
        self.name = name
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.ready_cond = threading.Condition(self.lock)
        self.closed = self.stopping = self.abort = self.stop_requested = False
        self.broken_reason = ""
        self.idle: list[Worker] = []
        self.pending: deque[Job] = deque()
        self.sleep_until = math.inf
        self.last_activity = time.monotonic()
        self.thread: threading.Thread | None = None
        self.sel = selectors.DefaultSelector()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.sel.register(self.wake_r, selectors.EVENT_READ, _WAKE)
        self.init_processes(preload)
        try:
            with self.lock:
                self.start_zygote()
                self.top_up(time.monotonic())
        except BaseException:
            self.stopping = True
            self.cleanup()
            raise
        live_engines.add(self)

    def start(self) -> None:
        """Start the dispatcher thread (a daemon: it must never keep the interpreter alive)."""
        self.thread = threading.Thread(target=self.run, name=f"{self.name}-pool-dispatcher", daemon=True)
        self.thread.start()

    def request_stop(self) -> None:
        """Stop once the work in hand is done, without blocking (the pool was garbage-collected).

        This can run inside the cyclic GC on any thread, the dispatcher included,
        possibly while it holds the lock: so it never waits for the lock.
        """
        self.stop_requested = True
        if self.lock.acquire(blocking=False):
            try:
                self.closed = self.stopping = True
                self.wake()
            finally:
                self.lock.release()

    def stop(self, *, wait: bool, cancel_pending: bool = False, abort: bool = False) -> None:
        """Close the pool; with ``abort`` running jobs are failed and workers killed at once."""
        settled: Settled = []
        with self.lock:
            self.closed = self.stopping = True
            self.abort = self.abort or abort
            if cancel_pending or abort:
                for job in self.drain_pending():
                    fail(settled, job, "the worker pool was shut down before the job ran")
            self.wake()
        resolve(settled)
        thread = self.thread
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join()

    # ------------------------------------------------------------ job hand-off

    def assign(self, worker: Worker, job: Job, now: float) -> None:
        """Under lock: give ``job`` to ``worker``; the caller then calls :meth:`send`."""
        worker.job = job
        worker.sending = True
        job.started = now
        job.deadline_at = now + job.deadline
        self.last_activity = now
        if job.deadline_at < self.sleep_until:
            self.wake()

    def next_job(self, worker: Worker, now: float) -> Job | None:
        """Under lock: the next queued job for a free ``worker``, or park it as idle.

        A worker forked before the last :meth:`WorkerPool.add_preload` is retired and
        replaced instead (``None``, with ``worker.retired`` set)."""
        if worker.gen < self.preload_gen:
            self.retire(worker, kill=True, now=now)
            self.top_up(now)
            return None
        while self.pending:
            job = self.pending.popleft()
            if not job.running:
                if not job.future.set_running_or_notify_cancel():
                    continue  # cancelled while queued
                job.running = True
            self.assign(worker, job, now)
            return job
        self.idle.append(worker)
        return None

    def send(self, worker: Worker, job: Job) -> None:
        """Write the job frame to the worker (outside the lock); requeue the job if that fails."""
        try:
            worker.sock.sendall(job.frame)
            failed = False
        except OSError:
            failed = True
        with self.lock:
            worker.sending = False
            if worker.close_pending:
                worker.sock.close()
            if failed:
                if worker.job is job:  # the job never reached a live worker: run it elsewhere
                    worker.job = None
                    self.pending.appendleft(job)
                worker.broken = True
                self.wake()

    def wake(self) -> None:
        """Wake the dispatcher (under lock, so the pipe cannot be closed under us)."""
        if self.wake_w >= 0:
            try:
                os.write(self.wake_w, b"\0")
            except OSError:
                pass

    # ------------------------------------------------------------ dispatcher

    def run(self) -> None:
        """The dispatcher thread's body."""
        try:
            self._loop()
        except BaseException:  # pragma: no cover - a bug here must not hang callers
            log.exception("moreward worker pool %r: dispatcher failed", self.name)
            self.broken_reason = "the pool's dispatcher failed (see the log)"
        finally:
            self.cleanup()

    def _loop(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                if self.stop_requested:
                    self.closed = self.stopping = True
                if self.stopping and (self.abort or self.ctrl is None or not self._has_work()):
                    return
                self.top_up(now)
                matched = self._match_idle(now)
                timeout = self._plan(now)
            for worker, job in matched:  # jobs requeued while workers sat idle
                self.send(worker, job)
            events = self.sel.select(0.0 if matched else timeout)
            settled: Settled = []
            for key, _ in events:
                if key.data is _WAKE:
                    try:
                        while os.read(self.wake_r, 4096):
                            pass
                    except OSError:
                        pass
                elif key.data is CTRL:
                    self.on_ctrl(settled)
                else:
                    self._on_readable(key.data, settled)
            self._check_deadlines(settled)
            resolve(settled)

    def _has_work(self) -> bool:
        return bool(
            self.pending
            or any(w.job for w in self.workers.values())
            or any(job is not None for job, _ in self.awaiting.values())
        )

    def _match_idle(self, now: float) -> list[tuple[Worker, Job]]:
        """Under lock: hand queued jobs to idle workers (normally a freed worker takes one itself)."""
        matched = []
        while self.idle and self.pending:
            worker = self.idle.pop()
            job = self.next_job(worker, now)
            if job is None:
                if worker.retired:  # a stale worker: try the next idle one
                    continue
                break
            matched.append((worker, job))
        return matched

    def _plan(self, now: float) -> float | None:
        """Under lock: how long to sleep; records ``sleep_until`` for submitters."""
        until = math.inf
        busy = False
        for worker in self.workers.values():
            if worker.job is not None:
                busy = True
                until = min(until, worker.job.deadline_at)
            if worker.broken:
                until = now
        if len(self.workers) < self.n and (not self.stopping or self.pending):
            until = min(until, max(self.spawn_at, now + 0.01))
        if busy or now - self.last_activity < _ACTIVE_WINDOW:
            until = min(until, now + _TICK)
        self.sleep_until = until
        return None if until == math.inf else max(0.0, until - now)

    def _on_readable(self, worker: Worker, settled: Settled) -> None:
        if worker.retired:
            return
        try:
            chunk = worker.sock.recv(1 << 18)
        except (TimeoutError, BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._on_worker_eof(worker, settled)
            return
        if not worker.buf and len(chunk) >= 8 and w.HEADER.unpack_from(chunk)[0] == len(chunk) - 8:
            self._on_frame(worker, chunk[8:], settled)  # the common case: exactly one whole frame
            return
        worker.buf += chunk
        while len(worker.buf) >= 8:
            (size,) = w.HEADER.unpack_from(worker.buf)
            if len(worker.buf) < 8 + size:
                return
            body = bytes(worker.buf[8 : 8 + size])
            del worker.buf[: 8 + size]
            self._on_frame(worker, body, settled)

    def _on_frame(self, worker: Worker, body: bytes, settled: Settled) -> None:
        now = time.monotonic()
        kind = body[:1]
        with self.lock:
            if worker.retired:
                return
            job = None
            if kind == w.KIND_READY:
                (worker.pid,) = struct.unpack_from("!Q", body, 1)
                worker.ready = True
                self.fail_streak = 0
                self.ready_cond.notify_all()
            else:
                job, worker.job = worker.job, None
            nxt = self.next_job(worker, now)
        if nxt is not None:
            self.send(worker, nxt)
        if job is None:
            if kind != w.KIND_READY:
                log.warning("moreward worker pool %r: unexpected frame from worker %s", self.name, worker.pid)
            return
        elapsed = now - job.started
        if kind == w.KIND_RESULT:
            try:
                result = JobResult.success(loads_result(body), elapsed)
            except BaseException as exc:
                reason = f"the job's result could not be unpickled in the caller: {w.describe(exc)}"
                result = JobResult.error(reason, elapsed)
        else:
            reason, tb = pickle.loads(body[1:])
            result = JobResult.error(reason, elapsed, tb)
        settled.append((job, result))

    def _on_worker_eof(self, worker: Worker, settled: Settled) -> None:
        """The worker closed its socket: it died (the zygote tells how) or never started."""
        now = time.monotonic()
        with self.lock:
            job, worker.job = worker.job, None
            if not worker.ready:
                self.fail_streak += 1
                self.spawn_at = now + min(2.0, 0.05 * 2**self.fail_streak)
                if self.fail_streak >= 3 and not any(w.ready for w in self.workers.values()):
                    reason = f"no worker process could be started ({self.fail_streak} attempts): {self.fail_reason}"
                    for queued in self.drain_pending():
                        fail(settled, queued, reason)
            self.retire(worker, kill=True, job=job, now=now)

    def _check_deadlines(self, settled: Settled) -> None:
        with self.lock:
            now = time.monotonic()
            for worker in list(self.workers.values()):
                job = worker.job
                if job is not None and now >= job.deadline_at:
                    worker.job = None
                    self.retire(worker, kill=True, now=now)
                    settled.append((job, JobResult.timeout(job.deadline, now - job.started)))
                elif worker.broken:
                    self.retire(worker, kill=True, job=job, now=now)

    # ------------------------------------------------------------ teardown

    def cleanup(self) -> None:
        """Dispatcher exit: fail what is left, close every fd, stop and reap the zygote."""
        settled: Settled = []
        with self.lock:
            self.closed = self.stopping = True
            now = time.monotonic()
            reason = self.broken_reason or "the worker pool was shut down"
            for worker in list(self.workers.values()):
                job, worker.job = worker.job, None
                fail(settled, job, f"{reason} while the job ran", now)
                self.retire(worker, kill=False)
            for job in self.drain_pending():
                fail(settled, job, f"{reason} before the job ran")
            for job, ended in self.awaiting.values():
                fail(settled, job, "worker died (exit status lost at shutdown)", ended)
            self.awaiting.clear()
            self.stop_zygote(timeout=10.0)
            self.sel.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            self.wake_r = self.wake_w = -1
            self.ready_cond.notify_all()
        live_engines.discard(self)
        resolve(settled)

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's pool without touching its processes."""
        self.lock = threading.Lock()  # the dispatcher may have held it at fork time
        self.ready_cond = threading.Condition(self.lock)
        self.closed = self.stopping = True
        self.thread = None
        for worker in self.workers.values():
            close_quietly(worker.sock)
        if self.ctrl is not None:
            close_quietly(self.ctrl)
        self.workers.clear()
        self.idle.clear()
        self.ctrl = None
        close_quietly(self.sel)
        for fd in (self.wake_r, self.wake_w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.wake_r = self.wake_w = -1
        if self.proc is not None:
            self.proc.returncode = -1  # not our child: never wait for it, never warn about it
            self.proc = None


def _after_fork_in_child() -> None:
    for engine in list(live_engines):
        engine.forget_after_fork()
    live_engines.clear()


def terminate_all() -> None:
    """Stop every pool of this process now (at interpreter exit, or on request)."""
    for engine in list(live_engines):
        if engine.pid == os.getpid():
            try:
                engine.stop(wait=True, abort=True)
            except Exception:
                log.exception("moreward worker pool %r: shutdown failed", engine.name)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(terminate_all)
