"""The pytest plugin, run in child pytest sessions (pytester): golden-case files with every
expectation kind, passing and failing; bad files; the options, the ini option, the marker
and the fixtures. Child runs are slow, so each run checks many things at once."""

from __future__ import annotations

import textwrap

import pytest

from moreward.testing import cases as cases_mod
from moreward.testing import plugin

CONFIG = r"""
[objectives.answer]
type = "exact_match"
extract = "answer_tag"

[objectives.format]
type = "regex"
pattern = '^<think>.+</think>\s*<answer>.+</answer>$'
mode = "fullmatch"
flags = "s"

[combiner]
method = "weighted_sum"
weights = { answer = 1.0, format = 0.5 }
"""

# Objectives of the child session: one that reports its batch size, one that raises.
CONFTEST = """
from moreward import BaseObjective, Score, Verdict, register


@register("batch_size")
class BatchSize(BaseObjective):
    name = "batch_size"

    def score(self, sample):
        return Score(1.0, Verdict.PASS, "alone")

    def score_batch(self, samples):
        return [Score(float(len(samples)), Verdict.PASS, "batch") for _ in samples]


@register("boom")
class Boom(BaseObjective):
    name = "boom"

    def score_batch(self, samples):
        raise RuntimeError("boom: the reward itself is broken")
"""

YAML_CASES = """
defaults:
  objective: {type: exact_match, extract: answer_tag}
  reference: Paris
cases:
  - id: value-pass
    completion: "<answer>Paris</answer>"
    expect: {value: 1.0}
  - id: value-fail
    completion: "<answer>Rome</answer>"
    expect: {value: 1.0}
  - id: range-pass
    completion: "<answer>Paris</answer>"
    expect: {min: 0.5, max: 1.0}
  - id: range-fail
    completion: "<answer>Rome</answer>"
    expect: {min: 0.5}
  - id: verdict-pass
    completion: "Paris"
    expect: {verdict: [invalid, fail]}
  - id: verdict-fail
    completion: "<answer>Paris</answer>"
    expect: {verdict: fail}
  - id: reason-pass
    completion: "<answer>Rome</answer>"
    expect: {reason: "differ"}
  - id: reason-fail
    completion: "<answer>Rome</answer>"
    expect: {reason: "^equal"}
  - id: none-pass
    completion: "<answer>Paris</answer>"
    reference: null
    expect: {value: null, verdict: skip}
  - id: higher-pass
    completion: "<answer>Paris</answer>"
    expect: {higher_than: [base]}
  - id: higher-fail
    completion: "<answer>Rome</answer>"
    expect: {higher_than: base}
  - id: lower-pass
    completion: "<answer>Lyon</answer>"
    expect: {lower_than: higher-pass}
  - id: base
    completion: "<answer>Lyon</answer>"
  - id: chat-pass
    completion:
      - {role: user, content: "Capital of France?"}
      - {role: assistant, content: [{type: text, text: "<answer>Paris</answer>"}]}
    expect: {value: 1}
  - id: skipped
    skip: not ready
    completion: x
    expect: {value: 1}
  - id: known-bug
    xfail: exact_match knows no synonyms
    completion: "<answer>City of Light</answer>"
    expect: {value: 1}
  - id: marked-slow
    marks: [slow]
    completion: "<answer>Paris</answer>"
    expect: {value: 1}
"""

TOML_CASES = r"""
[defaults]
objective = { type = "regex", pattern = '^\d+$', mode = "fullmatch" }

[[cases]]
id = "toml-pass"
completion = "42"
expect = { value = 1.0, verdict = "pass" }

[[cases]]
id = "toml-fail"
completion = "forty-two"
expect = { value = 1.0 }
"""

JSONL_CASES = """\
{"defaults": {"config": "cfg.toml"}}
{"id": "reward-pass", "completion": "<think>t</think><answer>4</answer>", "reference": "4", "expect": {"value": 1.5}}
{"id": "reward-fail", "completion": "<answer>4</answer>", "reference": "4", "expect": {"min": 1.5}}
{"id": "component-pass", "component": "format", "completion": "<think>t</think><answer>5</answer>", "reference": "4", "expect": {"verdict": "pass"}}
{"id": "grouped-1", "objective": "batch_size", "group": "g", "completion": "a", "expect": {"value": 3}}
{"id": "grouped-2", "objective": "batch_size", "group": "g", "completion": "b", "expect": {"value": 3}}
{"id": "grouped-3", "objective": "batch_size", "group": "g", "completion": "c", "expect": {"value": 3}}
{"id": "alone", "objective": "batch_size", "completion": "d", "expect": {"value": 1}}
{"id": "raises", "objective": "boom", "completion": "d", "expect": {"value": 1}}
{"id": "unknown-objective", "objective": "exact_mach", "completion": "d", "expect": {"value": 1}}
"""

# Session-config cases: no objective, no config: --moreward-config is used.
SESSION_CASES = """
cases:
  - id: session-config
    completion: "<think>t</think><answer>4</answer>"
    reference: "4"
    expect: {value: 1.5}
"""

FIXTURE_TESTS = """
import pytest

def test_score_fixture(score):
    r = score("<think>t</think><answer>4</answer>", reference="4")
    assert r.reward == 1.5 and r.components["answer"].passed

def test_score_batch_rows(score):
    a, b = score.batch([{"completion": "<answer>4</answer>", "reference": "4"}, "<answer>4</answer>"])
    assert a.reward == 1.0 and b.raw["answer"] is None

def test_pipeline_fixture(moreward_pipeline):
    assert moreward_pipeline.names == ["answer", "format"]

@pytest.mark.moreward(config="other.toml")
def test_marker_config(moreward_pipeline):
    assert moreward_pipeline.names == ["em"]

@pytest.mark.moreward(config={"objectives": {"inline": {"type": "exact_match"}}, "combiner": {"method": "weighted_sum"}})
def test_marker_inline_config(score):
    assert score("x", reference="x").reward == 1.0

@pytest.mark.moreward(confg="other.toml")
def test_marker_bad_argument(moreward_pipeline):
    pass

@pytest.mark.moreward(config="missing.toml")
def test_marker_missing_file(moreward_pipeline):
    pass
"""


def match(result: pytest.RunResult, lines: list[str]) -> None:
    """``fnmatch_lines`` where ``[`` is literal (ids like ``cases[1]``); ``*`` stays a wildcard."""
    result.stdout.fnmatch_lines([line.replace("[", "[[]") for line in lines])


def test_case_files_and_fixtures(run, mpytester: pytest.Pytester) -> None:
    mpytester.makeini(
        textwrap.dedent(
            """
            [pytest]
            addopts = --strict-markers -p no:cacheprovider
            markers = slow: slow tests
            filterwarnings =
                error
                ignore::DeprecationWarning:antlr4.*
            """
        )
    )
    mpytester.makeconftest(CONFTEST)
    mpytester.makefile(".toml", cfg=CONFIG, other='[objectives.em]\ntype = "exact_match"\n')
    mpytester.makefile(".yaml", reward_cases_kinds=YAML_CASES, reward_cases_session=SESSION_CASES)
    mpytester.makefile(".toml", reward_cases_regex=TOML_CASES)
    mpytester.makefile(".jsonl", reward_cases_pipeline=JSONL_CASES)
    mpytester.makepyfile(test_fixtures=FIXTURE_TESTS)
    result = run.sub("-v", "-rs", "--moreward-config", "cfg.toml")
    result.assert_outcomes(passed=22, failed=9, skipped=1, xfailed=1, errors=2)
    outcomes = {
        "PASSED": [
            "value-pass", "range-pass", "verdict-pass", "reason-pass", "none-pass", "higher-pass", "lower-pass",
            "chat-pass", "marked-slow", "toml-pass", "reward-pass", "component-pass", "grouped-1", "grouped-2",
            "grouped-3", "alone", "session-config",
        ],
        "FAILED": ["value-fail", "range-fail", "verdict-fail", "reason-fail", "higher-fail", "toml-fail",
                   "reward-fail", "raises", "unknown-objective"],
    }  # fmt: skip
    lines = result.stdout.lines
    for word, ids in outcomes.items():
        for case_id in ids:
            assert any(f"::{case_id} {word}" in line for line in lines), (case_id, word)
    match(
        result,
        [
            "moreward: config *cfg.toml",
            "*reward_cases_kinds.yaml::skipped SKIPPED*",
            "*reward_cases_kinds.yaml::known-bug XFAIL*",
            "*test_fixtures.py::test_marker_bad_argument ERROR*",
            "*test_fixtures.py::test_marker_missing_file ERROR*",
        ],
    )
    # Failure messages: what was returned, the verdict, the reason and the extracted answer.
    match(
        result,
        [
            "*case 'value-fail' (reward_cases_kinds.yaml, cases[1]): value 0 is not 1 (tol 1e-09)",
            "  expected:  value 1",
            "  reward:    exact_match(extract='answer_tag')",
            "  value:     0",
            "  verdict:   fail",
            "  reason:    normalised strings differ",
            "  extracted: 'Rome'",
            "  completion: '<answer>Rome</answer>'",
            "  reference:  'Paris'",
        ],
    )
    match(result, ["*case 'range-fail'*: value 0 is not in [0.5, inf]"])
    match(result, ["*case 'verdict-fail'*: verdict pass is not fail"])
    match(result, ["*case 'reason-fail'*: reason 'normalised strings differ' does not match '^equal'"])
    match(result, ["*case 'higher-fail'*: value 0 is not higher than case 'base' (0)"])
    match(result, ["*case 'toml-fail' (reward_cases_regex.toml, cases[1]): value 0 is not 1*"])
    match(
        result,
        [
            "*case 'reward-fail' (reward_cases_pipeline.jsonl, line 3): value 1 is not in [1.5, inf]*",
            "*reward:    pipeline cfg.toml",
            "*value:     1",
            "*answer: 1 (pass) normalised strings are equal; extracted '4'*",
            "*format: 0 (fail) pattern not matched",
        ],
    )
    match(result, ["*RuntimeError: boom: the reward itself is broken"])
    match(
        result,
        [
            "*reward_cases_pipeline.jsonl: case 'unknown-objective' (line 10): objective: unknown objective type "
            "'exact_mach'; did you mean 'exact_match'*"
        ],
    )
    match(result, ["*@pytest.mark.moreward: unknown argument(s) 'confg'; allowed: config*"])
    match(result, ["*moreward_pipeline: *missing.toml: cannot read the config*"])


BAD_FILES = {
    "reward_cases_keys.yaml": "cases:\n  - id: a\n    completion: x\n    expct: {value: 1}\n",
    "reward_cases_verdict.yaml": "cases:\n  - id: v\n    objective: exact_match\n    completion: x\n    expect: {verdict: pas}\n",
    "reward_cases_order.yaml": "cases:\n  - id: o\n    objective: exact_match\n    completion: x\n    expect: {higher_than: nope}\n",
    "reward_cases_syntax.yaml": "cases: [\n",
    "reward_cases_types.toml": '[[cases]]\nid = "t"\nobjective = "exact_match"\ncompletion = 3\nexpect = { value = 1 }\n',
    "reward_cases_json.jsonl": '{"id": "j", "objective": "exact_match", "completion": "x", "expect": {"value": 1}}\n{oops\n',
    "reward_cases_marks.yaml": "cases:\n  - id: m\n    objective: exact_match\n    completion: x\n    marks: [nosuchmark]\n    expect: {value: 1}\n",
}


def test_bad_case_files_name_the_file_case_and_field(run, mpytester: pytest.Pytester) -> None:
    for name, text in BAD_FILES.items():
        (mpytester.path / name).write_text(text)
    result = run.inproc("-q")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=len(BAD_FILES))
    for line in [
        "*reward_cases_keys.yaml: case 'a' (cases[0]): expct: unknown key; allowed: id, description, objective,*",
        "*reward_cases_verdict.yaml: case 'v' (cases[0]): expect.verdict: 'pas' is not a verdict; allowed: pass, fail,*",
        "*reward_cases_order.yaml: case 'o' (cases[0]): expect.higher_than: no case with id 'nope' in this file*",
        "*reward_cases_syntax.yaml: not valid YAML:*",
        "*reward_cases_types.toml: case 't' (cases[0]): completion: must be a string or a list of chat messages, got int",
        "*reward_cases_json.jsonl: line 2: not valid JSON:*",
        "*reward_cases_marks.yaml: case 'm' (cases[0]): marks: 'nosuchmark' not found in `markers` configuration option",
    ]:
        match(result, [line])


def test_options_ini_and_help(run, mpytester: pytest.Pytester) -> None:
    mpytester.makefile(".toml", cfg=CONFIG)
    mpytester.makefile(".yaml", reward_cases_session=SESSION_CASES)
    mpytester.makepyfile(test_fix="def test_needs_config(moreward_pipeline):\n    pass\n")

    help_ = run.inproc("--help")
    help_.stdout.fnmatch_lines(
        [
            "moreward: reward tests*",
            "*--moreward-config=PATH*",
            "*--moreward-no-cases*",
            "*--moreward-details*",
        ]
    )
    help_.stdout.fnmatch_lines(["*moreward_config (string):*"])
    markers = run.inproc("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.moreward(config):*", "@pytest.mark.moreward_case:*"])

    missing = run.inproc("--moreward-config", "nope.toml")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*--moreward-config: pipeline config not found: nope.toml*"])

    # No config anywhere: the session case and the fixture fail with what to do.
    none = run.inproc("-q")
    none.assert_outcomes(failed=1, errors=1)
    none.stdout.fnmatch_lines(
        ["*objective: the case names no 'objective' or 'config'*--moreward-config PATH*"]
    )
    none.stdout.fnmatch_lines(["*moreward_pipeline needs a pipeline config: pass --moreward-config PATH*"])

    # --moreward-no-cases: case files are not collected.
    no_cases = run.inproc("-q", "--moreward-no-cases", "--moreward-config", "cfg.toml")
    no_cases.assert_outcomes(passed=1)

    # Golden cases carry the moreward_case marker.
    by_marker = run.inproc("-q", "-m", "not moreward_case", "--moreward-config", "cfg.toml")
    by_marker.assert_outcomes(passed=1, deselected=1)

    # --moreward-details adds the score's details to a failure.
    mpytester.makefile(
        ".yaml",
        reward_cases_fail="cases: [{id: f, objective: exact_match, completion: b, reference: a, expect: {value: 1}}]",
    )
    details = run.inproc("-q", "--moreward-details", "reward_cases_fail.yaml")
    details.assert_outcomes(failed=1)
    details.stdout.fnmatch_lines(["  extracted: 'b'", "  details:   {'extracted': 'b'}"])
    (mpytester.path / "reward_cases_fail.yaml").unlink()

    # The ini option, relative to the ini file; a missing file is a usage error.
    mpytester.makeini("[pytest]\naddopts = -p no:cacheprovider\nmoreward_config = cfg.toml\n")
    by_ini = run.inproc("-q")
    by_ini.assert_outcomes(passed=2)
    mpytester.makeini("[pytest]\nmoreward_config = gone.toml\n")
    gone = run.inproc("-q")
    assert gone.ret == pytest.ExitCode.USAGE_ERROR
    gone.stderr.fnmatch_lines(["*moreward_config = 'gone.toml'*pipeline config not found*"])


def test_plugin_patterns_match_the_case_module() -> None:
    assert plugin.CASE_FILE_PATTERNS == cases_mod.CASE_FILE_PATTERNS
