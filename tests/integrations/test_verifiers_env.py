"""verifiers: the rubric functions under verifiers' calling convention, and a real classic Rubric when installed."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from moreward.errors import MissingExtraError
from moreward.integrations import MissingRewardError
from moreward.integrations.verifiers_env import (
    MISSING_METRIC,
    GroupMetric,
    GroupReward,
    RolloutMetric,
    RolloutReward,
    ascore_rollout,
    build_rubric,
    rubric_funcs,
)

from .helpers import Broken, GroupMeanCentered, em_regex_pipeline, pipeline

PROMPT = [{"role": "user", "content": "2+2?"}]
COMPLETIONS = [
    [{"role": "assistant", "content": "<answer>4</answer>"}],
    [{"role": "assistant", "content": "4"}],
    [{"role": "assistant", "content": "<answer>5</answer>"}],
]


def is_group_func(func) -> bool:
    """verifiers 0.1.x ``Rubric._is_group_func``: plural parameter names mark a group function."""
    params = set(inspect.signature(func).parameters)
    return bool(params & {"states", "prompts", "completions", "answers", "tasks", "infos"})


async def call_named(func, **objects):
    """verifiers' ``maybe_await`` with all objects (our functions take ``**kwargs``)."""
    out = func(**objects)
    return await out if inspect.isawaitable(out) else out


def test_group_functions_and_weights():
    funcs, weights = rubric_funcs(em_regex_pipeline(combiner=GroupMeanCentered()))
    assert [f.__name__ for f in funcs] == ["moreward", "em", "fmt", MISSING_METRIC]
    assert weights == [1.0, 0.0, 0.0, 0.0]
    assert all(is_group_func(f) for f in funcs)
    assert isinstance(funcs[0], GroupReward) and isinstance(funcs[1], GroupMetric)

    states = [{} for _ in COMPLETIONS]
    group = dict(prompts=[PROMPT] * 3, completions=COMPLETIONS, answers=["4"] * 3, states=states, infos=[{}] * 3)

    async def score_group():  # in order, as Rubric.score_group does
        return [await call_named(f, **group) for f in funcs]

    reward, em, fmt, missing = asyncio.run(score_group())
    assert reward == [1.0, -1.0, 0.0]  # totals 2, 0, 1 centred on the group
    assert em == [1.0, 0.0, 0.0] and fmt == [1.0, 0.0, 1.0] and missing == [0.0] * 3
    assert states[0]["moreward"]["raw"] == {"em": 1.0, "fmt": 1.0}


def test_rollout_functions():
    funcs, _ = rubric_funcs(em_regex_pipeline(), group=False)
    assert not any(is_group_func(f) for f in funcs)
    assert isinstance(funcs[0], RolloutReward) and isinstance(funcs[1], RolloutMetric)
    state: dict = {}
    objects = dict(prompt=PROMPT, completion=COMPLETIONS[0], answer="4", state=state, info={}, parser=None)

    async def score_rollout():
        return [await call_named(f, **objects) for f in funcs]

    assert asyncio.run(score_rollout()) == [2.0, 1.0, 1.0, 0.0]


def test_missing_reward_policy():
    (reward, metric, missing), _ = rubric_funcs(pipeline({"broken": Broken()}), group=False)
    state: dict = {}
    with pytest.raises(MissingRewardError, match="backend down"):
        asyncio.run(reward(prompt="p", completion="c", answer=None, state=state))
    (reward, metric, missing), _ = rubric_funcs(pipeline({"broken": Broken()}), group=False, on_missing=-0.5)
    assert asyncio.run(reward(prompt="p", completion="c", answer=None, state=state)) == -0.5
    assert metric(state=state) == 0.0 and missing(state=state) == 1.0


def test_ascore_rollout_for_v1_tasks():
    result = asyncio.run(ascore_rollout(em_regex_pipeline(), COMPLETIONS[0], "4", prompt=PROMPT))
    assert result.reward == 2.0 and result.components["em"].passed


def test_build_rubric_without_verifiers_names_the_fix(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "verifiers", None)
    with pytest.raises(MissingExtraError, match="verifiers is not installed"):
        build_rubric(em_regex_pipeline())


@pytest.mark.parametrize("group", [True, False])
def test_real_classic_rubric(group):
    vf = pytest.importorskip("verifiers", exc_type=ImportError)
    if not hasattr(vf, "Rubric"):
        pytest.skip(f"verifiers {getattr(vf, '__version__', '?')} has no classic Rubric")
    rubric = build_rubric(em_regex_pipeline(combiner=GroupMeanCentered() if group else None), group=group)
    assert isinstance(rubric, vf.Rubric)
    states = [
        vf.State({"prompt": PROMPT, "completion": c, "answer": "4", "info": {}, "trajectory": []}) for c in COMPLETIONS
    ]
    if group:
        asyncio.run(rubric.score_group(states))
        assert [s["reward"] for s in states] == [1.0, -1.0, 0.0]
    else:
        for s in states:
            asyncio.run(rubric.score_rollout(s))
        assert [s["reward"] for s in states] == [2.0, 0.0, 1.0]
    assert states[0]["metrics"] == {"moreward": states[0]["reward"], "em": 1.0, "fmt": 1.0, MISSING_METRIC: 0.0}
