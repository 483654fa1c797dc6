"""CodeVerifier's API: registry, options, extraction, reward modes, errors, pickling."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from moreward import ConfigError, Sample, SandboxError, Verdict, registry
from moreward.verifiers.code import (
    CodeVerifier,
    Limits,
    Sandbox,
    available_languages,
    extract_code,
    run_python,
)

pytestmark = pytest.mark.timeout(60)
SQUARES = [{"input": f"{i}\n", "output": f"{i * i}\n"} for i in range(4)]
HALF = "n = int(input())\nprint(n * n if n < 2 else 0)"  # passes tests 0 and 1 only


def block(code: str, tag: str = "python") -> str:
    return f"Reasoning...\n```{tag}\n{code}\n```\nDone."


def test_registry_builds_it():
    v = registry.get("code", mode="all_or_nothing", time_limit=1.0)
    assert isinstance(v, CodeVerifier) and v.name == "code" and v.__name__ == "code"
    with pytest.raises(ConfigError, match="allowed"):
        registry.get("code", nope=1)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"mode": "best"}, "pass_rate, all_or_nothing, first_failure, weighted"),
        ({"extract": "middle"}, "last_block, first_block, auto, full"),
        ({"tests": "fuzz"}, "auto, stdio, call, assert"),
        ({"language": "cobol"}, "available"),
        ({"compare": "fuzzy"}, "lines, tokens, exact"),
        ({"time_limit": 0}, "positive"),
        ({"limits": {"bogus": 1}}, "allowed"),
        ({"limits": {"time": 1}}, "time_limit"),
        ({"require": ["magic"]}, "pid_ns"),
        ({"checker": 3}, "callable"),
        ({"workers": 0}, ">= 1"),
    ],
)
def test_options_are_validated(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        CodeVerifier(**kwargs)


def test_pickles_and_compares():
    v = CodeVerifier(mode="weighted", time_limit=1.5, limits={"output_bytes": 1000})
    w = pickle.loads(pickle.dumps(v))
    assert w == v and w.limits == {"output_bytes": 1000} and repr(w).startswith("CodeVerifier(")


def test_extract_code():
    text = "a\n```py\nfirst\n```\nb\n```cpp\nint x;\n```\n```\nlast\n```\n"
    assert extract_code(text) == ("last\n", None)
    assert extract_code(text, "first_block") == ("first\n", "py")
    assert extract_code(text, language="cpp") == ("last\n", None)  # untagged blocks count
    assert extract_code("```cpp\nint x;\n```\n```python\nx = 1\n```", language="cpp") == ("int x;\n", "cpp")
    assert extract_code("no fences") == (None, None)
    assert extract_code("print(1)", "auto") == ("print(1)", None)
    assert extract_code("```python\nunterminated") == (None, None)


def test_no_code_block_is_invalid(sandbox):
    s = CodeVerifier().score(Sample("I think the answer is 4.", reference=SQUARES))
    assert s.verdict is Verdict.INVALID and s.value == 0.0


def test_bad_reference_is_skip():
    s = CodeVerifier().score(Sample(block("print(1)"), reference={"what": "ever"}))
    assert s.verdict is Verdict.SKIP and s.value is None


@pytest.mark.parametrize(
    "mode,value,verdict",
    [("pass_rate", 0.5, Verdict.PARTIAL), ("all_or_nothing", 0.0, Verdict.FAIL),
     ("first_failure", 0.5, Verdict.PARTIAL), ("weighted", 0.2, Verdict.PARTIAL)],
)
def test_reward_modes(sandbox, mode, value, verdict):
    ref = {"tests": SQUARES, "weights": [1, 1, 4, 4]}
    s = CodeVerifier(mode=mode).score(Sample(block(HALF), reference=ref))
    assert s.value == pytest.approx(value) and s.verdict is verdict


def test_fail_fast_skips_the_rest(sandbox):
    code = "n = int(input())\nprint(n * n if n != 1 else -1)"
    s = CodeVerifier(mode="all_or_nothing").score(Sample(block(code), reference=SQUARES))
    assert s.value == 0.0
    assert s.details["verdicts"][:2] == ["AC", "WA"]
    assert set(s.details["verdicts"][2:]) <= {"SKIP", "AC"}
    full = CodeVerifier(mode="all_or_nothing", fail_fast=False).score(Sample(block(code), reference=SQUARES))
    assert full.details["verdicts"] == ["AC", "WA", "AC", "AC"]


def _parity_checker(stdin: str, expected: str, actual: str) -> float:
    return 1.0 if int(actual) % 2 == int(expected) % 2 else 0.25


def test_checker_hook(sandbox):
    v = CodeVerifier(checker=_parity_checker)
    s = v.score(Sample(block("n = int(input())\nprint(n * n + 2)"), reference=SQUARES))
    assert s.passed
    s = v.score(Sample(block("print(1)"), reference=SQUARES))
    assert s.value == pytest.approx((0.25 + 1 + 0.25 + 1) / 4)
    assert pickle.loads(pickle.dumps(v)).checker is _parity_checker


def test_function_calls(sandbox):
    ref = {"fn_name": "twoSum", "inputs": [[[2, 7, 11, 15], 9], [[3, 3], 6]], "outputs": [[0, 1], [0, 1]]}
    leet = "class Solution:\n    def twoSum(self, nums, target):\n        seen = {}\n" \
           "        for i, x in enumerate(nums):\n            if target - x in seen:\n" \
           "                return [seen[target - x], i]\n            seen[x] = i\n"
    assert CodeVerifier().score(Sample(block(leet), reference=ref)).passed
    raises = "def twoSum(nums, target):\n    if target == 6:\n        raise KeyError('x')\n    return (0, 1)\n"
    s = CodeVerifier().score(Sample(block(raises), reference=ref))
    assert s.details["verdicts"] == ["AC", "RE"]
    slow = "def twoSum(nums, target):\n    while target == 9:\n        pass\n    return [0, 1]\n"
    s = CodeVerifier(time_limit=0.3, limits={"wall_time": 0.8}).score(Sample(block(slow), reference=ref))
    assert s.details["verdicts"] == ["TLE", "AC"]  # a call past its budget costs only that call


def test_limits_from_the_reference(sandbox):
    ref = {"tests": SQUARES[:1], "time_limit": 0.3, "memory_limit": 64}
    s = CodeVerifier(limits={"wall_time": 1.0}).score(Sample(block("while True: pass"), reference=ref))
    assert s.details["verdicts"] == ["TLE"]
    s = CodeVerifier().score(Sample(block("x = bytearray(200 << 20)\nprint(0)"), reference=ref))
    assert s.details["verdicts"] == ["MLE"]


def test_sandbox_failure_is_error_not_zero(sandbox, monkeypatch):
    v = CodeVerifier()

    def broken(*args, **kwargs):
        raise SandboxError("lane vanished")

    monkeypatch.setattr(Sandbox, "_box", broken)
    s = v.score(Sample(block("print(0)"), reference=SQUARES))
    assert s.verdict is Verdict.ERROR and s.value is None and "lane vanished" in s.reason


def test_refuses_without_required_isolation(sandbox, monkeypatch):
    box = Sandbox(require=("pid_ns", "net_ns"))
    caps = sandbox.capabilities()
    monkeypatch.setattr(box, "_caps", type(caps)(**{**caps.as_dict(), "net_ns": False}))
    with pytest.raises(SandboxError, match="net_ns"):
        box.run("print(1)")
    box.close()


def test_batch_async_and_order(sandbox):
    v = CodeVerifier(workers=2)
    samples = [Sample(block(f"input()\nprint({k})"), reference=[{"input": "0\n", "output": "1\n"}]) for k in range(6)]
    scores = v.score_batch(samples)
    assert [s.passed for s in scores] == [False, True, False, False, False, False]
    again = asyncio.run(v.ascore_batch(samples))
    assert [s.value for s in again] == [s.value for s in scores]


def test_run_python_helper(sandbox):
    res = run_python("import sys\nprint(sum(map(int, sys.stdin.read().split())))", stdin="1 2 3\n")
    assert res.ok and res.stdout == "6\n"
    res = run_python("raise ValueError('no')")
    assert res.status == "RE" and "ValueError: no" in res.stderr
    assert run_python("def f(:\n  pass").status == "CE"


def test_languages_and_limits():
    assert available_languages()[0] == "python"
    assert Limits(time=1).wall == 3.0 and Limits(wall_time=5).wall == 5.0
    with pytest.raises(ConfigError):
        Limits(memory_mb=-1)


@pytest.mark.parametrize(
    "reference",
    [
        "42",
        "add(1, 2) == 3",
        ["add(1, 2) == 3", "add(2, 2) == 4"],
        {"test_list": ["add(1, 2) == 3"]},
        {"test": "def check(candidate):\n    candidate(1, 2)\n", "entry_point": "add"},
    ],
)
def test_assert_style_tests_without_a_check_are_ungradeable(reference):
    """A 'test' with no assert or raise passes any program that runs: never a PASS, always SKIP."""
    wrong = "```python\ndef add(a, b):\n    return a - b\n```"
    score = CodeVerifier().score(Sample(wrong, reference=reference))
    assert score.verdict is Verdict.SKIP and score.value is None
    assert "no assert or raise" in score.reason


@pytest.mark.parametrize("test", [
    "def check(candidate):\n    assert True\n",  # compiled away: nothing can fail
    "def check(candidate):\n    while True:\n        pass\n    assert candidate(1) == 1\n",  # unreachable
    "def check(candidate):\n    x = 'assert raise'\n",  # the words only
])
def test_assert_style_tests_that_cannot_fail_are_ungradeable(test):
    s = CodeVerifier().score(Sample("```python\ndef f(x):\n    return x\n```",
                                    reference={"test": test, "entry_point": "f"}))
    assert s.verdict is Verdict.SKIP and "any program would pass" in s.reason, s
