"""The wire protocol and the worker loop of the hard-deadline runtime (stdlib only).

A worker is forked by the fork server (``_zygote.py``) and serves jobs on
one socket whose other end the caller holds: it reads a job, runs it, and
writes back the result or the error, one job at a time, until EOF. Nothing
here raises into the loop: a job's exception, an unpicklable job or result,
a MemoryError under the job's memory cap all become an error reply. What
cannot become a reply (a segfault, ``os._exit``, SIGKILL) is reported by the
fork server from the worker's wait status.

This module must stay stdlib-only and import-light: the fork server loads
it by file, before (and without) importing ``moreward``. The caller imports
it as ``moreward.runtime._worker`` for the protocol helpers.

Job socket frames (``SOCK_STREAM``): an 8-byte big-endian length, then the body.
A job body is a 4-byte length, a pickled ``(memory_limit, hints)``, then the
pickled ``(fn, args, kwargs)``. A reply body starts with one kind byte:
``Y`` ready (+ pid), ``R`` result (+ pickled value), ``E`` error (+ pickled
``(reason, traceback)``).

Control messages (fork server <-> caller, a ``SOCK_STREAM`` Unix socket): a
4-byte length and a pickled tuple; a spawn message carries one fd (``SCM_RIGHTS``).
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import socket
import struct
import sys
import traceback
from collections.abc import Sequence
from typing import Any

__all__ = [
    "HEADER",
    "KIND_ERROR",
    "KIND_READY",
    "KIND_RESULT",
    "LOADING_MAIN_ENV",
    "META",
    "PROTO",
    "MsgReader",
    "describe",
    "encode_msg",
    "load_hinted",
    "prctl",
    "recv_exact",
    "send_msg",
    "worker_main",
]

HEADER = struct.Struct("!Q")
META = struct.Struct("!I")
KIND_READY = b"Y"
KIND_RESULT = b"R"
KIND_ERROR = b"E"
PROTO = pickle.HIGHEST_PROTOCOL
CTRL_MAX = 1 << 16
_MSG = struct.Struct("!I")
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_REASON_MAX = 2000
LOADING_MAIN_ENV = "MOREWARD_RUNTIME_LOADING_JOB_MODULE"
_TRACEBACK_MAX = 20000


def encode_msg(*msg: Any) -> bytes:
    """One control message: length-prefixed pickle."""
    data = pickle.dumps(msg, PROTO)
    return _MSG.pack(len(data)) + data


def send_msg(sock: socket.socket, *msg: Any, fd: int | None = None) -> None:
    """Send a control message, with ``fd`` attached to its first byte when given."""
    data = encode_msg(*msg)
    sent = sock.sendmsg([data]) if fd is None else socket.send_fds(sock, [data], [fd])
    if sent < len(data):
        sock.sendall(data[sent:])


class MsgReader:
    """Reassembles control messages from a stream; passed fds queue up in arrival order.

    An fd always arrives no later than the first byte of the message it was
    sent with, so the n-th spawn message owns the n-th fd.
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.fds: list[int] = []

    def feed(self, data: bytes, fds: Sequence[int] = ()) -> list[tuple[Any, ...]]:
        self.buf += data
        self.fds.extend(fds)
        out = []
        while len(self.buf) >= 4:
            (size,) = _MSG.unpack_from(self.buf)
            if len(self.buf) < 4 + size:
                break
            out.append(pickle.loads(bytes(self.buf[4 : 4 + size])))
            del self.buf[: 4 + size]
        return out


def recv_exact(read: Any, n: int) -> bytes | None:
    """Read exactly ``n`` bytes with ``read`` (a buffered reader's ``read``); None at EOF."""
    data = read(n)
    if len(data) < n:
        return None
    return bytes(data) if not isinstance(data, bytes) else data


_libc: Any = None


def prctl(option: int, arg: int) -> None:
    """Best-effort ``prctl`` (Linux only; silently a no-op elsewhere)."""
    global _libc
    if not sys.platform.startswith("linux"):
        return
    try:
        if _libc is None:
            import ctypes

            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(option, arg, 0, 0, 0)
    except Exception:  # a missing libc symbol only loses a safety net
        pass


class _HintUnpickler(pickle.Unpickler):
    """Resolve globals the worker cannot import by name, using the caller's file paths.

    The caller sends ``{module: file}`` for the job function's module (and for
    ``__main__``): pytest's importlib mode, scripts and notebooks define
    functions in modules that are not importable by name in another process.
    ``__main__`` is loaded as ``__mp_main__`` (so its ``if __name__ ==
    "__main__"`` block does not run), as ``multiprocessing`` does.
    """

    def __init__(self, data: bytes | memoryview, hints: dict[str, str]) -> None:
        super().__init__(io.BytesIO(data))
        self._hints = hints

    def find_class(self, module: str, name: str) -> Any:
        if module == "__main__":
            return _resolve(load_hinted("__mp_main__", self._hints.get("__main__")), name)
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            if module not in self._hints:
                raise
        return _resolve(load_hinted(module, self._hints[module]), name)


def _resolve(module: Any, qualname: str) -> Any:
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


_loaded: dict[str, Any] = {}


def load_hinted(name: str, path: str | None) -> Any:
    """Import ``path`` as module ``name`` once per process (kept in ``sys.modules``)."""
    if name in _loaded:
        return _loaded[name]
    if name != "__mp_main__":
        if name in sys.modules:
            return sys.modules[name]
        import importlib

        try:
            return importlib.import_module(name)
        except ImportError:
            pass
    if not path:
        raise ImportError(
            "the job refers to __main__, which has no file in the caller (an interactive "
            "session or python -c); define job functions in a module"
        )
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load module {name!r} from {path!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    os.environ[LOADING_MAIN_ENV] = "1"  # a WorkerPool created by this import would recurse: refused
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        os.environ.pop(LOADING_MAIN_ENV, None)
    # importing multiprocessing points __mp_main__ at the running __main__: point it back,
    # so results of classes defined in the caller's script pickle by this module
    sys.modules[name] = _loaded[name] = module
    return module


def describe(exc: BaseException) -> str:
    try:
        msg = str(exc)
    except Exception:
        msg = "<unprintable>"
    text = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return text[:_REASON_MAX]


def _send_frame(sock: socket.socket, body: bytes) -> None:
    if len(body) < 65536:
        sock.sendall(HEADER.pack(len(body)) + body)
    else:
        sock.sendall(HEADER.pack(len(body)))
        sock.sendall(body)


def _error_body(reason: str, tb: str = "") -> bytes:
    return KIND_ERROR + pickle.dumps((reason, tb[-_TRACEBACK_MAX:]), PROTO)


def _run_job(body: bytes) -> bytes:
    """Run one job frame and return the reply body; never raises."""
    import resource

    (mlen,) = META.unpack_from(body, 0)
    memory_limit, hints = pickle.loads(body[4 : 4 + mlen])
    payload = memoryview(body)[4 + mlen :]
    try:
        if body.find(b"__main__", 4 + mlen) != -1:
            fn, args, kwargs = _HintUnpickler(payload, hints).load()
        else:
            try:
                fn, args, kwargs = pickle.loads(payload)
            except (ImportError, AttributeError):
                fn, args, kwargs = _HintUnpickler(payload, hints).load()
    except BaseException as exc:
        return _error_body(
            f"could not unpickle the job in the worker: {describe(exc)}", traceback.format_exc()
        )

    old_limit = None
    if memory_limit:
        old_limit = resource.getrlimit(resource.RLIMIT_AS)
        hard = old_limit[1]
        soft = memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    error: BaseException | None = None
    value: Any = None
    try:
        try:
            value = fn(*args, **kwargs)
        finally:
            if old_limit is not None:
                resource.setrlimit(resource.RLIMIT_AS, old_limit)
    except BaseException as exc:
        error = exc
    del fn, args, kwargs
    if error is not None:
        reason = describe(error)
        if isinstance(error, MemoryError) and memory_limit:
            reason = f"{reason} (out of memory under the job's memory limit of {memory_limit} bytes)"[
                :_REASON_MAX
            ]
        tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        error = None
        return _error_body(reason, tb)
    try:
        return KIND_RESULT + pickle.dumps(value, PROTO)
    except BaseException as exc:
        return _error_body(f"the job's result could not be pickled: {describe(exc)}", traceback.format_exc())


def _reap_own_children() -> None:
    """Reap children a job forked and left behind, so they do not stay zombies."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _worker_loop(sock: socket.socket) -> None:
    """Serve jobs on ``sock`` until EOF: one at a time, replies in order."""
    sock.setblocking(True)
    reader = sock.makefile("rb", buffering=1 << 16)
    _send_frame(sock, KIND_READY + struct.pack("!Q", os.getpid()))
    while True:
        header = recv_exact(reader.read, HEADER.size)
        if header is None:
            return
        (size,) = HEADER.unpack(header)
        body = recv_exact(reader.read, size)
        if body is None:
            return
        reply = _run_job(body)
        del body
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:
                pass
        _reap_own_children()
        _send_frame(sock, reply)


def worker_main(job_fd: int, zygote_pid: int, close_fds: list[int]) -> None:
    """Entry of a freshly forked worker: detach from the zygote's state, then serve."""
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    signal.set_wakeup_fd(-1)
    for fd in close_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != zygote_pid:  # the zygote died before prctl took effect
        return
    _worker_loop(socket.socket(fileno=job_fd))
