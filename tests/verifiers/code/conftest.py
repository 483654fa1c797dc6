"""Shared fixtures for the code sandbox tests.

The attack tests need the isolation layers to hold; on a machine where they do not
(no user namespaces and not root), they are skipped with the reason instead of
failing. At the end of the session no process started by a box may remain.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest

from moreward.verifiers.code import Limits, Sandbox, get_sandbox

# pytest runs in importlib mode, so test modules import these helpers under this name.
sys.modules.setdefault("moreward_code_testkit", sys.modules[__name__])

# Small limits keep the attack tests fast: a loop is TLE after 0.5 s CPU or 1.5 s wall.
FAST = Limits(time=0.5, wall_time=1.5, memory_mb=128, output_bytes=1 << 20, tmp_mb=16, file_size_mb=8)


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    box = get_sandbox()
    caps = box.capabilities()
    missing = caps.missing(("net_ns", "pid_ns", "mount_ns", "readonly_root"))
    if missing:
        pytest.skip(f"the sandbox cannot isolate here (missing {', '.join(missing)})")
    return box


def box_descendants(box: Sandbox) -> list[int]:
    """Processes below the zygote's lanes: boxes still alive (there should be none)."""
    psutil = pytest.importorskip("psutil")
    if box.zygote_pid is None:
        return []
    try:
        zygote = psutil.Process(box.zygote_pid)
        return [p.pid for lane in zygote.children() for p in lane.children(recursive=True) if not _spare(p)]
    except psutil.NoSuchProcess:
        return []


def _spare(proc: Any) -> bool:
    """A box the lane cloned ahead of its next sample (``_direct.Spare``): PID 1 of its
    namespace, still holding its capabilities (a program never does), no children."""
    try:
        with open(f"/proc/{proc.pid}/status") as f:
            fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        return fields["NSpid"].split()[-1] == "1" and int(fields["CapEff"], 16) != 0 and not proc.children()
    except Exception:  # gone meanwhile, or not a box
        return False


def wait_no_descendants(box: Sandbox, timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    left = box_descendants(box)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = box_descendants(box)
    return left


@pytest.fixture(scope="session", autouse=True)
def _no_stray_processes():
    """After the whole suite, no process started inside a box may survive."""
    yield
    box = get_sandbox()
    assert wait_no_descendants(box) == []
    psutil = pytest.importorskip("psutil")
    from moreward.verifiers.code._box import UID_BASE

    strays = []
    for p in psutil.process_iter(["uids", "cmdline"]):
        try:
            if p.info["uids"] and p.info["uids"].real in (UID_BASE, UID_BASE + 1):
                strays.append((p.pid, p.info["cmdline"]))
        except psutil.Error:
            continue
    assert strays == []
