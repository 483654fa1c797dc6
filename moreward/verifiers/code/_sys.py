"""Thin ctypes wrappers over the Linux calls the sandbox needs and CPython 3.10/3.11 lack.

``os.unshare`` only arrived in 3.12 and ``mount``, ``pivot_root``, ``capset`` and the
securebits never did, so this module talks to libc directly. It imports nothing but
the standard library because it is loaded into the zygote (see ``_box.py``) without
importing ``moreward`` itself.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform

__all__ = [
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWPID",
    "CLONE_NEWUSER",
    "CLONE_NEWUTS",
    "MNT_DETACH",
    "MS_BIND",
    "MS_NODEV",
    "MS_NOEXEC",
    "MS_NOSUID",
    "MS_PRIVATE",
    "MS_RDONLY",
    "MS_REC",
    "MS_REMOUNT",
    "clone",
    "drop_capabilities",
    "mount",
    "pivot_root",
    "prctl",
    "set_dumpable",
    "set_no_new_privs",
    "set_pdeathsig",
    "statvfs_mount_flags",
    "umount2",
    "unshare",
]

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4

# SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | its lock
# | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | its lock: after this,
# uid 0 gains nothing at execve and nothing can undo it.
_SECUREBITS_LOCKDOWN = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
def _cap_last() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 63


_CAP_LAST = _cap_last()
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}.get(
    platform.machine()
)

_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "riscv64": 220}.get(platform.machine())

_libc = ctypes.CDLL(None, use_errno=True)
_pylibc = ctypes.PyDLL(None, use_errno=True)  # holds the GIL across the call, as fork must
_pylibc.syscall.restype = ctypes.c_long
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def _b(path: str | None) -> bytes | None:
    return None if path is None else os.fsencode(path)


def unshare(flags: int) -> None:
    """``unshare(2)``: move the caller into new namespaces."""
    _check(_libc.unshare(flags), "unshare")


def clone(flags: int) -> int | None:
    """``fork`` into new namespaces in one step (raw ``clone(2)`` with ``SIGCHLD``).

    With ``CLONE_NEWPID`` the child is PID 1 of its namespace, which saves the extra
    fork that ``unshare`` needs. CPython's own before/after-fork hooks run around it,
    exactly as ``os.fork`` does. Returns ``None`` where the syscall number is unknown.
    Only for single-threaded callers (the zygote's lanes are).
    """
    if _SYS_CLONE is None:
        return None
    api = ctypes.pythonapi
    api.PyOS_BeforeFork()
    pid = _pylibc.syscall(_SYS_CLONE, flags | 17, 0, 0, 0, 0)  # 17 = SIGCHLD
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone: {os.strerror(err)}")
    return int(pid)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """``mount(2)``."""
    _check(
        _libc.mount(_b(source), _b(target), _b(fstype), flags, None if data is None else data.encode()),
        f"mount {source or fstype} on {target}",
    )


def umount2(target: str, flags: int = 0) -> None:
    """``umount2(2)``."""
    _check(_libc.umount2(_b(target), flags), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> bool:
    """``pivot_root(2)``; returns False when the syscall number is unknown on this machine."""
    if _SYS_PIVOT_ROOT is None:
        return False
    _check(_libc.syscall(_SYS_PIVOT_ROOT, _b(new_root), _b(put_old)), "pivot_root")
    return True


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """``prctl(2)``."""
    return _check(_libc.prctl(option, arg2, arg3, arg4, arg5), f"prctl({option})")


def set_pdeathsig(sig: int) -> None:
    """Deliver ``sig`` to this process when its parent dies."""
    prctl(PR_SET_PDEATHSIG, sig)


def set_dumpable(flag: bool) -> None:
    """A non-dumpable process cannot be ptraced or have its ``/proc/<pid>/mem`` read by its peers."""
    prctl(PR_SET_DUMPABLE, int(flag))


def set_no_new_privs() -> None:
    """After this no execve can grant privileges (setuid bits and file capabilities are ignored)."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Give up every capability for good: securebits locked, bounding and ambient sets
    cleared, effective/permitted/inheritable zeroed.

    Needed because a process that stays uid 0 inside its user namespace would otherwise
    regain a full capability set at the next ``execve``.
    """
    try:
        prctl(PR_SET_SECUREBITS, _SECUREBITS_LOCKDOWN)
    except OSError:
        pass  # without CAP_SETPCAP; the zeroed sets below still hold for non-root uids
    for cap in range(_CAP_LAST + 1):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # past the kernel's last capability
                break
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError:
        pass
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


_ST_TO_MS = (
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)


def statvfs_mount_flags(path: str) -> int:
    """The mount flags of the mount holding ``path``.

    A read-only remount inside a user namespace must repeat the flags the kernel
    locked on the original mount (nosuid, nodev, atime...), or it fails with EPERM.
    """
    flags = os.statvfs(path).f_flag
    out = 0
    for st, ms in _ST_TO_MS:
        if flags & st:
            out |= ms
    return out
