"""Judge templates and decision parsing."""

from __future__ import annotations

import pytest

from moreward.core import Sample
from moreward.errors import ConfigError
from moreward.verifiers.judge import TEMPLATES, Guard, JudgeTemplate, parse_decision
from moreward.verifiers.judge.templates import get_template


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[YES]]", True),
        ("The answers match.\n[[NO]]", False),
        ("First I thought [[NO]] but on reflection [[YES]]", True),  # the last one wins
        ("[[ yes ]]", True),
        ("Final Decision: Yes", True),
        ("Final Decision: **No**", False),
        ("final decision:yes", True),
        ("Final Decision: No.\n", False),
        ("Yes", True),
        ("no.", False),
        ("**YES**", True),
        ("<think>maybe [[NO]]</think>[[YES]]", True),  # a reasoning judge's thinking is ignored
        ("<think>[[YES]]</think> I am unsure", None),
        ("Yes and no", None),
        ("", None),
        ("The student is correct", None),
    ],
)
def test_parse_decision(text, expected):
    assert parse_decision(text) is expected


def test_builtin_templates_render():
    s = Sample("<think>3*4=12</think> The answer is 12.", reference=["12", "twelve"], prompt="3*4?")
    parts = Guard().parts(s.completion)
    for name, tpl in TEMPLATES.items():
        values = tpl.values(s, parts)
        msgs = tpl.messages(values)
        joined = " ".join(m["content"] for m in msgs)
        assert tpl.name == name and tpl.long_field in values
        if "reference" in tpl.fields():
            assert "12 OR twelve" in joined
        if name == "sketch_judge":
            assert "3*4=12" in joined and "The answer is 12." not in joined
        if name in ("qwenlong", "general_verifier"):
            assert "12" in joined and "<think>" not in joined
    assert [m["role"] for m in TEMPLATES["reward_model"].messages(TEMPLATES["reward_model"].values(s, parts))] == [
        "user", "assistant"]
    assert TEMPLATES["raw"].plain(TEMPLATES["raw"].values(s, parts)) == s.completion


def test_template_validation():
    with pytest.raises(ConfigError, match="unknown field"):
        JudgeTemplate(user="{question}: {response}")
    with pytest.raises(ConfigError, match="none of"):
        JudgeTemplate(user="just {prompt}")
    with pytest.raises(ConfigError):
        JudgeTemplate(user="{response}", view="middle")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown judge template"):
        get_template("nope")
    tpl = get_template({"user": "{{literal}} {answer}", "system": "You grade."})
    assert tpl.messages({"answer": "7"} | dict.fromkeys(("prompt", "response", "thinking", "rest", "reference"), "")) == [
        {"role": "system", "content": "You grade."}, {"role": "user", "content": "{literal} 7"}]
    assert tpl.long_field == "answer"
    with pytest.raises(ConfigError, match="allowed keys"):
        get_template({"user": "{response}", "bogus": 1})
