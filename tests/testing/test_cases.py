"""Golden-case files without pytester: loading, defaults, every validation error (naming the
file, the case and the field), and the runner (batching by group, components, orderings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from moreward import BaseObjective, Sample, Score, Verdict, registry
from moreward.testing import CaseFileError, load_cases
from moreward.testing._runner import CaseFailed, CaseRunner
from moreward.testing.cases import is_case_file

CFG = (
    '[objectives.answer]\ntype = "exact_match"\nextract = "answer_tag"\n[combiner]\nmethod = "weighted_sum"\n'
)


@registry.register("testing_batch_len")
class BatchLen(BaseObjective):
    """Scores every sample with the size of its batch (to see grouping)."""

    name = "testing_batch_len"
    built = 0

    def __init__(self) -> None:
        type(self).built += 1

    def score(self, sample: Sample) -> Score:
        return Score(1.0, Verdict.PASS)

    def score_batch(self, samples: list[Sample]) -> list[Score]:  # type: ignore[override]
        return [Score(float(len(samples)), Verdict.PASS, "batch") for _ in samples]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_patterns() -> None:
    for name in ("reward_cases.yaml", "reward_cases_math.yml", "reward_cases-x.toml", "reward_cases.jsonl"):
        assert is_case_file(name)
    for name in ("cases.yaml", "reward_cases.json", "my_reward_cases.yaml", "reward_cases.txt"):
        assert not is_case_file(name)


def test_defaults_ids_and_paths(tmp_path: Path) -> None:
    write(tmp_path, "cfg.toml", CFG)
    path = write(
        tmp_path,
        "reward_cases.yaml",
        """
defaults:
  config: cfg.toml
  reference: Paris
  group: g
cases:
  - completion: "<answer>Paris</answer>"
    expect: {value: 1}
  - id: own-objective
    objective: exact_match
    completion: Paris
    reference: [Paris, Lutetia]
    tokens: 3
    meta: {step: 2}
    prompt: Capital?
    expect: {verdict: [pass, partial], tol: 0.1, value: 1}
  - id: chat
    completion: [{role: user, content: hi}, {role: assistant, content: "<answer>Paris</answer>"}]
    expect: {value: "none"}
""",
    )
    cases = load_cases(path)
    assert [c.id for c in cases] == ["case1", "own-objective", "chat"]
    first, own, chat = cases
    assert first.config == tmp_path / "cfg.toml" and first.objective is None and first.uses_pipeline
    assert first.sample == Sample("<answer>Paris</answer>", "Paris", group="g")
    # A case's own objective replaces the defaults' config instead of clashing with it.
    assert own.objective == {"type": "exact_match"} and own.config is None
    assert (
        own.sample.reference == ["Paris", "Lutetia"]
        and own.sample.tokens == 3
        and own.sample.meta == {"step": 2}
    )
    assert (
        own.expect is not None
        and own.expect.verdicts == (Verdict.PASS, Verdict.PARTIAL)
        and own.expect.tol == 0.1
    )
    assert chat.sample.completion == "<answer>Paris</answer>"
    assert chat.expect is not None and chat.expect.value is None


def test_toml_and_jsonl(tmp_path: Path) -> None:
    toml = write(
        tmp_path,
        "reward_cases.toml",
        '[defaults]\nobjective = { type = "regex", pattern = "a" }\n\n[[cases]]\ncompletion = "a"\n'
        'expect = { value = "None", min = 0 }\n',
    )
    (case,) = load_cases(toml)
    assert case.objective == {"type": "regex", "pattern": "a"} and case.expect is not None
    assert case.expect.value is None and case.expect.min == 0
    jsonl = write(
        tmp_path,
        "reward_cases.jsonl",
        '{"defaults": {"objective": "exact_match"}}\n\n'
        '{"completion": "a", "reference": "a", "expect": {"value": 1}}\n'
        '{"id": "b", "completion": "b", "reference": "a", "expect": {"lower_than": "line3"}}\n',
    )
    assert [(c.id, c.where) for c in load_cases(jsonl)] == [("line3", "line 3"), ("b", "line 4")]


ONE = "cases:\n  - id: c\n    objective: exact_match\n    completion: x\n"

BAD: list[tuple[str, str, str]] = [
    ("reward_cases.yaml", "- 1\n", "the top level must be a mapping with a 'cases' list, got list"),
    ("reward_cases.yaml", "cases: []\nextra: 1\n", "extra: unknown top-level key; allowed: defaults, cases"),
    ("reward_cases.yaml", "cases: {a: 1}\n", "cases: must be a list of cases, got a dict"),
    ("reward_cases.yaml", "defaults: {}\n", "cases: must be a list of cases, got missing"),
    ("reward_cases.yaml", "cases: []\n", "cases: the file has no cases"),
    ("reward_cases.yaml", "cases: [\n", "not valid YAML"),
    ("reward_cases.toml", "cases = [\n", "not valid TOML"),
    ("reward_cases.jsonl", '{"completion": "x"\n', "line 1: not valid JSON"),
    ("reward_cases.jsonl", '{"id": "a", "objective": "exact_match", "completion": "x", "expect": {"value": 1}}\n'
     '{"defaults": {}}\n', "line 2: defaults: only the first line may hold defaults"),
    ("reward_cases.yaml", "defaults: [1]\ncases: [{}]\n", "defaults: must be a mapping, got list"),
    ("reward_cases.yaml", "defaults: {id: x}\ncases: [{}]\n", "defaults: id: unknown key; allowed: description,"),
    ("reward_cases.yaml", "defaults: {objective: 3}\n" + ONE + "    expect: {value: 1}\n",
     "defaults: objective: must be a registry name or a mapping"),
    ("reward_cases.yaml", "cases: [3]\n", "cases[0]: a case must be a mapping, got int"),
    ("reward_cases.yaml", "cases: [{id: 'a::b'}]\n", "cases[0]: id: must be a non-empty one-line string"),
    ("reward_cases.yaml", "cases: [{id: 7}]\n", "cases[0]: id: must be a non-empty one-line string"),
    ("reward_cases.yaml", ONE + "    expect: {value: 1}\n" + ONE[7:] + "    expect: {value: 1}\n",
     "case 'c' (cases[1]): id: duplicate id; first used at cases[0]"),
    ("reward_cases.yaml", ONE + "    expct: {}\n", "case 'c' (cases[0]): expct: unknown key; allowed: id,"),
    ("reward_cases.yaml", ONE + "    config: cfg.toml\n", "case 'c' (cases[0]): objective: give either 'objective' or 'config', not both"),
    ("reward_cases.yaml", "cases: [{id: c, objective: {extract: full}, completion: x}]\n",
     "case 'c' (cases[0]): objective.type: required key is missing"),
    ("reward_cases.yaml", "cases: [{id: c, objective: 'no such', completion: x}]\n",
     "case 'c' (cases[0]): objective.type: must be a registry name, got 'no such'"),
    ("reward_cases.yaml", "cases: [{id: c, config: nope.toml, completion: x}]\n", "case 'c' (cases[0]): config: file not found:"),
    ("reward_cases.yaml", "cases: [{id: c, config: 5, completion: x}]\n", "case 'c' (cases[0]): config: must be a path"),
    ("reward_cases.yaml", ONE + "    component: answer\n", "case 'c' (cases[0]): component: only a pipeline case"),
    ("reward_cases.yaml", "cases: [{id: c, objective: exact_match}]\n", "case 'c' (cases[0]): completion: required key is missing"),
    ("reward_cases.yaml", "cases: [{id: c, objective: exact_match, completion: 3}]\n",
     "case 'c' (cases[0]): completion: must be a string or a list of chat messages, got int"),
    ("reward_cases.yaml", "cases: [{id: c, objective: exact_match, completion: [{content: x}]}]\n",
     "case 'c' (cases[0]): completion: messages[0] must be a dict with a 'role' key"),
    ("reward_cases.yaml", ONE + "    prompt: 3\n", "case 'c' (cases[0]): prompt: must be a string, got int"),
    ("reward_cases.yaml", ONE + "    group: [1]\n", "case 'c' (cases[0]): group: must be a string or an integer, got list"),
    ("reward_cases.yaml", ONE + "    tokens: -1\n", "case 'c' (cases[0]): tokens: must be a non-negative integer, got -1"),
    ("reward_cases.yaml", ONE + "    meta: [1]\n", "case 'c' (cases[0]): meta: must be a mapping, got list"),
    ("reward_cases.yaml", ONE + "    expect: 1\n", "case 'c' (cases[0]): expect: must be a mapping"),
    ("reward_cases.yaml", ONE + "    expect: {}\n", "case 'c' (cases[0]): expect: is empty"),
    ("reward_cases.yaml", ONE + "    expect: {valu: 1}\n", "case 'c' (cases[0]): expect.valu: unknown key; allowed: value, tol,"),
    ("reward_cases.yaml", ONE + "    expect: {value: high}\n", "case 'c' (cases[0]): expect.value: must be a number, or null"),
    ("reward_cases.yaml", ONE + "    expect: {value: true}\n", "case 'c' (cases[0]): expect.value: must be a number, or null"),
    ("reward_cases.yaml", ONE + "    expect: {tol: 0.1, min: 0}\n", "case 'c' (cases[0]): expect.tol: is the tolerance of 'value'"),
    ("reward_cases.yaml", ONE + "    expect: {min: x}\n", "case 'c' (cases[0]): expect.min: must be a number, got 'x'"),
    ("reward_cases.yaml", ONE + "    expect: {min: 2, max: 1}\n", "case 'c' (cases[0]): expect: min 2.0 is greater than max 1.0"),
    ("reward_cases.yaml", ONE + "    expect: {value: 1, tol: -1}\n", "case 'c' (cases[0]): expect: tol must be a non-negative number"),
    ("reward_cases.yaml", ONE + "    expect: {verdict: pas}\n",
     "case 'c' (cases[0]): expect.verdict: 'pas' is not a verdict; allowed: pass, fail, partial, invalid, timeout, error, skip"),
    ("reward_cases.yaml", ONE + "    expect: {verdict: 1}\n", "case 'c' (cases[0]): expect.verdict: must be a verdict name or a list"),
    ("reward_cases.yaml", ONE + "    expect: {verdict: []}\n", "case 'c' (cases[0]): expect.verdict: give at least one verdict"),
    ("reward_cases.yaml", ONE + "    expect: {reason: '('}\n", "case 'c' (cases[0]): expect.reason: reason '(' is not a valid regular expression"),
    ("reward_cases.yaml", ONE + "    expect: {reason: 3}\n", "case 'c' (cases[0]): expect.reason: must be a regular expression string"),
    ("reward_cases.yaml", ONE + "    expect: {higher_than: c}\n", "case 'c' (cases[0]): expect.higher_than: a case cannot be ordered against itself"),
    ("reward_cases.yaml", ONE + "    expect: {lower_than: [z]}\n", "case 'c' (cases[0]): expect.lower_than: no case with id 'z' in this file; ids: c"),
    ("reward_cases.yaml", ONE + "    expect: {lower_than: [1]}\n", "case 'c' (cases[0]): expect.lower_than: must be a case id or a list"),
    ("reward_cases.yaml", ONE, "case 'c' (cases[0]): expect: required key is missing"),
    ("reward_cases.yaml", ONE + "    marks: [not-a-name]\n", "case 'c' (cases[0]): marks: must be a marker name"),
    ("reward_cases.yaml", ONE + "    skip: 3\n", "case 'c' (cases[0]): skip: must be true or a reason string"),
    ("reward_cases.yaml", ONE + "    xfail: ''\n", "case 'c' (cases[0]): xfail: must be true or a reason string"),
    ("reward_cases.yaml", ONE + "    description: [1]\n", "case 'c' (cases[0]): description: must be a string"),
    ("reward_cases.yaml", "cases: [{id: c, config: cfg.toml, completion: x, expect: {verdict: pass}}]\n",
     "case 'c' (cases[0]): expect.verdict: the combined reward of a pipeline has no verdict or reason; name one objective"),
    ("reward_cases.yaml", "cases: [{id: c, completion: x, expect: {reason: x}}]\n",
     "case 'c' (cases[0]): expect.reason: the combined reward of a pipeline has no verdict"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "message"), BAD, ids=[m[:50] for _, _, m in BAD])
def test_bad_files_name_file_case_and_field(tmp_path: Path, name: str, text: str, message: str) -> None:
    write(tmp_path, "cfg.toml", CFG)
    path = write(tmp_path, name, text)
    with pytest.raises(CaseFileError) as info:
        load_cases(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)  # a ConfigError


def test_unreadable_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match="cannot read the case file"):
        load_cases(tmp_path / "reward_cases.yaml")
    with pytest.raises(CaseFileError, match=r"unknown case file format '\.txt'"):
        load_cases(write(tmp_path, "reward_cases.txt", "x"))


def runner_for(tmp_path: Path, text: str, **kwargs: object) -> CaseRunner:
    write(tmp_path, "cfg.toml", CFG)
    return CaseRunner(load_cases(write(tmp_path, "reward_cases.yaml", text)), **kwargs)  # type: ignore[arg-type]


def test_runner_batches_by_group_and_builds_once(tmp_path: Path) -> None:
    BatchLen.built = 0
    runner = runner_for(
        tmp_path,
        """
defaults: {objective: testing_batch_len}
cases:
  - {id: a, group: 1, completion: x, expect: {value: 3}}
  - {id: b, group: 1, completion: x, expect: {value: 3}}
  - {id: other, group: 2, completion: x, expect: {value: 1}}
  - {id: c, group: 1, completion: x, expect: {value: 3}}
  - {id: alone, completion: x, expect: {value: 1, higher_than: [zero]}}
  - {id: zero, objective: exact_match, completion: x, reference: y}
""",
    )
    for case_id in ("a", "b", "c", "other", "alone"):
        runner.check(case_id)
    assert BatchLen.built == 1


def test_runner_failures_and_errors(tmp_path: Path) -> None:
    runner = runner_for(
        tmp_path,
        """
cases:
  - {id: reward, config: cfg.toml, completion: "<answer>a</answer>", reference: b, expect: {min: 1}}
  - {id: part, config: cfg.toml, component: answer, completion: "<answer>a</answer>", reference: b, expect: {verdict: pass}}
  - {id: nopart, config: cfg.toml, component: nope, completion: x, expect: {value: 1}}
  - {id: badopt, objective: {type: exact_match, extract: middle}, completion: x, expect: {value: 1}}
  - {id: session, completion: x, expect: {value: 1}}
  - {id: none, objective: exact_match, completion: x, expect: {higher_than: reward}, description: no reference}
""",
        details=True,
    )
    with pytest.raises(CaseFailed) as info:
        runner.check("reward")
    text = str(info.value)
    assert text.startswith("case 'reward' (reward_cases.yaml, cases[0]): value 0 is not in [1, inf]")
    assert "answer: 0 (fail) normalised strings differ; extracted 'a'" in text
    with pytest.raises(
        CaseFailed,
        match=r"verdict fail is not pass[\s\S]*extracted: 'a'[\s\S]*details:   \{'extracted': 'a'\}",
    ):
        runner.check("part")
    with pytest.raises(
        CaseFileError,
        match=r"case 'nopart' \(cases\[2\]\): component: 'nope' is not an objective of the config; objectives: answer",
    ):
        runner.check("nopart")
    with pytest.raises(
        CaseFileError, match=r"case 'badopt' \(cases\[3\]\): objective: extract='middle' is not allowed"
    ):
        runner.check("badopt")
    with pytest.raises(CaseFileError, match="no session config is set"):
        runner.check("session")
    with pytest.raises(
        CaseFailed, match=re.escape("cannot order 'none' (None) against 'reward' (0): a value is None")
    ) as info:
        runner.check("none")
    assert "description: no reference" in str(info.value)
    # With a session config, the case without objective or config uses it.
    session = runner_for(tmp_path, "cases: [{id: s, completion: '<answer>a</answer>', reference: a, expect: {value: 1}}]\n",
                         default_config=tmp_path / "cfg.toml")  # fmt: skip
    session.check("s")
