"""One test per attack on the sandbox: each is contained, classified, and leaves nothing behind."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from moreward_code_testkit import FAST, box_descendants, wait_no_descendants

from moreward.verifiers.code import Sandbox

pytestmark = pytest.mark.timeout(60)


def run(box: Sandbox, code: str, **kw):
    t = time.monotonic()
    res = box.run(code, limits=kw.pop("limits", FAST), **kw)
    return res, time.monotonic() - t


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("while True:\n    pass\n", id="infinite-loop"),
        pytest.param("import time\ntime.sleep(60)\n", id="sleep"),
        pytest.param(
            "import signal\n"
            "for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGXCPU, signal.SIGINT, signal.SIGHUP):\n"
            "    signal.signal(s, signal.SIG_IGN)\n"
            "signal.setitimer(signal.ITIMER_REAL, 0.01)\n"
            "while True:\n    try:\n        pass\n    except BaseException:\n        pass\n",
            id="ignores-SIGALRM-SIGTERM",
        ),
    ],
)
def test_runaway_is_tle(sandbox, code):
    res, took = run(sandbox, code)
    assert res.status == "TLE", res
    assert took < 10


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", id="os.fork"),
        pytest.param("import posix\nwhile True:\n    try:\n        posix.fork()\n    except OSError:\n        pass\n",
                     id="posix.fork"),
        pytest.param(
            "import multiprocessing as mp\n"
            "def bomb():\n"
            "    while True:\n"
            "        try:\n            mp.Process(target=bomb).start()\n"
            "        except Exception:\n            pass\n"
            "bomb()\n",
            id="multiprocessing",
        ),
    ],
)
def test_fork_bomb_is_contained(sandbox, code):
    res, took = run(sandbox, code)
    assert res.status in ("TLE", "RE"), res
    assert took < 15
    assert wait_no_descendants(sandbox) == []
    ok = sandbox.run("print('alive')")  # the host and the sandbox still work
    assert ok.stdout == "alive\n"


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("x = bytearray(1 << 30)\nprint(len(x))\n", id="one-big-block"),
        pytest.param("blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 20))\n", id="growing"),
    ],
)
def test_memory_bomb_is_mle(sandbox, code):
    res, _ = run(sandbox, code)
    assert res.status == "MLE", res


def test_disk_fill_is_contained(sandbox):
    code = (
        "n = 0\n"
        "try:\n"
        "    with open('/tmp/fill', 'wb') as f:\n"
        "        while True:\n            f.write(b'x' * (1 << 20)); n += 1\n"
        "except OSError as e:\n    print('stopped', e.errno, n)\n    raise\n"
    )
    res, _ = run(sandbox, code)
    assert res.status in ("RE", "OLE"), res
    assert "stopped" in res.stdout
    assert int(res.stdout.split()[-1]) <= 16  # the file-size limit (8 MiB) or the tmpfs size stopped it
    assert not os.path.exists("/tmp/fill")


def test_output_flood_is_ole(sandbox):
    res, took = run(sandbox, "while True:\n    print('x' * 1000)\n")
    assert res.status == "OLE", res
    assert len(res.stdout) <= FAST.output_bytes
    assert took < 10


def test_stderr_flood_does_not_stall(sandbox):
    res, _ = run(sandbox, "import sys\nfor _ in range(20000):\n    sys.stderr.write('e' * 100)\nprint('done')\n")
    assert res.status == "OK", res
    assert res.stdout == "done\n"


def test_no_connection_to_a_local_listener(sandbox):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    code = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
        "    print('connected')\n"
        "except OSError as e:\n    print('blocked', e.errno)\n"
    )
    try:
        res, _ = run(sandbox, code)
        assert res.stdout.startswith("blocked"), res
        with pytest.raises(socket.timeout):
            srv.accept()
    finally:
        srv.close()


def test_no_route_to_an_outside_address(sandbox):
    # Tries an outside (documentation) address only after checking that the namespace has
    # no route at all, so a broken sandbox could never send a packet off this machine.
    code = (
        "import socket\n"
        "routes = [l for l in open('/proc/net/route').read().splitlines()[1:] if l.strip()]\n"
        "ifaces = [l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]]\n"
        "if routes or ifaces != ['lo']:\n    print('has-network', routes, ifaces)\n"
        "else:\n"
        "    try:\n"
        "        socket.create_connection(('192.0.2.1', 80), timeout=1)\n        print('connected')\n"
        "    except OSError as e:\n        print('blocked', e.errno)\n"
    )
    res, _ = run(sandbox, code)
    assert res.stdout.startswith("blocked"), res


def test_cannot_write_outside_the_work_dir(sandbox, tmp_path):
    target = tmp_path / "host.txt"
    target.write_text("original")
    grader = Path(__import__("moreward.verifiers.code.compare", fromlist=["x"]).__file__)
    before = grader.read_text()
    code = (
        "import os\n"
        f"for path in ('/usr/evil', '/etc/passwd', '/evil', '/proc/evil', {str(target)!r}, {str(grader)!r}):\n"
        "    try:\n        open(path, 'a').write('pwned')\n        print('wrote', path)\n"
        "    except OSError as e:\n        print('denied', e.errno)\n"
        "open('/tmp/ok', 'w').write('fine'); print('tmp ok')\n"
    )
    res, _ = run(sandbox, code)
    assert "wrote" not in res.stdout, res
    assert "tmp ok" in res.stdout
    assert target.read_text() == "original"
    assert grader.read_text() == before


def test_cannot_read_files_outside(sandbox, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("CANARY-7c1e")
    harness = __import__("moreward.verifiers.code._checker", fromlist=["x"]).__file__
    code = (
        f"for path in ({str(canary)!r}, {harness!r}, '/root/.bash_history', '/work'):\n"
        "    try:\n        print(open(path).read()[:200])\n"
        "    except OSError as e:\n        print('denied', e.errno)\n"
    )
    res, _ = run(sandbox, code)
    assert "CANARY-7c1e" not in res.stdout
    assert "Link" not in res.stdout
    assert res.stdout.count("denied") == 4, res


def test_secrets_do_not_reach_the_program(monkeypatch):
    monkeypatch.setenv("MOREWARD_TEST_CANARY", "secret-4f9a")
    box = Sandbox()  # a fresh zygote, started while the secret is in our environment
    try:
        code = (
            "import os\n"
            "print(dict(os.environ))\n"
            f"for pid in ['self', '1', {str(os.getpid())!r}, {str(os.getppid())!r}] + os.listdir('/proc'):\n"
            "    try:\n        print(pid, open(f'/proc/{pid}/environ', 'rb').read())\n"
            "    except OSError as e:\n        print(pid, 'denied', e.errno)\n"
        )
        res = box.run(code)
        assert res.status == "OK", res
        assert "secret-4f9a" not in res.stdout
        assert "MOREWARD_TEST_CANARY" not in res.stdout
    finally:
        box.close()


def test_cannot_kill_the_parent(sandbox):
    me = os.getpid()
    code = (
        "import os, posix, signal\n"
        f"for pid in ({me}, {os.getppid()}, os.getppid(), 1):\n"
        "    try:\n        posix.kill(pid, signal.SIGKILL)\n        print('sent', pid)\n"
        "    except OSError as e:\n        print('denied', pid, e.errno)\n"
        "try:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
    )
    res, _ = run(sandbox, code)
    assert res.status in ("OK", "RE"), res
    assert sandbox.run("print(1)").stdout == "1\n"  # the sandbox's init and lane survived


def test_double_forked_setsid_orphan_is_killed(sandbox):
    psutil = pytest.importorskip("psutil")
    code = (
        "import os\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.execv('/bin/sleep', ['sleep', '7919'])\n"
        "    os._exit(0)\n"
        "print('parent done')\n"
    )
    res, _ = run(sandbox, code)
    assert res.stdout == "parent done\n"
    assert wait_no_descendants(sandbox) == []
    survivors = [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "7919"]]
    assert survivors == []


def test_ctypes_segfault_is_re(sandbox):
    res, _ = run(sandbox, "import ctypes\nctypes.string_at(0)\n")
    assert res.status == "RE"
    assert "SIGSEGV" in res.reason


def test_deep_recursion_is_re(sandbox):
    code = "import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n"
    res, _ = run(sandbox, code)
    assert res.status in ("RE", "MLE"), res


def test_isolation_is_reported(sandbox):
    caps = sandbox.capabilities()
    for layer in ("pid_ns", "net_ns", "mount_ns", "ipc_ns", "uts_ns", "readonly_root", "rlimits", "no_new_privs"):
        assert layer in caps.active()
    res = sandbox.run("import os, socket\nprint(os.getpid(), socket.gethostname(), sorted(os.listdir('/proc'))[:0])")
    pid, host, _ = res.stdout.split(" ", 2)
    assert int(pid) < 10 and host == "sandbox"


def test_nothing_left_behind(sandbox):
    assert box_descendants(sandbox) == [] or wait_no_descendants(sandbox) == []
