"""Job functions for the runtime tests (stdlib only, so workers load them fast).

conftest.py registers this file as the module ``moreward_rt_jobs``; it is not
importable by name in the workers, so loading it there also exercises the
pool's "load the job's module from its file" path.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time


def noop(x):
    return x


def add(a, b):
    return a + b


def getpid():
    return os.getpid()


def sleep(seconds, value=None):
    time.sleep(seconds)
    return value


def stuck_in_c():
    return pow(10, 10**9)  # minutes of pure C, never checks for signals


def raise_value(msg):
    raise ValueError(msg)


def raise_memory_error():
    raise MemoryError("pretend we are out of memory")


def exit_code(code):
    os._exit(code)


def segfault():
    ctypes.string_at(0)


def kill_self():
    os.kill(os.getpid(), signal.SIGKILL)


def alloc(nbytes):
    return len(bytearray(nbytes))


def unpicklable_result():
    return threading.Lock()


def fork_then_sleep(pidfile, seconds):
    """Fork a child that sleeps a minute, record its pid, then overrun the deadline."""
    pid = os.fork()
    if pid == 0:
        try:
            time.sleep(60)
        finally:
            os._exit(0)
    with open(pidfile, "w") as fh:
        fh.write(str(pid))
    time.sleep(seconds)


def subprocess_then_sleep(pidfile, seconds):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(pidfile, "w") as fh:
        fh.write(str(proc.pid))
    time.sleep(seconds)


def sympy_expand(n):
    import sympy

    x, y, z = sympy.symbols("x y z")
    return len(sympy.expand((x + y + z) ** n).args)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def make_point(x, y):
    return Point(x, y)


# ---------------------------------------------------------------- helpers for the test process


def wait_until(predicate, timeout=5.0, interval=0.02):
    """Poll ``predicate`` until it is true or ``timeout`` passes; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > end:
            return value
        time.sleep(interval)


def alive(pid):
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def fork_then_exit(pidfile, code):
    """Leave a child holding the worker's socket open, then kill the worker."""
    pid = os.fork()
    if pid == 0:
        try:
            time.sleep(60)
        finally:
            os._exit(0)
    with open(pidfile, "w") as fh:
        fh.write(str(pid))
    os._exit(code)


def vm_size():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize"))


def module_loaded(name):
    import sys

    return name in sys.modules
