"""Known reward hacks (see shared/reference/code_sandbox.md §2.12): each one passes some
public harness; here each must score as a failure."""

from __future__ import annotations

import pytest

from moreward import Sample, Verdict
from moreward.verifiers.code import CodeVerifier

pytestmark = pytest.mark.timeout(60)

ADD_CHECK = {
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(20, 22) == 42\n",
    "entry_point": "add",
    "prompt": "def add(a, b):\n    '''Return a + b.'''\n",
}
ADD_CALLS = {"fn_name": "add", "inputs": [[1, 2], [20, 22]], "outputs": [3, 42]}
ADD_STDIO = [{"input": "1 2\n", "output": "3\n"}, {"input": "20 22\n", "output": "42\n"}]
WIDE_STDIO = [{"input": "3\n", "output": "1\n2\n3\n"}]


def block(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}\n```\n"


@pytest.fixture(scope="module")
def verifier(sandbox) -> CodeVerifier:
    return CodeVerifier(time_limit=1.0)


def assert_fails(score):
    assert score.value == 0.0, score
    assert score.verdict is Verdict.FAIL, score


def test_honest_solutions_pass(verifier):
    good = "def add(a, b):\n    return a + b\n"
    assert verifier.score(Sample(block(good), reference=ADD_CHECK)).passed
    assert verifier.score(Sample(block(good), reference=ADD_CALLS)).passed
    assert verifier.score(Sample(block("a, b = map(int, input().split())\nprint(a + b)"), reference=ADD_STDIO)).passed


@pytest.mark.parametrize("exit_call", ["exit(0)", "quit()", "import sys\nsys.exit(0)", "import os\nos._exit(0)",
                                       "raise SystemExit(0)"])
def test_exit_before_the_asserts(verifier, exit_call):
    code = f"def add(a, b):\n    return 0\n{exit_call}\n"
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CHECK)))
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CALLS)))
    assert_fails(verifier.score(Sample(block(exit_call), reference=ADD_STDIO)))


def test_exit_inside_the_function(verifier):
    code = "import os\ndef add(a, b):\n    os._exit(0)\n"
    score = verifier.score(Sample(block(code), reference=ADD_CHECK))
    assert_fails(score)
    assert score.details["verdicts"] == ["RE"]


ALWAYS_EQUAL = (
    "class Anything:\n"
    "    def __eq__(self, other):\n        return True\n"
    "    def __ne__(self, other):\n        return False\n"
    "    __hash__ = object.__hash__\n"
)


def test_always_equal_object(verifier):
    code = ALWAYS_EQUAL + "def add(a, b):\n    return Anything()\n"
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CHECK)))
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CALLS)))


def test_lying_builtin_subclass(verifier):
    code = (
        "class Liar(int):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    __hash__ = int.__hash__\n"
        "def add(a, b):\n    return Liar(0)\n"
    )
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CHECK)))
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CALLS)))


def test_prefix_of_the_expected_output(verifier):
    code = "n = int(input())\nprint(1)\n"  # expected "1\n2\n3\n"
    assert_fails(verifier.score(Sample(block(code), reference=WIDE_STDIO)))


@pytest.mark.parametrize("text", ["PASS", "All tests passed", "OK", "True"])
def test_printing_a_verdict(verifier, text):
    code = f"print({text!r})\n"
    assert_fails(verifier.score(Sample(block(code), reference=ADD_STDIO)))
    code = f"print({text!r})\ndef add(a, b):\n    print({text!r})\n    return None\n"
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CHECK)))


def test_monkeypatching_the_comparison(verifier):
    code = (
        "import builtins, operator, json, sys\n"
        "builtins.AssertionError = type('Nope', (Exception,), {})\n"
        "operator.eq = lambda a, b: True\n"
        "json.loads = lambda *a, **k: {'ok': True}\n"
        "json.dumps = lambda *a, **k: '{\"ok\": 3}'\n"
        "for name, mod in list(sys.modules.items()):\n"
        "    for attr in ('run_check', 'values_equal', 'classify', 'encode', 'dumps'):\n"
        "        if hasattr(mod, attr):\n"
        "            try:\n                setattr(mod, attr, lambda *a, **k: ('AC', ''))\n"
        "            except Exception:\n                pass\n"
        "def add(a, b):\n    return 0\n"
    )
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CHECK)))
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CALLS)))


def test_reading_the_harness_for_the_answers(verifier):
    # The expected answer exists only in the test code. The program hunts for it in its
    # own memory, in init's memory and files, and in any file it can see.
    test = "SECRET = 'tok-5e1f2a'\ndef check(candidate):\n    assert candidate() == SECRET\n"
    code = (
        "import gc, os, re\n"
        "def steal():\n"
        "    pat = re.compile(rb'tok-[0-9a-f]{6}')\n"
        "    for o in gc.get_objects():\n"
        "        if isinstance(o, dict):\n"
        "            for v in o.values():\n"
        "                if isinstance(v, str) and v.startswith('tok-') and len(v) == 10:\n"
        "                    return v\n"
        "    for path in ['/proc/1/mem', '/proc/1/environ', '/proc/1/cmdline', '/proc/self/environ']:\n"
        "        try:\n            m = pat.search(open(path, 'rb').read())\n"
        "            if m:\n                return m.group().decode()\n"
        "        except OSError:\n            pass\n"
        "    for fd in os.listdir('/proc/self/fd'):\n"
        "        try:\n            m = pat.search(os.pread(int(fd), 1 << 20, 0))\n"
        "            if m:\n                return m.group().decode()\n"
        "        except OSError:\n            pass\n"
        "    for pid in os.listdir('/proc'):\n"
        "        if pid.isdigit():\n"
        "            for fd in os.listdir(f'/proc/{pid}/fd') if os.access(f'/proc/{pid}/fd', os.R_OK) else []:\n"
        "                try:\n                    m = pat.search(open(f'/proc/{pid}/fd/{fd}', 'rb').read(1 << 20))\n"
        "                    if m:\n                        return m.group().decode()\n"
        "                except OSError:\n                    pass\n"
        "    return None\n"
    )
    ref = {"test": test, "entry_point": "steal"}
    assert_fails(verifier.score(Sample(block(code), reference=ref)))


def test_editing_the_harness(verifier):
    code = (
        "import sys, os\n"
        "for mod in list(sys.modules.values()):\n"
        "    path = getattr(mod, '__file__', None) or ''\n"
        "    if 'moreward' in path or '_box' in path:\n"
        "        try:\n            open(path, 'a').write('\\n# pwned\\n')\n"
        "        except OSError:\n            pass\n"
        "def add(a, b):\n    return 0\n"
    )
    assert_fails(verifier.score(Sample(block(code), reference=ADD_CHECK)))
    import moreward.verifiers.code._checker as checker

    with open(checker.__file__) as f:
        assert "pwned" not in f.read()


def test_patching_helpers_the_test_trusts(verifier):
    # HumanEval/32-style: the test calls a helper from the prompt; the program's own
    # definition of that helper must not replace the trusted one.
    ref = {
        "prompt": "def poly(xs, x):\n    return sum(c * x ** i for i, c in enumerate(xs))\n\ndef find_zero(xs):\n    ''''''\n",
        "test": "def check(candidate):\n    assert abs(poly([-6, 11, -6, 1], candidate([-6, 11, -6, 1]))) < 1e-6\n",
        "entry_point": "find_zero",
    }
    cheat = "def poly(xs, x):\n    return 0\n\ndef find_zero(xs):\n    return 123.0\n"
    assert_fails(verifier.score(Sample(block(cheat), reference=ref)))
    honest = "def poly(xs, x):\n    return sum(c * x ** i for i, c in enumerate(xs))\n\ndef find_zero(xs):\n    return 1.0\n"
    assert verifier.score(Sample(block(honest), reference=ref)).passed
