"""The sandbox's zygote, its lanes, and the supervision of each box.

Process tree::

    parent (trainer)  --control socket-->  zygote (warm interpreter, clean env)
                                             ├─ checker (one per lane, trusted, never forks; ``_direct``)
                                             └─ lane (one per concurrent sample; joins its cgroups once)
                                                  ├─ box, general path: init (PID 1, trusted; ``_init.Init``)
                                                  │    └─ program (untrusted, one per test; ``_child``)
                                                  └─ box, direct path: the program itself as PID 1 (``_direct``)

The zygote is started once with an empty environment, so nothing it forks holds the
trainer's secrets, and it imports neither ``threading`` nor ``random`` (their
after-fork hooks would run in every fork). On request it forks a *lane*, and next to
it the lane's *checker*: a long-lived lane moves into its own memory and pids cgroups
once (a cgroup v1 migration costs milliseconds), builds the read-only root in its own
mount namespace once (``_root``), and then serves samples one at a time. For each
sample the lane receives four fds (the request, the secret tests, the result pipe, the
stop pipe) and ``clone``s a box straight into new user, PID, network, mount, IPC and
UTS namespaces. On the general path the box's init reads the request and forks one
program per test. A sample whose tests are one assert-style item takes the direct path
instead (``_direct``): the program is the box's PID 1, the trusted test runs in the
checker, and the box was cloned ahead, while the lane was idle.
The lane stays outside the box and enforces the sample's wall-clock deadline: killing
PID 1 kills the whole PID namespace. Neither the zygote nor a lane reads test code or
verdicts: every box is a copy of the lane's memory.
Run as a script, this module is the zygote.

Standard library only: the zygote never imports ``moreward``.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import select
import signal
import socket
import sys
from typing import Any

__all__ = ["UID_BASE", "lane_main", "run_sample", "zygote_main"]

UID_BASE = 1_785_000_000  # host uids of the program and checker when we run as root
_STACK = 256 << 20
# Imported once so programs need not. Nothing here may import ``threading`` or
# ``random``: their after-fork hooks run in every fork and cost ~0.4 ms each time.
# Only pure-Python modules and built-ins: every shared library the zygote maps adds five
# memory areas that each box's fork and exit copy and tear down (with the C-extension
# modules the list once held, 154 areas instead of 100: +0.16 ms per box, about 3% of a
# HumanEval sample's CPU). A program that imports ``hashlib``, ``decimal``,
# ``datetime``, ``dataclasses``... loads it in its own box; ``Sandbox(preload=...)``
# adds modules to this list.
_PRELOAD = ("math", "collections", "itertools", "functools", "heapq", "bisect", "re", "string", "json", "typing",
            "copy", "operator", "time", "io", "enum", "abc", "numbers", "struct", "textwrap", "contextlib")


def _full_flags() -> int:
    from . import _sys

    return (_sys.CLONE_NEWUSER | _sys.CLONE_NEWNS | _sys.CLONE_NEWPID | _sys.CLONE_NEWNET | _sys.CLONE_NEWIPC
            | _sys.CLONE_NEWUTS)


def _mkdtemp(prefix: str) -> str:
    """``tempfile.mkdtemp`` without importing ``tempfile`` (which imports ``random``)."""
    base = os.environ.get("TMPDIR") or "/tmp"
    while True:
        path = os.path.join(base, prefix + os.urandom(6).hex())
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def clone_flags(mode: dict[str, Any]) -> int:
    """The namespaces a box gets in this mode."""
    from . import _sys

    full = _full_flags()
    if mode["kind"] == "userns":
        return full
    if mode["kind"] == "root":
        return full & ~_sys.CLONE_NEWUSER
    return 0


def write_maps(pid: int, mode: dict[str, Any]) -> None:
    """Write the user namespace's id maps of ``pid`` from outside it.

    As root the map holds two unprivileged host uids for the program and the checker
    (so the program can neither read root-only files nor signal the checker); without
    root only our own uid maps, and both stay uid 0 inside with every capability
    dropped.
    """
    if mode["kind"] != "userns":
        return
    if mode.get("root_map"):
        text = f"0 0 1\n1 {UID_BASE} 2\n"
        for name in ("uid_map", "gid_map"):
            _write(f"/proc/{pid}/{name}", text)
        return
    map_own_ids(str(pid), os.geteuid(), os.getegid())  # our own uid (0 in a nested lane)


def map_own_ids(proc: str, uid: int, gid: int) -> None:
    """Map ``uid``/``gid`` (ours, seen from outside) to 0 in the user namespace of
    ``/proc/<proc>`` (a pid, or ``self``): all an unprivileged process may write."""
    _write(f"/proc/{proc}/setgroups", "deny")
    _write(f"/proc/{proc}/uid_map", f"0 {uid} 1\n")
    _write(f"/proc/{proc}/gid_map", f"0 {gid} 1\n")


def unshare_as_self(flags: int) -> None:
    """``unshare(flags)``; with a new user namespace, stay ourselves in it (mapped to 0)."""
    from . import _sys

    uid, gid = os.geteuid(), os.getegid()  # read before: inside, unmapped, they are 65534
    _sys.unshare(flags)
    if flags & _sys.CLONE_NEWUSER:
        map_own_ids("self", uid, gid)


def box_uids(mode: dict[str, Any]) -> tuple[int | None, int | None]:
    """The uids the program and the checker switch to (None: stay, drop capabilities)."""
    if mode["kind"] == "userns":
        return (1, 2) if mode.get("root_map") else (None, None)
    return (UID_BASE, UID_BASE + 1) if os.geteuid() == 0 else (None, None)


def spawn_box(mode: dict[str, Any]) -> int:
    """Fork the box's init into its namespaces; returns 0 in the child. The child waits
    until its id maps are written."""
    from . import _sys

    flags = clone_flags(mode)
    r, w = os.pipe()
    pid = _sys.clone(flags) if flags else os.fork()
    if pid is None:  # unknown architecture: fork, then unshare all but the PID namespace
        pid = os.fork()
        if pid == 0:
            _sys.unshare(flags & ~_sys.CLONE_NEWPID)
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os.close(r)
        return 0
    os.close(r)
    try:
        write_maps(pid, mode)
    finally:
        os.write(w, b"g")
        os.close(w)
    return pid


def _try_child(fn: Any) -> bool:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if fn() else 1
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def probe_mode() -> dict[str, Any]:
    """Which isolation this machine allows: user namespaces, root-only namespaces, or none."""
    from . import _sys

    full = _full_flags()

    def boxed(mode: dict[str, Any]) -> bool:
        pid = spawn_box(mode)
        if pid == 0:
            ok = os.getpid() == 1
            if mode.get("root_map"):
                os.setresgid(1, 1, 1)
                os.setresuid(1, 1, 1)
                ok = ok and os.getuid() == 1
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status) == 0

    def unshared(flags: int) -> bool:
        _sys.unshare(flags)
        return True

    if _try_child(lambda: unshared(full)):
        mode: dict[str, Any] = {"kind": "userns", "root_map": os.geteuid() == 0}
        if mode["root_map"] and not _try_child(lambda: boxed(mode)):
            mode["root_map"] = False
        return mode
    if os.geteuid() == 0 and _try_child(lambda: unshared(full & ~_sys.CLONE_NEWUSER)):
        return {"kind": "root"}
    return {"kind": "none"}


def lane_main(sock: socket.socket, conf: dict[str, Any], mode: dict[str, Any], cg: dict[str, Any],
              checker: tuple[socket.socket, int]) -> None:
    """A lane: join the cgroups once, then run samples one at a time. Never returns.

    A ``run`` message may carry a budget for the direct path (``_direct``: one
    assert-style test, the program as the box's init, the test in ``checker``)."""
    from . import _direct, _init, _sys

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    try:
        for path in cg.get("procs", []):
            _write(path, "0")
        try:  # the OOM killer should pick the program (adj 1000), never init (needs CAP_SYS_RESOURCE)
            _write("/proc/self/oom_score_adj", "-1000")
        except OSError:
            pass
        events = os.open(cg["events"], os.O_RDONLY) if cg.get("events") else -1
        limit = os.open(cg["limit"], os.O_WRONLY) if cg.get("limit") else -1
    except OSError as exc:
        sock.send(json.dumps({"error": f"lane setup: {exc}"}).encode())
        os._exit(1)
    if mode["kind"] != "none":
        try:
            _enter_lane_root(conf, mode)
        except OSError as exc:
            sock.send(json.dumps({"error": f"lane root: {exc}"}).encode())
            os._exit(1)
    try:  # inherited by every box for good: no execve there can gain privileges
        _sys.set_no_new_privs()
    except OSError:
        pass
    sock.send(b'{"ready":true}')
    spare: Any = None
    direct = False
    chk = checker[0]
    ooms = [_init.oom_kills(events)]  # the cgroup's OOM kills so far (read once per sample)
    while True:
        try:
            # Idle, a readable checker socket can only mean the checker died: end this
            # lane now, so the parent starts a new one before giving it a sample.
            ready = select.select([sock, chk], [], [])[0]
            checker_ok = chk not in ready
            if not checker_ok and sock not in ready:
                break
            msg, fds, _, _ = socket.recv_fds(sock, 1024, 8)
        except InterruptedError:
            continue
        except OSError:
            break
        if not msg or len(fds) != 4 or not msg.startswith(b"run "):
            for fd in fds:
                os.close(fd)
            if not msg:
                break
            continue
        deadline, _, budget = msg[4:].partition(b" ")  # the budget goes to the checker unread
        healthy = checker_ok
        if budget and mode["kind"] != "none" and checker_ok:
            healthy = _direct.run_direct(fds, float(deadline), budget, mode, (events, ooms), checker, spare)
            spare, direct = None, True
        else:  # the general path; also where the checker just died (then the lane ends after)
            run_sample(fds, float(deadline), conf, mode, (events, limit))
            ooms[0] = _init.oom_kills(events)
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        if not healthy:  # the checker is gone or stuck: the parent starts a new lane and checker
            break
        try:
            sock.send(b"free")
        except OSError:
            break
        if direct and spare is None:  # this lane serves direct samples: have the next box ready
            spare = _direct.spawn_spare(mode)
    if spare is not None:
        spare.discard()
    os._exit(0)


def _enter_lane_root(conf: dict[str, Any], mode: dict[str, Any]) -> None:
    """Give the lane its own mount namespace holding the sandbox root (see
    ``_root.prepare_root``). Without root this needs a user namespace of its own, and the
    boxes' user namespaces nest inside it."""
    from . import _root, _sys

    if os.geteuid() != 0:
        unshare_as_self(_sys.CLONE_NEWUSER | _sys.CLONE_NEWNS)
        mode["nested"] = True
    else:
        _sys.unshare(_sys.CLONE_NEWNS)
    _root.prepare_root(conf)


def run_sample(fds: list[int], deadline: float, conf: dict[str, Any], mode: dict[str, Any],
               cg: tuple[int, int]) -> None:
    """Supervise one sample's box from outside it: start init, keep the deadline. The
    request itself is read by init, not here."""
    from . import _init, _sys

    req_fd, secret_fd, out, ctl = fds
    status: dict[str, Any] = {"t": "end", "status": "error"}
    init = -1
    reaped = False
    try:
        init = spawn_box(mode)
        if init == 0:
            try:
                _sys.set_pdeathsig(signal.SIGKILL)
                req = json.loads(_init.pread_all(req_fd))
                init_process(req, out, secret_fd, ctl, cg, conf, clone_flags(mode) != 0, box_uids(mode))
            except BaseException as exc:  # reported as a sandbox error
                try:
                    _init.send_frame(out, {"t": "error", "reason": f"{type(exc).__name__}: {exc}"[:2000]})
                    _init.send_frame(out, {"t": "done"})
                except BaseException:
                    pass
            os._exit(0)
        _init.send_frame(out, {"t": "start", "pid": init})
        pidfd = os.pidfd_open(init)
        ready = select.select([pidfd], [], [], max(0.1, deadline))[0]
        if not ready:
            os.kill(init, signal.SIGKILL)
            status = {"t": "end", "status": "deadline", "reason": f"sample deadline of {deadline:.1f}s"}
        _, st = os.waitpid(init, 0)
        reaped = True
        os.close(pidfd)
        if ready:
            status = {"t": "end", "status": "exit", "code": os.waitstatus_to_exitcode(st)}
    except BaseException as exc:
        status = {"t": "error", "reason": f"lane: {type(exc).__name__}: {exc}"[:2000]}
    finally:
        # Whatever failed above (a closed result pipe, say), the box must not outlive the
        # sample, nor linger as a zombie of this long-lived lane.
        if init > 0 and not reaped:
            try:
                os.kill(init, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.waitpid(init, 0)
            except ChildProcessError:
                pass
    _init.send_last(out, status)


def init_process(req: dict[str, Any], out: int, secret: int, ctl: int, cg: tuple[int, int], conf: dict[str, Any],
                 pidns: bool, uids: tuple[int | None, int | None]) -> None:
    """PID 1 of the box: build the root, report what holds, run the tests."""
    from . import _init, _root, _sys

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _sys.set_dumpable(False)  # the program cannot ptrace init or read its memory
    _sys.set_no_new_privs()  # inherited by every process of the box; no execve can gain privileges
    workdir = None
    if pidns:
        _root.box_mounts(int(req["limits"]["tmp_mb"]))
        socket.sethostname("sandbox")
    else:
        workdir = _mkdtemp("moreward-box-")
        os.chmod(workdir, 0o1777)
        os.chdir(workdir)
    if req.get("probe"):
        _init.send_frame(out, {"t": "layers", **_layers(pidns, uids)})
    try:
        _init.Init(req, out, secret, ctl, cg, pidns, uids).main()
    finally:
        if workdir is not None:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
    _init.send_frame(out, {"t": "done"})


def _layers(pidns: bool, uids: tuple[int | None, int | None]) -> dict[str, Any]:
    """What actually holds, observed from inside the box."""
    out: dict[str, Any] = {"pid_ns": os.getpid() == 1, "uid_switch": uids[0] is not None}
    try:
        with open("/proc/net/dev") as f:
            ifaces = [ln.split(":")[0].strip() for ln in f.readlines()[2:]]
        with open("/proc/net/route") as f:
            routes = sum(1 for ln in f.readlines()[1:] if ln.strip())
        out["net_ns"] = pidns and ifaces == ["lo"] and routes == 0
    except OSError:
        out["net_ns"] = False
    try:
        fd = os.open("/usr/.moreward-probe", os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        os.unlink("/usr/.moreward-probe")
        out["readonly_root"] = False
    except OSError as exc:
        out["readonly_root"] = exc.errno in (30, 13, 2)  # EROFS, EACCES, ENOENT
    out["hostname"] = socket.gethostname()
    return out


def zygote_main(argv: list[str]) -> None:
    """Fork lanes on request until the parent goes away (control socket EOF)."""
    conf = json.loads(argv[0])
    sock = socket.socket(fileno=int(argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in _PRELOAD + tuple(conf.get("preload", ())):
        try:
            importlib.import_module(name)
        except Exception:  # a preload is only an optimisation
            pass
    from . import _checker, _child, _codec, _direct, _init, _root, _sys  # noqa: F401 - loaded before forking

    os.environ.clear()  # what programs see; set once here so no child pays for it
    os.environ.update(_child.ENV)
    _child.ENV_IN_PLACE = True

    conf["newroot"] = _mkdtemp("moreward-root-")
    conf["plan"] = _root.build_plan(conf["ro"])
    conf["mask"] = _root.mask_paths(conf, conf["plan"])
    conf["submounts"] = _root.submounts(conf["plan"])
    try:
        mode = probe_mode()
    except BaseException as exc:
        mode = {"kind": "none", "error": str(exc)}
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # lanes are reaped by the kernel
    from . import _warm

    _warm.warm()
    _child.prebuild_stdio()
    gc.collect()
    gc.freeze()  # keep the warm heap's pages shared with every fork
    sock.send(json.dumps({"ready": True, "mode": mode, "pid": os.getpid()}).encode())
    try:
        while True:
            try:
                msg, fds, _, _ = socket.recv_fds(sock, 1024, 8)
            except InterruptedError:
                continue
            except OSError:
                break
            if not msg or msg == b"quit":
                for fd in fds:
                    os.close(fd)
                break
            if not msg.startswith(b"lane") or len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                continue
            chk_lane, chk_own = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            chk_pid = os.fork()
            if chk_pid == 0:  # the lane's checker, forked before the lane holds anything of a sample
                sock.close()
                os.close(fds[0])
                chk_lane.close()
                try:
                    _direct.checker_main(chk_own, _checker_isolation(mode))
                finally:  # never unwind into the zygote's own code
                    os._exit(1)
            chk_own.close()
            pid = os.fork()
            if pid == 0:
                sock.close()
                lane = socket.socket(fileno=fds[0])
                try:
                    lane_main(lane, conf, mode, json.loads(msg[4:] or b"{}"), (chk_lane, chk_pid))
                finally:  # never unwind into the zygote's own code
                    os._exit(1)
            os.close(fds[0])
            chk_lane.close()
    finally:
        try:
            os.rmdir(conf["newroot"])
        except OSError:
            pass


def _checker_isolation(mode: dict[str, Any]) -> int:
    """The namespaces the lane's checker leaves the host's for (network, and the user
    namespace it needs without root)."""
    from . import _sys

    if mode["kind"] == "userns" and os.geteuid() != 0:
        return _sys.CLONE_NEWUSER | _sys.CLONE_NEWNET
    return _sys.CLONE_NEWNET if mode["kind"] in ("userns", "root") else 0


def _bootstrap() -> None:
    """Script entry: raise the stack limit (re-exec once), load this directory as a private
    package without importing ``moreward``, and serve."""
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    if soft != resource.RLIM_INFINITY and soft < _STACK and os.environ.get("MOREWARD_ZYGOTE") != "1":
        target = _STACK if hard == resource.RLIM_INFINITY else min(_STACK, hard)
        if target > soft:
            resource.setrlimit(resource.RLIMIT_STACK, (target, hard))
            os.environ["MOREWARD_ZYGOTE"] = "1"
            os.set_inheritable(int(sys.argv[2]), True)
            os.execv(sys.executable, [sys.executable, "-I", os.path.abspath(__file__), *sys.argv[1:]])
    os.environ.pop("MOREWARD_ZYGOTE", None)
    import types

    pkg = types.ModuleType("_moreward_box")
    pkg.__path__ = [os.path.dirname(os.path.abspath(__file__))]
    sys.modules["_moreward_box"] = pkg
    importlib.import_module("_moreward_box._box").zygote_main(sys.argv[1:])


if __name__ == "__main__":
    _bootstrap()
