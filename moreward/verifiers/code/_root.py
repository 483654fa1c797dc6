"""The sandbox's filesystem: a read-only root built once per lane, plus per-box mounts.

Standard library only: this module is loaded into the zygote.
"""

from __future__ import annotations

import glob
import os
import sys
from typing import Any

from . import _sys

__all__ = ["box_mounts", "build_plan", "mask_paths", "prepare_root", "submounts"]

_DEVICES = ("null", "zero", "full", "random", "urandom")


def _mkdirs(path: str) -> None:
    os.makedirs(path, mode=0o755, exist_ok=True)


def prepare_root(conf: dict[str, Any]) -> None:
    """Build the sandbox's root once per lane, in the lane's own mount namespace.

    A read-only tmpfs skeleton gets the allowed host trees bound read-only (and
    ``nosuid``), a few device nodes, and the host ``/proc`` (only so that a box can
    mount its own over it); then the lane ``pivot_root``s into it and detaches the old
    root. Every box the lane clones gets a copy of this tree, so a sample only pays
    for :func:`box_mounts`.
    """
    nr = conf["newroot"]
    _sys.mount(None, "/", None, _sys.MS_REC | _sys.MS_PRIVATE)
    _sys.mount("tmpfs", nr, "tmpfs", _sys.MS_NOSUID | _sys.MS_NODEV, "size=1m,nr_inodes=4096,mode=755")
    ro_targets: list[tuple[str, str]] = []
    for kind, path, extra in conf["plan"]:
        target = nr + path
        if kind == "link":
            _mkdirs(os.path.dirname(target))
            os.symlink(extra, target)
        elif kind == "dir":
            _mkdirs(target)
            _sys.mount(path, target, None, _sys.MS_BIND | _sys.MS_REC)
            ro_targets.append((path, target))
    _mkdirs(nr + "/dev")
    for dev in _DEVICES:
        target = f"{nr}/dev/{dev}"
        with open(target, "w"):
            pass
        _sys.mount(f"/dev/{dev}", target, None, _sys.MS_BIND)
    for name, dest in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                       ("stderr", "/proc/self/fd/2")):
        os.symlink(dest, f"{nr}/dev/{name}")
    for sub in ("/tmp", "/dev/shm", "/proc"):
        _mkdirs(nr + sub)
    _sys.mount("/proc", nr + "/proc", None, _sys.MS_BIND | _sys.MS_REC)
    for src, target in ro_targets:
        flags = _sys.MS_BIND | _sys.MS_REMOUNT | _sys.MS_RDONLY | _sys.MS_NOSUID | _sys.statvfs_mount_flags(src)
        _sys.mount(None, target, None, flags)
    # Submounts that MS_REC brought along (listed by the zygote) must be read-only too.
    for point in conf.get("submounts", ()):
        target = nr + point
        try:
            _sys.mount(None, target, None, _sys.MS_BIND | _sys.MS_REMOUNT | _sys.MS_RDONLY | _sys.MS_NOSUID
                       | _sys.statvfs_mount_flags(point))
        except OSError:
            _sys.umount2(target, _sys.MNT_DETACH)
    for path in conf["mask"]:
        if os.path.isdir(nr + path):
            _sys.mount("tmpfs", nr + path, "tmpfs", _sys.MS_RDONLY | _sys.MS_NOSUID | _sys.MS_NODEV, "size=4k,mode=755")
    os.mkdir(nr + "/.old")
    if _sys.pivot_root(nr, nr + "/.old"):
        os.chdir("/")
        _sys.umount2("/.old", _sys.MNT_DETACH)
        os.rmdir("/.old")
    else:  # pragma: no cover - architectures without a known syscall number
        os.chdir(nr)
        os.chroot(nr)
    _sys.mount(None, "/", None, _sys.MS_REMOUNT | _sys.MS_RDONLY | _sys.MS_NOSUID | _sys.MS_NODEV)
    os.chdir("/")


def box_mounts(tmp_mb: int) -> None:
    """What each box mounts in its copy of the lane's tree: a private tmpfs ``/tmp`` (the
    work directory) and ``/dev/shm``, and a ``/proc`` that shows only the box's PIDs."""
    for sub, size in (("/tmp", tmp_mb), ("/dev/shm", min(tmp_mb, 64))):
        _sys.mount("tmpfs", sub, "tmpfs", _sys.MS_NOSUID | _sys.MS_NODEV,
                   f"size={max(1, size)}m,nr_inodes=65536,mode=1777")
    _sys.mount("proc", "/proc", "proc", _sys.MS_NOSUID | _sys.MS_NODEV | _sys.MS_NOEXEC)
    os.chdir("/tmp")


# --- the plan, made once in the zygote -------------------------------------------


def build_plan(ro: list[str]) -> list[tuple[str, str, str]]:
    """Bind plan for the new root: top-level symlinks are recreated, directories bound.

    Paths are resolved first and any path inside another is dropped, so no directory is
    ever created inside a bind mount (which, before the read-only remount, would write
    to the host)."""
    plan: list[tuple[str, str, str]] = []
    dirs: list[str] = []
    for p in ro:
        if os.path.islink(p) and os.path.dirname(p) == "/":
            plan.append(("link", p, os.readlink(p)))
    for p in sorted({os.path.realpath(p) for p in ro if os.path.isdir(p)}, key=len):
        if any(p == d or p.startswith(d + "/") for d in dirs):
            continue
        if any(kind == "link" and path == p for kind, path, _ in plan):
            continue
        dirs.append(p)
        plan.append(("dir", p, ""))
    return plan


def mask_paths(conf: dict[str, Any], plan: list[tuple[str, str, str]]) -> list[str]:
    if conf.get("site_packages"):
        return []
    import site

    found = set(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    try:
        found.update(site.getsitepackages())
    except AttributeError:  # pragma: no cover
        pass
    for pattern in ("/usr/lib/python3*/*-packages", "/usr/local/lib/python3*/*-packages", "/usr/lib/python3/*-packages"):
        found.update(glob.glob(pattern))
    roots = [path for kind, path, _ in plan if kind == "dir"]
    out = []
    for p in sorted({os.path.realpath(p) for p in found if os.path.isdir(p)}):
        if any(p.startswith(r + "/") for r in roots):
            out.append(p)
    return out


def submounts(plan: list[tuple[str, str, str]]) -> list[str]:
    """Mount points strictly inside the bound trees (a recursive bind brings them along)."""
    roots = [path for kind, path, _ in plan if kind == "dir"]
    out = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4].replace("\\040", " ")
                if any(point.startswith(r + "/") for r in roots):
                    out.append(point)
    except OSError:
        pass
    return out
