"""Per-sample memory and pids cgroups (v1 or v2), one pair per sandbox lane.

Each lane (a process that runs one sample at a time, see ``_box.py``) gets its own
cgroup pair under the caller's cgroup and moves into it once; every box it starts is
born inside. Creating a cgroup per sample, or migrating a process per sample, costs
milliseconds on v1 and leaves zombie cgroups behind. The limits are rewritten before
each sample, once the previous box is gone.
The MLE verdict comes from the ``oom_kill`` counter (``memory.oom_control`` on v1,
``memory.events`` on v2), read before and after each test. When the hierarchy is not
writable (no root, no delegation), :class:`Cgroups` says so and the sandbox falls back
to rlimits, which ``Sandbox.capabilities()`` reports.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass

__all__ = ["Cgroups", "Slot"]

_SLOT_IDS = itertools.count(1)  # shared by every Cgroups of the process: slot names never clash


@dataclass
class Slot:
    """The cgroup files one sample uses."""

    procs: list[str]
    events: str | None
    limit: str | None
    dirs: list[str]
    # The (memory, pids) limits last written; None when unknown (a box that compiles
    # lowers the memory limit itself once the compiler is done).
    applied: tuple[int, int] | None = None


def _mounts() -> dict[str, tuple[str, str]]:
    """controller -> (mount point, mount root) for v1 hierarchies; "" -> v2."""
    out: dict[str, tuple[str, str]] = {}
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                parts, rparts = left.split(), right.split()
                if len(rparts) < 3:
                    continue
                if rparts[0] == "cgroup2":
                    out.setdefault("", (parts[4], parts[3]))
                elif rparts[0] == "cgroup":
                    for opt in rparts[2].split(","):
                        if opt in ("memory", "pids"):
                            out[opt] = (parts[4], parts[3])
    except OSError:
        pass
    return out


def _own() -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                for c in ctrls.split(",") if ctrls else [""]:
                    out[c] = path
    except OSError:
        pass
    return out


def _join(mount: tuple[str, str], rel: str) -> str:
    point, root = mount
    if root != "/" and rel.startswith(root):
        rel = rel[len(root):]
    return os.path.join(point, rel.lstrip("/"))


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


class Cgroups:
    """Creates, limits and recycles the per-sample cgroups."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.memory = self.pids = False
        self._bases: dict[str, str] = {}
        self._all: list[Slot] = []
        self._lock = threading.Lock()
        self.error = ""
        try:
            self._setup()
        except OSError as exc:
            self.error = f"{exc.strerror or exc}: {exc.filename or ''}".strip()
            self.memory = self.pids = False

    def _setup(self) -> None:
        mounts, own = _mounts(), _own()
        name = f"moreward-{os.getpid()}"
        if "memory" in mounts and "memory" in own:
            self.version = 1
            for ctrl in ("memory", "pids"):
                if ctrl in mounts and ctrl in own:
                    base = os.path.join(_join(mounts[ctrl], own[ctrl]), name)
                    _cleanup_stale(os.path.dirname(base))
                    os.makedirs(base, exist_ok=True)
                    self._bases[ctrl] = base
            self.memory, self.pids = "memory" in self._bases, "pids" in self._bases
            return
        if "" in mounts and "" in own:
            self.version = 2
            parent = _join(mounts[""], own[""])
            ctrls = _read(os.path.join(parent, "cgroup.subtree_control")).split()
            if "memory" not in ctrls:
                raise OSError(f"memory controller not delegated to {parent}")
            _cleanup_stale(parent)
            base = os.path.join(parent, name)
            os.makedirs(base, exist_ok=True)
            _write(os.path.join(base, "cgroup.subtree_control"), "+memory" + (" +pids" if "pids" in ctrls else ""))
            self._bases[""] = base
            self.memory, self.pids = True, "pids" in ctrls

    def _new_slot(self) -> Slot:
        n = next(_SLOT_IDS)
        if self.version == 1:
            dirs = []
            for base in self._bases.values():
                d = os.path.join(base, f"s{n}")
                os.mkdir(d)
                dirs.append(d)
            mem = os.path.join(self._bases["memory"], f"s{n}")
            return Slot([os.path.join(d, "cgroup.procs") for d in dirs], os.path.join(mem, "memory.oom_control"),
                        os.path.join(mem, "memory.limit_in_bytes"), dirs)
        d = os.path.join(self._bases[""], f"s{n}")
        os.mkdir(d)
        try:
            _write(os.path.join(d, "memory.swap.max"), "0")
        except OSError:
            pass
        return Slot([os.path.join(d, "cgroup.procs")], os.path.join(d, "memory.events"),
                    os.path.join(d, "memory.max"), [d])

    def new_slot(self) -> Slot | None:
        """A fresh cgroup pair for one lane, or None when cgroups are unavailable."""
        if not self.memory:
            return None
        slot = self._new_slot()
        with self._lock:
            self._all.append(slot)
        return slot

    def set_limits(self, slot: Slot, memory_bytes: int, pids: int) -> None:
        """Limit the lane's next sample to ``memory_bytes`` and ``pids`` tasks. Limits
        the slot already has are not written again (``Slot.applied``)."""
        if slot.applied == (memory_bytes, pids):
            return
        slot.applied = None
        self.set_memory(slot, memory_bytes)
        if self.pids:
            pids_dir = slot.dirs[-1] if self.version == 1 else slot.dirs[0]
            _write(os.path.join(pids_dir, "pids.max"), str(pids))
        slot.applied = (memory_bytes, pids)

    def set_memory(self, slot: Slot, memory_bytes: int) -> None:
        if not slot.limit:
            return
        if self.version != 1:
            _write(slot.limit, str(memory_bytes))
            return
        memsw = slot.limit.replace("memory.limit_in_bytes", "memory.memsw.limit_in_bytes")
        try:
            _write(slot.limit, str(memory_bytes))
        except OSError:  # memsw must stay >= the memory limit: raise it first
            _write(memsw, str(memory_bytes))
            _write(slot.limit, str(memory_bytes))
            return
        try:
            _write(memsw, str(memory_bytes))
        except OSError:
            pass

    def retire(self, slot: Slot) -> None:
        """Remove a slot whose lane is gone (its processes must have exited)."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                if not any(_read(p).strip() for p in slot.procs):
                    break
            except OSError:
                break
            time.sleep(0.01)
        for d in slot.dirs:
            try:
                os.rmdir(d)
            except OSError:
                pass

    def close(self) -> None:
        """Remove every cgroup this process made (those still busy are left to the next start)."""
        with self._lock:
            slots, self._all = self._all, []
        for slot in slots:
            self.retire(slot)
        for base in self._bases.values():
            try:
                os.rmdir(base)
            except OSError:
                pass


def _cleanup_stale(parent: str) -> None:
    """Remove the cgroups of moreward processes that are gone."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith("moreward-"):
            continue
        pid = name.partition("-")[2]
        if not pid.isdigit() or os.path.exists(f"/proc/{pid}"):
            continue
        base = os.path.join(parent, name)
        try:
            for sub in os.listdir(base):
                if os.path.isdir(os.path.join(base, sub)):
                    os.rmdir(os.path.join(base, sub))
            os.rmdir(base)
        except OSError:
            pass
