"""stdin/stdout problems (floats, trailing spaces, blank lines) and compiled languages."""

from __future__ import annotations

import pytest

from moreward import Sample, Verdict
from moreward.verifiers.code import CodeVerifier, Limits, available_languages

pytestmark = pytest.mark.timeout(120)


def block(code: str, tag: str = "python") -> str:
    return f"```{tag}\n{code}\n```"


@pytest.fixture(scope="module")
def verifier(sandbox) -> CodeVerifier:
    return CodeVerifier(language="auto", time_limit=2.0)


AREA = [{"input": "1\n", "output": "3.141593\n"}, {"input": "2\n", "output": "12.566371\n"}]


@pytest.mark.parametrize(
    "code,passed",
    [
        ("import math\nr = int(input())\nprint(f'{math.pi * r * r:.6f}')", True),
        ("import math\nr = int(input())\nprint(math.pi * r * r)", True),  # more digits: within tolerance
        ("import math\nr = int(input())\nprint(f'{math.pi * r * r:.2f}')", False),  # too coarse
        ("r = int(input())\nprint(3 * r * r)", False),
    ],
)
def test_float_outputs(verifier, code, passed):
    assert verifier.score(Sample(block(code), reference=AREA)).passed is passed


def test_float_tolerance_is_configurable(sandbox):
    coarse = "import math\nr = int(input())\nprint(f'{math.pi * r * r:.2f}')"
    loose = CodeVerifier(rel_tol=1e-3, abs_tol=1e-3)
    assert loose.score(Sample(block(coarse), reference=AREA)).passed


def test_trailing_spaces_and_blank_lines(verifier):
    ref = [{"input": "", "output": "1 2 3\n4 5 6\n"}]
    assert verifier.score(Sample(block("print('1 2 3   ')\nprint('4 5 6')\nprint()\nprint()"), reference=ref)).passed
    assert verifier.score(Sample(block("print('1  2 3')\nprint('4 5 6', end='')"), reference=ref)).passed
    # a blank line in the middle changes the line count; a missing line is a prefix
    assert not verifier.score(Sample(block("print('1 2 3')\nprint()\nprint('4 5 6')"), reference=ref)).passed
    assert not verifier.score(Sample(block("print('1 2 3')"), reference=ref)).passed


def test_exact_mode_is_strict(sandbox):
    exact = CodeVerifier(compare="exact")
    ref = [{"input": "", "output": "a b\n"}]
    assert exact.score(Sample(block("print('a b')"), reference=ref)).passed
    assert not exact.score(Sample(block("print('a b ')"), reference=ref)).passed


def test_pass_rate_and_verdicts(verifier):
    ref = [{"input": f"{i}\n", "output": f"{i * i}\n"} for i in range(4)]
    code = "n = int(input())\nif n == 3:\n    raise ValueError('boom')\nprint(n * n if n != 2 else 0)"
    score = verifier.score(Sample(block(code), reference=ref))
    assert score.value == pytest.approx(0.5)
    assert score.verdict is Verdict.PARTIAL
    assert score.details["verdicts"] == ["AC", "AC", "WA", "RE"]
    assert "ValueError" not in score.reason or "RE" in score.reason


C_SUM = "#include <stdio.h>\nint main(void){long a,b;if(scanf(\"%ld %ld\",&a,&b)!=2)return 1;printf(\"%ld\\n\",a+b);return 0;}"
CPP_SUM = "#include <bits/stdc++.h>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a+b<<'\\n';}"
SUM = [{"input": "1 2\n", "output": "3\n"}, {"input": "1000000000000 1\n", "output": "1000000000001\n"}]


@pytest.mark.parametrize("tag,code", [("c", C_SUM), ("cpp", CPP_SUM)])
def test_c_and_cpp(verifier, tag, code):
    if tag not in available_languages():
        pytest.skip(f"no {tag} compiler")
    score = verifier.score(Sample(block(code, tag), reference=SUM))
    assert score.passed, score
    assert score.details["language"] == tag


@pytest.mark.parametrize("tag", ["c", "cpp"])
def test_compile_error_is_ce(verifier, tag):
    if tag not in available_languages():
        pytest.skip(f"no {tag} compiler")
    score = verifier.score(Sample(block("int main( { return 0; }", tag), reference=SUM))
    assert score.value == 0.0 and score.verdict is Verdict.FAIL
    assert score.details["verdicts"] == ["CE", "CE"]
    assert "error" in score.details["tests"][0]["reason"]


@pytest.mark.parametrize(
    "tag,code,verdict",
    [
        ("c", "int main(void){int *p=0;*p=1;return 0;}", "RE"),
        ("c", "int main(void){return 3;}", "RE"),
        ("cpp", "#include <vector>\nint main(){std::vector<int> v;return v.at(5);}", "RE"),
        ("c", "int main(void){for(;;);}", "TLE"),
        ("c", "#include <stdlib.h>\n#include <string.h>\nint main(void){for(;;){char*p=malloc(1<<24);"
              "if(!p)return 9;memset(p,1,1<<24);}}", "MLE"),
        ("c", "#include <unistd.h>\nint main(void){for(;;)fork();}", "TLE"),
    ],
)
def test_native_runtime_failures(sandbox, tag, code, verdict):
    if tag not in available_languages():
        pytest.skip(f"no {tag} compiler")
    res = sandbox.run(code, language=tag, limits=Limits(time=0.5, wall_time=1.5, memory_mb=128))
    if verdict == "MLE" and not sandbox.capabilities().cgroup_memory:
        verdict = "RE"  # with only RLIMIT_AS, malloc fails and the program exits on its own
    assert res.status == verdict, res


@pytest.mark.parametrize(
    "tag,code",
    [
        ("javascript", "const [a,b]=require('fs').readFileSync(0,'utf8').trim().split(/\\s+/).map(BigInt);"
                       "console.log((a+b).toString());"),
        ("java", "import java.util.*;\npublic class Sum { public static void main(String[] x) {"
                 " Scanner s = new Scanner(System.in); System.out.println(s.nextLong() + s.nextLong()); } }"),
        ("rust", "use std::io::Read;\nfn main(){let mut s=String::new();std::io::stdin().read_to_string(&mut s)"
                 ".unwrap();let v:Vec<i64>=s.split_whitespace().map(|x|x.parse().unwrap()).collect();"
                 "println!(\"{}\",v[0]+v[1]);}"),
    ],
)
def test_other_languages_when_installed(verifier, tag, code):
    if tag not in available_languages():
        pytest.skip(f"{tag} toolchain not installed")
    score = verifier.score(Sample(block(code, tag), reference=SUM))
    assert score.passed, score


def test_unknown_or_missing_language_is_skipped(verifier):
    score = verifier.score(Sample(block("print(1)", "cobol"), reference=SUM))
    assert score.passed is False
    s2 = CodeVerifier(language="python").score(Sample(block("x"), reference={"tests": SUM, "language": "brainfuck"}))
    assert s2.verdict is Verdict.SKIP and "available" in s2.reason


def test_many_tests_in_one_sample(verifier):
    ref = [{"input": f"{i} {i}\n", "output": f"{2 * i}\n"} for i in range(200)]
    score = verifier.score(Sample(block("a, b = map(int, input().split())\nprint(a + b)"), reference=ref))
    assert score.passed and score.details["total"] == 200
