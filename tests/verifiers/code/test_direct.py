"""The direct path (``_direct``): a sample whose tests are exactly one assert-style item
runs in a box whose PID 1 *is* the program, while the trusted test runs in the lane's
checker process outside the box. Each test here fails if that path breaks: it is not
taken (or taken for several items), the trusted side's failures leak into the reward or
break the lane, the program sees more than it should, PID-1 quirks change the grade,
processes outlive the sample, or a dead lane leaves its box behind.

The tests run on a sandbox of their own with a single lane (the ``one_lane`` fixture), so
"the next sample passes" always means the *same* lane, or the one that replaced it,
served it: with several lanes a broken lane could hide behind a healthy one.

Already covered elsewhere for one-item assert samples (so not repeated here):
``exit(0)``/``quit()``/``sys.exit``/``os._exit`` before the asserts and an always-equal
``__eq__`` object (``test_hacks.py``: ``test_exit_before_the_asserts``,
``test_always_equal_object``, ``test_lying_builtin_subclass``, ``test_exit_inside_the_function``).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest
from moreward_code_testkit import FAST, wait_no_descendants

from moreward import Sample, Verdict
from moreward.verifiers.code import CodeVerifier, Sandbox

pytestmark = pytest.mark.timeout(60)
psutil = pytest.importorskip("psutil")

GOOD_CODE = "def f(x):\n    return 2 * x\n"
GOOD_REF = {"test": "def check(candidate):\n    assert candidate(21) == 42\n", "entry_point": "f"}


def block(code: str) -> str:
    return f"```python\n{code}\n```\n"


def check_ref(body: str, entry: str = "f") -> dict[str, str]:
    """A HumanEval-style reference: one ``check(candidate)`` test (one item: the direct path)."""
    lines = "".join(f"    {line}\n" for line in body.strip("\n").splitlines())
    return {"test": f"def check(candidate):\n{lines}", "entry_point": entry}


class OneLaneVerifier(CodeVerifier):
    """A :class:`CodeVerifier` on a given sandbox instead of the process-wide one."""

    box: Sandbox

    @property
    def sandbox(self) -> Sandbox:
        return self.box


def make_verifier(box: Sandbox, time_limit: float = FAST.time, **limits) -> OneLaneVerifier:
    lim = {"wall_time": FAST.wall_time, "output_bytes": FAST.output_bytes, "tmp_mb": FAST.tmp_mb,
           "file_size_mb": FAST.file_size_mb, **limits}
    v = OneLaneVerifier(time_limit=time_limit, memory_mb=FAST.memory_mb, limits=lim)
    v.box = box
    return v


@pytest.fixture(scope="module")
def one_lane(sandbox):
    """A private sandbox with one lane (``sandbox`` skips where isolation does not hold)."""
    box = Sandbox()
    box.max_lanes = 1
    yield box
    box.close()


@pytest.fixture(scope="module")
def verifier(one_lane) -> OneLaneVerifier:
    return make_verifier(one_lane)


def score(v: CodeVerifier, code: str, reference):
    return v.score(Sample(block(code), reference=reference))


def verdicts(s) -> list[str]:
    return [t["verdict"] for t in s.details.get("tests", [])]


def lane_procs(box: Sandbox) -> set[int]:
    """The zygote's children: the lane and its checker (after the lane has served a sample).
    Waits a moment for processes that are on their way out to go."""
    zygote = psutil.Process(box.zygote_pid)
    deadline = time.monotonic() + 3.0
    while True:
        kids = set()
        for p in zygote.children():
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    kids.add(p.pid)
            except psutil.NoSuchProcess:
                continue
        if len(kids) <= 2 or time.monotonic() > deadline:
            return kids
        time.sleep(0.02)


def assert_next_sample_passes(v: CodeVerifier) -> None:
    s = score(v, GOOD_CODE, GOOD_REF)
    assert s.passed, s


def gone_within(pids, seconds: float, reaped: bool = False) -> list[int]:
    """The pids in ``pids`` still alive after up to ``seconds`` (zombies count as gone
    unless ``reaped``)."""
    deadline = time.monotonic() + seconds
    while True:
        alive = []
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                if reaped or proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


# -- 1. dispatch ------------------------------------------------------------------------

PID_CODE = "import os\ndef f():\n    return os.getpid()\n"


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param(check_ref("assert candidate() == 1"), id="humaneval-check"),
        pytest.param({"test_list": ["assert f() == 1"]}, id="mbpp-one-assert"),
        pytest.param(["assert f() == 1"], id="list-of-one-assert"),
    ],
)
def test_one_assert_item_runs_as_pid_1(verifier, reference):
    s = score(verifier, PID_CODE, reference)
    assert verdicts(s) == ["AC"], s  # on the general path the program is init's child, never PID 1


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param({"test_list": ["assert f() > 1", "assert f() > 1"]}, id="mbpp-two-asserts"),
        pytest.param(["assert f() > 1", "assert f() > 1"], id="list-of-two-asserts"),
    ],
)
def test_several_assert_items_take_the_general_path(verifier, reference):
    s = score(verifier, PID_CODE, reference)
    assert verdicts(s) == ["AC", "AC"], s  # a trusted init is PID 1, each program its child


# -- 2./3. the trusted test fails: ERROR, never 0, and the lane and checker are replaced --


@pytest.mark.parametrize(
    "body",
    [
        # ``while candidate:``, not ``while True:``: code after a literal endless loop is
        # compiled away, and a test without a reachable assert is refused as ungradeable.
        pytest.param("candidate(1)\nwhile candidate:\n    pass\nassert False", id="loops-after-a-call"),
        pytest.param("while candidate:\n    pass\nassert candidate(1) == 2", id="loops-before-any-call"),
    ],
)
def test_test_code_stuck_forever_is_an_error(one_lane, body):
    v = make_verifier(one_lane, time_limit=0.2, wall_time=0.3)  # sample deadline ~3.4 s
    assert_next_sample_passes(v)
    before = lane_procs(one_lane)
    t0 = time.monotonic()
    s = score(v, GOOD_CODE, check_ref(body))
    assert s.value is None and s.verdict is Verdict.ERROR, s
    assert time.monotonic() - t0 < 15
    # The stuck checker (and its lane) must be gone, not left burning a CPU.
    assert gone_within(before, 3.0) == []
    assert_next_sample_passes(v)
    assert not lane_procs(one_lane) & before


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("import os\nassert candidate(1) == 2\nos._exit(3)", id="os._exit-after-a-call"),
        pytest.param("import os\nos._exit(3)\nassert candidate(1) == 2", id="os._exit-before-any-call"),
    ],
)
def test_test_code_killing_its_checker_is_an_error(one_lane, body):
    v = make_verifier(one_lane, time_limit=0.2, wall_time=0.3)  # at worst, the sample deadline ends it
    assert_next_sample_passes(v)
    before = lane_procs(one_lane)
    s = score(v, GOOD_CODE, check_ref(body))
    assert s.value is None and s.verdict is Verdict.ERROR, s
    assert_next_sample_passes(v)
    assert not lane_procs(one_lane) & before  # a new lane with a new checker


# -- 4. what the program can see ----------------------------------------------------------

PEEK_CODE = '''
import errno, os
def peek():
    fds = []
    for name in os.listdir("/proc/self/fd"):
        try:
            fds.append([int(name), os.readlink("/proc/self/fd/" + name)])
        except OSError as e:  # the listing's own fd, closed once listed
            fds.append([int(name), "gone" if e.errno == errno.ENOENT else "errno %d" % e.errno])
    others = []
    for fd in range(4, 1024):  # without /proc: nothing else may be open either
        try:
            os.fstat(fd)
            others.append(fd)
        except OSError:
            pass
    return {"pid": os.getpid(), "fds": sorted(fds), "others": others,
            "procs": sorted(p for p in os.listdir("/proc") if p.isdigit())}
'''

PEEK_TEST = '''
r = candidate()
assert r["pid"] == 1, r["pid"]
fds = dict((fd, target) for fd, target in r["fds"])
assert not [t for t in fds.values() if "memfd" in t or "secret" in t or "request" in t], fds
assert sorted(fds)[:4] == [0, 1, 2, 3] and fds[0] == "/dev/null" and fds[3].startswith("socket:"), fds
assert [fd for fd, t in fds.items() if fd > 3 and t != "gone"] == [], fds
assert len(fds) <= 5, fds
assert r["others"] == [], r["others"]
assert r["procs"] == ["1"], r["procs"]
'''


def test_program_sees_no_test_fds_and_no_other_process(verifier):
    s = score(verifier, PEEK_CODE, check_ref(PEEK_TEST, entry="peek"))
    assert verdicts(s) == ["AC"], s


# -- 5./6. signals from the program ---------------------------------------------------------

KILLS = {
    "kill-0": "os.kill(0, signal.SIGKILL)",
    "killpg-0": "os.killpg(0, signal.SIGKILL)",
    "kill-minus-1": "os.kill(-1, signal.SIGKILL)",
}


def _killer(kill: str, when: str) -> str:
    # A child sleeps in the box first, so the kill has a target besides PID 1 (and
    # kill(-1) does not fail with ESRCH); PID 1 itself ignores it (see test below).
    shoot = (
        "    child = os.fork()\n"
        "    if child == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        f"    {kill}\n"
        "    os.waitpid(child, 0)\n"
    )
    if when == "import":
        return f"import os, signal, time\ndef shoot():\n{shoot}shoot()\ndef f(x):\n    return 2 * x\n"
    return f"import os, signal, time\ndef f(x):\n{shoot}    return 2 * x\n"


@pytest.mark.parametrize("when", ["import", "call"])
@pytest.mark.parametrize("kill", list(KILLS))
def test_program_killing_everything_it_can_is_graded(verifier, one_lane, kill, when):
    assert_next_sample_passes(verifier)
    before = lane_procs(one_lane)
    s = score(verifier, _killer(KILLS[kill], when), GOOD_REF)
    assert s.value is not None, s  # graded: never a sandbox error
    assert verdicts(s) == ["AC"], s  # only its own child died; PID 1 ignores its own group kill
    assert_next_sample_passes(verifier)
    assert lane_procs(one_lane) == before  # the same lane and checker served on


def test_pid_1_ignores_its_own_fatal_signals(verifier, one_lane):
    # A namespace's init ignores signals it sends itself (no handler installed), SIGKILL
    # included: the program keeps answering and is graded on its answers. On the
    # general path the same program dies (RE "killed by SIGKILL").
    code = (
        "import os, signal\n"
        "def f(x):\n"
        "    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGSEGV, signal.SIGABRT):\n"
        "        os.kill(os.getpid(), sig)\n"
        "    return (os.getpid(), 2 * x)\n"
    )
    before = lane_procs(one_lane)
    s = score(verifier, code, check_ref("assert candidate(1) == (1, 2)\nassert candidate(21) == (1, 42)"))
    assert verdicts(s) == ["AC"], s
    wrong = code.replace("2 * x", "2 * x + 1")
    s = score(verifier, wrong, check_ref("assert candidate(1) == (1, 2)\nassert candidate(21) == (1, 42)"))
    assert verdicts(s) == ["WA"], s  # still graded on its answers
    assert lane_procs(one_lane) == before


# -- 7. nothing outlives the sample --------------------------------------------------------


def test_setsid_double_forked_orphan_dies_with_the_box(verifier, one_lane):
    tag = str(20000 + os.getpid() % 20000)  # a sleep no other test starts
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv('/bin/sleep', ['sleep', '{tag}'])\n"
        "    os._exit(0)\n"
        "def f():\n"  # the orphan must really run, or this test would prove nothing
        "    for _ in range(100):\n"
        "        for pid in os.listdir('/proc'):\n"
        "            try:\n"
        f"                if pid.isdigit() and open('/proc/' + pid + '/cmdline').read() == 'sleep\\x00{tag}\\x00':\n"
        "                    return True\n"
        "            except OSError:\n"
        "                pass\n"
        "        time.sleep(0.01)\n"
        "    return False\n"
    )
    s = score(verifier, code, check_ref("assert candidate() is True"))
    assert verdicts(s) == ["AC"], s

    def survivors():
        return [p.pid for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", tag]]

    deadline = time.monotonic() + 3.0
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert survivors() == []
    assert wait_no_descendants(one_lane) == []
    assert_next_sample_passes(verifier)


# -- 8. verdicts on the direct path ---------------------------------------------------------


@pytest.mark.parametrize(
    "code, expected",
    [
        pytest.param("def f(x):\n    while True:\n        print('x' * 1000)\n", "OLE", id="stdout-flood-in-call"),
        pytest.param("while True:\n    print('x' * 1000)\n", "OLE", id="stdout-flood-at-import"),
        pytest.param("blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 20))\n", "MLE",
                     id="memory-bomb-at-import"),
        pytest.param("def f(x):\n    while True:\n        pass\n", "TLE", id="infinite-loop"),
        pytest.param("import time\ndef f(x):\n    time.sleep(60)\n", "TLE", id="sleep"),
        pytest.param("def f(x:\n    return 2 * x\n", "CE", id="syntax-error"),
        pytest.param("import sys\ndef f(x):\n    sys.exit(0)\n", "RE", id="exit-in-call"),
        pytest.param("import ctypes\ndef f(x):\n    ctypes.string_at(0)\n", "RE", id="segfault"),
    ],
)
def test_verdicts(verifier, code, expected):
    t0 = time.monotonic()
    s = score(verifier, code, GOOD_REF)
    assert s.value == 0.0 and s.verdict is Verdict.FAIL, s
    assert verdicts(s) == [expected], s
    assert time.monotonic() - t0 < 10


def test_memory_bomb_in_the_call_is_mle(verifier, one_lane):
    if not one_lane.capabilities().cgroup_memory:
        # Without a memory cgroup the function's MemoryError comes back as data and the
        # checker re-raises it: RE, on the general path as well.
        pytest.skip("needs the memory cgroup")
    code = "def f(x):\n    blocks = []\n    while True:\n        blocks.append(bytearray(1 << 20))\n"
    s = score(verifier, code, GOOD_REF)
    assert verdicts(s) == ["MLE"], s


def test_cpu_limit_holds_for_pid_1(one_lane):
    # PID 1 ignores RLIMIT_CPU's SIGXCPU, but not the SIGKILL at the hard limit: a busy
    # loop under a long wall limit is TLE well before that wall limit.
    # (The program ignores SIGXCPU itself too, so this holds on the general path as well.)
    v = make_verifier(one_lane, time_limit=0.5, wall_time=30.0)
    t0 = time.monotonic()
    s = score(v, "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\n"
                 "def f(x):\n    while True:\n        pass\n", GOOD_REF)
    assert verdicts(s) == ["TLE"], s
    assert time.monotonic() - t0 < 12.0  # about 2 s: the hard limit is one CPU second above the soft one


def test_stderr_and_stdout_under_the_cap_do_not_stall(verifier):
    code = (
        "import sys\n"
        "def f(x):\n"
        "    for _ in range(20000):\n"
        "        sys.stderr.write('e' * 100)\n"
        "    print('o' * 200000)\n"
        "    return 2 * x\n"
    )
    s = score(verifier, code, GOOD_REF)
    assert verdicts(s) == ["AC"], s


# -- the checker outlives its samples ------------------------------------------------------
# Regressions of bugs found while writing this file (all failed at 015ef76). Each runs on a
# sandbox of its own: the bug would otherwise break the lane, or every new lane, of the
# tests after it.


@pytest.fixture
def private_lane(sandbox):
    box = Sandbox()
    box.max_lanes = 1
    yield box
    box.close()


def test_checker_dying_between_samples_costs_one_sample_at_most(private_lane):
    # Was: the lane's send to its dead checker raised BrokenPipeError, caught without
    # marking the lane unhealthy, so every later direct sample on it was a sandbox error.
    v = make_verifier(private_lane)
    assert_next_sample_passes(v)
    lane = [pid for pid in lane_procs(private_lane) if os.getsid(pid) == pid]  # lanes lead a session
    checker = [pid for pid in lane_procs(private_lane) if os.getsid(pid) != pid]
    assert len(lane) == 1 and len(checker) == 1, (lane, checker)
    psutil.Process(checker[0]).kill()
    assert gone_within(checker, 3.0) == []
    s = score(v, GOOD_CODE, GOOD_REF)  # this sample may be lost...
    assert s.passed or (s.value is None and s.verdict is Verdict.ERROR), s
    for _ in range(3):  # ...but the lane must not stay broken
        assert_next_sample_passes(v)


def test_test_breaking_its_checker_does_not_break_new_lanes(private_lane):
    # Was: the exception escaped checker_main into the zygote's own code, in the checker
    # process, whose `finally` removed the shared root mount point: every lane started
    # after that failed with "lane root: [Errno 2] mount tmpfs ...".
    v = make_verifier(private_lane)
    breaking = check_ref("assert candidate(21) == 42\nimport json\njson.loads = None")
    s = score(v, GOOD_CODE, breaking)  # the checker cannot even report: lost, never a 0
    assert s.passed or (s.value is None and s.verdict is Verdict.ERROR), s
    for _ in range(2):  # a new lane (and checker) must start
        assert_next_sample_passes(v)


def test_late_alarm_of_a_test_costs_one_sample_at_most(private_lane):
    v = make_verifier(private_lane)
    test = (
        "import signal\n"
        "class Late(Exception):\n    pass\n"
        "def _late(*args):\n    raise Late('an alarm after the sample')\n"
        "def check(candidate):\n"
        "    signal.signal(signal.SIGALRM, _late)\n"
        "    signal.alarm(1)\n"
        "    assert candidate(21) == 42\n"
    )
    assert score(v, GOOD_CODE, {"test": test, "entry_point": "f"}).passed
    time.sleep(1.5)  # were it still pending, the alarm would have gone off in the idle checker
    s = score(v, GOOD_CODE, GOOD_REF)
    assert s.passed or (s.value is None and s.verdict is Verdict.ERROR), s
    for _ in range(2):
        assert_next_sample_passes(v)


def test_test_side_effects_do_not_reach_the_next_sample(private_lane):
    # Was: a test that patched builtins made a later wrong answer pass on the same lane, and
    # one that lowered the recursion limit failed a later test's own recursion.
    v = make_verifier(private_lane)
    close_to_42 = check_ref("assert abs(candidate(21) - 42) < 1e-9")
    assert verdicts(score(v, "def f(x):\n    return 0\n", close_to_42)) == ["WA"]
    patching = {"test": "import builtins\nbuiltins.abs = lambda x: 0\n"
                        "def check(candidate):\n    assert candidate(21) == 42\n", "entry_point": "f"}
    assert score(v, GOOD_CODE, patching).passed
    assert verdicts(score(v, "def f(x):\n    return 0\n", close_to_42)) == ["WA"]  # a wrong answer stays wrong
    lowering = check_ref("import sys\nsys.setrecursionlimit(60)\nassert candidate(21) == 42")
    assert score(v, GOOD_CODE, lowering).passed
    deep = {"test": "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n"
                    "def check(candidate):\n    assert candidate(depth(200) // 10 + 1) == 42\n", "entry_point": "f"}
    assert score(v, GOOD_CODE, deep).passed


# -- 9. the lane dies while its box runs -------------------------------------------------------


def test_killed_lane_takes_its_box_along(one_lane):
    v = make_verifier(one_lane, time_limit=10.0, wall_time=20.0)  # nothing else ends the box soon
    assert_next_sample_passes(v)
    before = lane_procs(one_lane)
    marker = f"dx-{os.getpid() % 100000}"
    code = (
        "import time\n"
        "def f(x):\n"
        "    import ctypes\n"  # PR_SET_NAME: ps shows the marker (its /proc/self/comm is root's)
        f"    ctypes.CDLL(None, use_errno=True).prctl(15, {marker.encode()!r}, 0, 0, 0)\n"
        "    time.sleep(60)\n"
    )
    result: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.setdefault("score", score(v, code, GOOD_REF)))
    worker.start()
    try:
        box = None
        deadline = time.monotonic() + 10.0
        while box is None and time.monotonic() < deadline:
            for p in psutil.Process(one_lane.zygote_pid).children(recursive=True):
                try:
                    if p.name() == marker:
                        box = p
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.02)
        assert box is not None, "the box never started"
        lane = box.parent()
        assert lane.pid in before
        lane.kill()
        assert gone_within([box.pid], 3.0) == []  # PR_SET_PDEATHSIG, not the 20 s wall limit
        # Its parent is gone, so whatever reaps orphans here reaps it, in its own time:
        # wait for that, or the session's machine-wide check could see the zombie.
        gone_within([box.pid], 10.0, reaped=True)
    finally:
        worker.join(30)
    assert not worker.is_alive()
    s = result["score"]
    assert s.value is None and s.verdict is Verdict.ERROR, s
    assert gone_within(before, 3.0) == []  # its checker went too
    assert_next_sample_passes(v)
    assert_next_sample_passes(make_verifier(one_lane))


def test_idle_checker_death_costs_no_sample(private_lane):
    # An idle lane notices its checker died and ends; the parent then finds the lane gone
    # when it hands over the next sample (nothing ran) and gives the sample to a new lane.
    v = make_verifier(private_lane)
    assert_next_sample_passes(v)
    procs = lane_procs(private_lane)
    lane = [pid for pid in procs if os.getsid(pid) == pid]
    checker = [pid for pid in procs if os.getsid(pid) != pid]
    psutil.Process(checker[0]).kill()
    assert gone_within(lane, 3.0) == []
    for _ in range(3):
        assert_next_sample_passes(v)


def test_checker_dying_in_a_test_ends_the_sample_at_once(private_lane):
    # The lane hands the program's socket and pipes over to the checker, so when the
    # checker dies the program sees the end of its socket and the sample ends now, as a
    # sandbox error that says so, not at the sample's deadline.
    v = make_verifier(private_lane, wall_time=20.0)
    dying = check_ref("assert candidate(21) == 42\nimport os\nos._exit(3)")
    start = time.monotonic()
    s = score(v, GOOD_CODE, dying)
    assert s.value is None and s.verdict is Verdict.ERROR, s
    assert "checker" in s.reason, s
    assert time.monotonic() - start < 10.0  # the deadline is about 23 s
    assert_next_sample_passes(v)


def test_memory_error_in_a_call_is_mle_without_a_memory_cgroup(sandbox):
    # Without a memory cgroup the limit is RLIMIT_AS: the call's MemoryError comes back as
    # data, flagged, and must be graded MLE rather than a runtime error.
    from moreward.verifiers.code._cgroups import Cgroups

    box = Sandbox()
    box.max_lanes = 1
    try:
        box._cgroups = cg = Cgroups()
        cg.memory = cg.pids = False  # no slot for any lane
        v = OneLaneVerifier(time_limit=FAST.time, memory_mb=96,
                            limits={"wall_time": FAST.wall_time, "tmp_mb": FAST.tmp_mb})
        v.box = box
        bomb = "def f(x):\n    data = bytearray(512 << 20)\n    return len(data)\n"
        s = score(v, bomb, GOOD_REF)
        assert verdicts(s) == ["MLE"], s
        assert_next_sample_passes(v)
    finally:
        box.close()


def test_a_spare_box_that_died_waiting_costs_no_sample(private_lane):
    # The lane clones the next box ahead; if that box is gone when the sample comes (killed
    # from outside here), the lane clones another and the sample runs as usual.
    v = make_verifier(private_lane)
    assert_next_sample_passes(v)
    lane = [pid for pid in lane_procs(private_lane) if os.getsid(pid) == pid]
    deadline = time.monotonic() + 3.0
    spares: list[Any] = []
    while not spares and time.monotonic() < deadline:
        spares = psutil.Process(lane[0]).children()
        time.sleep(0.01)
    assert len(spares) == 1, spares
    spares[0].kill()
    assert gone_within([spares[0].pid], 3.0) == []
    for _ in range(2):
        assert_next_sample_passes(v)
