"""Format verifiers: the tag grammar and each preset, with accepted and rejected examples."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moreward import ConfigError, MissingExtraError, Sample, Verdict, registry
from moreward.verifiers import format as fmt
from moreward.verifiers.format import (
    TagGrammar,
    TagSpec,
    check_parallel,
    check_plan_first,
    check_think_answer,
    check_tool_blocks,
    code_spans,
    parallel_ratio,
    parse_tags,
    tag_count,
)

FENCE = "```"

# --------------------------------------------------------------------------- think / answer

THINK_ACCEPT = [
    "<think>2+2=4</think><answer>4</answer>",
    "<think>2+2=4</think> <answer>4</answer>",
    "\n  <think>\n2+2=4\n</think>\n\n<answer>\n4\n</answer>\n",  # whitespace around and between
    "<think>compare a<b and b>c</think><answer>yes</answer>",  # undeclared tag-like text
    "<think>the tag `<answer>` is inline code</think><answer>4</answer>",
    f"<think>html:\n{FENCE}html\n<think>\n<answer>x</answer>\n{FENCE}\n</think><answer>4</answer>",  # tags in a fence
    "<think>tilde fence\n~~~\n</think>\n~~~\n</think><answer>4</answer>",
    "<think>x</think><answer>4 </answer> ",
]

THINK_REJECT = [
    ("", "missing"),
    ("4", "missing"),
    ("<think>x</think>", "missing"),
    ("<answer>4</answer>", "missing"),
    ("<answer>4</answer><think>x</think>", "order"),
    ("<think>a<think>b</think></think><answer>4</answer>", "nesting"),  # nested think
    ("<think>a <answer>3</answer></think><answer>4</answer>", "nesting"),  # answer inside think
    ("<think>a</think><answer>4</answer><answer>5</answer>", "duplicate"),
    ("<think>a</think><think>b</think><answer>4</answer>", "duplicate"),
    ("<think>a</think><answer>4</answer></think>", "unbalanced"),
    ("<think>a</answer><answer>4</answer>", "unbalanced"),
    ("<think>a<answer>4</answer>", "unclosed"),
    ("<think>a</think><answer>4", "unclosed"),
    ("Sure! <think>a</think><answer>4</answer>", "outside"),
    ("<think>a</think> so <answer>4</answer>", "outside"),
    ("<think>a</think><answer>4</answer> hope this helps", "outside"),
    ("<think>\n\n</think><answer>4</answer>", "empty"),
    ("<think>a</think><answer>  </answer>", "empty"),
    ("<THINK>a</THINK><ANSWER>4</ANSWER>", "missing"),  # tags are case-sensitive
    (f"{FENCE}\n<think>a</think><answer>4</answer>\n{FENCE}", "missing"),  # only inside a fence
    (f"<think>a\n{FENCE}\n</think><answer>4</answer>", "unclosed"),  # an unclosed fence runs to the end
]


@pytest.mark.parametrize("text", THINK_ACCEPT)
def test_think_answer_accepts(text):
    check = check_think_answer(text)
    assert check.ok and check.value == 1.0, check.errors
    s = registry.get("think_answer").score(Sample(text))
    assert s.verdict is Verdict.PASS and s.value == 1.0 and s.details["answer"] in ("4", "yes")


@pytest.mark.parametrize("text,rule", THINK_REJECT)
def test_think_answer_rejects(text, rule):
    check = check_think_answer(text)
    assert not check.ok and check.value == 0.0 and check.rule == rule, check.errors
    s = registry.get("think_answer").score(Sample(text))
    assert s.verdict is Verdict.FAIL and s.value == 0.0
    assert s.details["rule"] == rule and s.details["errors"] and s.reason.startswith(rule)


def test_empty_think_allowed_for_ton():
    ton = "<think>\n\n</think>\n<answer>4</answer>"
    assert not registry.get("think_answer").score(Sample(ton)).passed
    assert registry.get("think_answer", allow_empty_think=True).score(Sample(ton)).passed
    assert registry.get("think_or_not").score(Sample(ton)).passed
    assert registry.get("think_or_not").score(Sample("<think></think><answer>4</answer>")).passed
    assert registry.get("think_or_not", answer_tag="action").score(Sample("<think>\n\n</think><action>click(3)</action>")).passed
    # the empty think never excuses an empty answer or a missing block
    assert not registry.get("think_or_not").score(Sample("<think>\n\n</think><answer></answer>")).passed
    assert not registry.get("think_or_not").score(Sample("<answer>4</answer>")).passed
    assert check_think_answer(ton, allow_empty_think=True).info["think_empty"] is True


def test_open_r1_strict_newlines():
    good = "<think>\nreason\n</think>\n<answer>\n4\n</answer>"
    assert check_think_answer(good, strict_newlines=True).ok
    assert check_think_answer(good + "\n", strict_newlines=True).ok
    for bad in ("<think>reason</think>\n<answer>\n4\n</answer>", "<think>\nreason\n</think><answer>\n4\n</answer>"):
        assert check_think_answer(bad).ok
        assert check_think_answer(bad, strict_newlines=True).rule == "layout"
    # agrees with open-r1's regex on these
    pattern = r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$"
    for text in (good, "<think>reason</think>\n<answer>\n4\n</answer>"):
        assert bool(re.match(pattern, text, re.DOTALL | re.MULTILINE)) == check_think_answer(text, strict_newlines=True).ok


def test_free_answer_after_think_like_trl():
    trl = re.compile(r"^<think>(?!.*<think>)(.*?)</think>.*$", re.DOTALL | re.MULTILINE)
    cases = ["<think>x</think> The answer is 4.", "<think>x</think>", "no think", "<think>a<think>b</think> 4", "4 <think>x</think> 5"]
    for text in cases:
        ours = check_think_answer(text, require_answer=False)
        if text == "<think>x</think>":  # we also want an answer after the think block
            assert ours.rule == "missing" and trl.match(text)
            continue
        assert ours.ok == bool(trl.match(text)), text
    assert check_think_answer("<think>x</think> The answer is 4.", require_answer=False).info["answer"] == "The answer is 4."


def test_think_prefilled():
    assert check_think_answer("reasoning</think><answer>4</answer>", think_prefilled=True).ok
    assert check_think_answer("<think>reasoning</think><answer>4</answer>", think_prefilled=True).rule == "unclosed"
    obj = registry.get("think_answer", think_prefilled=True, require_answer=False)
    assert obj.score(Sample("reasoning</think>\n4")).details["answer"] == "4"


def test_think_answer_config_errors():
    with pytest.raises(ConfigError, match="not a valid tag name"):
        registry.get("think_answer", think_tag="<think>")
    with pytest.raises(ConfigError, match="must differ"):
        registry.get("think_answer", answer_tag="think")
    with pytest.raises(ConfigError, match="unknown option"):
        registry.get("think_answer", allow_empty=True)


def test_objectives_pickle_and_name():
    for name, opts in [
        ("think_answer", {"allow_empty_think": True}),
        ("think_or_not", {}),
        ("tag_count", {}),
        ("parallel_thinking", {"min_paths": 3}),
        ("plan_first", {"answer_tag": None}),
        ("tool_blocks", {"min_code_blocks": 0}),
        ("tag_grammar", {"tags": {"think": {"min": 1}}, "order": "<think>", "outside": "after"}),
    ]:
        obj = registry.get(name, **opts)
        assert obj.name == name == obj.__name__
        clone = pickle.loads(pickle.dumps(obj))
        assert clone == obj
        text = "<think>x</think> 4"
        assert clone.score(Sample(text)) == obj.score(Sample(text))


# --------------------------------------------------------------------------- grammar core


def test_code_spans_and_fences():
    text = f"a `x` b\n{FENCE}py\n<t>\n{FENCE}\nc ``\n~~~~\nd\n~~~\n~~~~\n"
    spans = code_spans(text)
    assert [text[s:e] for s, e in spans][:2] == ["`x`", f"{FENCE}py\n<t>\n{FENCE}"]
    assert text[spans[-1][0] : spans[-1][1]] == "~~~~\nd\n~~~\n~~~~"  # a shorter fence does not close
    assert code_spans(text, inline=False)[0][0] == text.index(FENCE)
    blocks = fmt.fenced_blocks(f"{FENCE}Python \nx\n{FENCE}\n{FENCE}\nopen")
    assert [(b.lang, b.body, b.closed) for b in blocks] == [("python", "x\n", True), ("", "open", False)]


def test_parse_tags_recovers():
    roots, errors = parse_tags("<a><b>x</a>", ["a", "b"])
    assert [r for r, _ in errors] == ["unbalanced", "unclosed"]
    assert roots[0].name == "a" and roots[0].children[0].name == "b" and roots[0].end == 11
    roots, errors = parse_tags("<A>x</a>", ["a"], case_sensitive=False)
    assert not errors and roots[0].name == "a"


def test_tag_grammar_rules():
    g = TagGrammar(
        (TagSpec("plan", 1, 1), TagSpec("step", 2, None, parents=("plan",), allow_empty=False), TagSpec("final", 1, 1)),
        order="<plan><final>",
        outside="after",
    )
    ok = "<plan><step>a</step><step>b</step></plan><final>x</final> trailing text"
    assert g.check(ok).ok
    assert [b.content(ok) for b in g.check(ok).blocks("step")] == ["a", "b"]
    assert g.check("<plan><step>a</step></plan><final>x</final>").rule == "missing"
    assert g.check("<plan><step>a</step><step> </step></plan><final>x</final>").rule == "empty"
    assert g.check("<step>a</step><plan><step>b</step><step>c</step></plan><final>x</final>").rule == "nesting"
    assert g.check("lead <plan><step>a</step><step>b</step></plan><final>x</final>").rule == "outside"
    nest = TagGrammar((TagSpec("q", max=None, parents=None, nest=True),), outside="any")
    assert nest.check("<q><q>x</q></q>").ok
    assert not TagGrammar((TagSpec("q", max=None, parents=None),), outside="any").check("<q><q>x</q></q>").ok


def test_tag_grammar_objective_config():
    obj = registry.get(
        "tag_grammar",
        tags={"think": {"min": 1, "max": 1}, "answer": {"min": 1, "max": 1, "allow_empty": False}},
        order="<think><answer>",
    )
    assert obj.score(Sample("<think>x</think><answer>y</answer>")).passed
    assert obj.score(Sample("<think>x</think><answer> </answer>")).details["rule"] == "empty"
    with pytest.raises(ConfigError, match=r"unknown option.*'maximum'.*allowed: min, max"):
        registry.get("tag_grammar", tags={"think": {"maximum": 1}})
    with pytest.raises(ConfigError, match="does not compile"):
        registry.get("tag_grammar", tags={"think": {}}, order="(<think>")
    with pytest.raises(ConfigError, match="allowed: whitespace, after, any"):
        registry.get("tag_grammar", tags={"think": {}}, outside="none")
    with pytest.raises(ConfigError, match="non-empty mapping"):
        registry.get("tag_grammar", tags={})
    for spec, match in (({"min": "1"}, "min must be"), ({"min": 2, "max": 1}, "max must be"), ({"parents": "top"}, "parents must be"),
                        ({"nest": "no"}, "must be booleans")):
        with pytest.raises(ConfigError, match=match):
            registry.get("tag_grammar", tags={"think": spec})
    with pytest.raises(ConfigError, match="distinct"):
        TagGrammar((TagSpec("a"), TagSpec("a")))


# --------------------------------------------------------------------------- tag count


@pytest.mark.parametrize(
    "text,value",
    [
        ("<think>\nx\n</think>\n<answer>\ny\n</answer>", 1.0),
        ("<think>\nx\n</think>\n", 0.5),
        ("<think>\nx</think>", 0.25),
        ("<think>x</think><answer>y</answer>", 0.0),  # open-r1 counts the newlines too
        ("<think>\n<think>\nx\n</think>\n<answer>\ny\n</answer>", 0.75),  # duplicated: not exactly once
        ("", 0.0),
    ],
)
def test_tag_count_open_r1(text, value):
    # open-r1's tag_count_reward, written out from its definition
    expected = sum(0.25 for t in ("<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>") if text.count(t) == 1)
    assert tag_count(text)[0] == value == expected
    s = registry.get("tag_count").score(Sample(text))
    assert s.value == value
    assert s.verdict is {1.0: Verdict.PASS, 0.0: Verdict.FAIL}.get(value, Verdict.PARTIAL)


def test_tag_count_ignore_code_and_custom_tags():
    text = f"<think>\nx\n</think>\n{FENCE}\n<think>\n{FENCE}"
    assert tag_count(text)[0] == 0.25
    assert tag_count(text, ignore_code=True)[0] == 0.5
    assert registry.get("tag_count", tags=["<a>", "</a>"]).score(Sample("<a>x</a>")).value == 1.0
    with pytest.raises(ConfigError):
        registry.get("tag_count", tags="<a>")


# --------------------------------------------------------------------------- Parallel-R1

PAR = "<Parallel><Path>a</Path><Path>b</Path></Parallel><Summary>s</Summary>"

PARALLEL_ACCEPT = [
    "plain sequential reasoning. Final Answer: 4",
    f"Let me think. {PAR} So Final Answer: 4",
    f"{PAR}\n\n<Parallel>\n<Path>c</Path>\n<Path>d</Path>\n<Path>e</Path>\n</Parallel>\n<Summary>t</Summary>",
    "<Parallel>intro <Path>a</Path> and <Path>b</Path></Parallel> then <Summary>s</Summary>",  # free text, as the source
    f"<think>{PAR}</think>",  # undeclared tags around
    f"{PAR}\n{FENCE}\n<Parallel><Path>x</Path>\n{FENCE}",  # an unbalanced block only in code
]

PARALLEL_REJECT = [
    ("<Parallel><Path>a</Path></Parallel><Summary>s</Summary>", "paths"),
    ("<Parallel><Path>a</Path><Path>b</Path></Parallel>", "summary"),
    ("<Summary>s</Summary>", "summary"),
    (f"{PAR}<Summary>t</Summary>", "summary"),  # two summaries for one block
    ("<Parallel><Path>a</Path><Path>b</Path><Summary>s</Summary></Parallel>", "summary"),  # summary inside
    ("<Path>a</Path>", "nesting"),
    ("<Parallel><Path>a<Parallel><Path>x</Path><Path>y</Path></Parallel><Summary>z</Summary></Path><Path>b</Path></Parallel><Summary>s</Summary>", "nesting"),
    ("<Parallel><Path>a</Path><Path>b</Path></Summary>", "unbalanced"),
    ("<Parallel><Path>a</Path><Path>b", "unclosed"),
]


@pytest.mark.parametrize("text", PARALLEL_ACCEPT)
def test_parallel_accepts(text):
    check = check_parallel(text)
    assert check.ok, check.errors
    s = registry.get("parallel_thinking").score(Sample(text))
    assert s.passed and s.details["parallel"] == ("<Parallel>" in text.split(FENCE)[0])


@pytest.mark.parametrize("text,rule", PARALLEL_REJECT)
def test_parallel_rejects(text, rule):
    check = check_parallel(text)
    assert check.rule == rule, check.errors
    assert check.info["parallel"] is False
    assert registry.get("parallel_thinking").score(Sample(text)).value == 0.0


def test_parallel_options_and_ratio():
    assert check_parallel("no parallel here", require_parallel=True).rule == "missing"
    three = check_parallel(PAR, min_paths=3)
    assert three.rule == "paths" and three.info["paths"] == [2]
    assert check_parallel(PAR.replace("Parallel", "P").replace("Path", "Q").replace("Summary", "S"), tags=("P", "Q", "S")).info["parallel"]
    texts = [PAR, "none", PAR.replace("</Summary>", ""), Sample(f"x {PAR} y")]
    assert parallel_ratio(texts) == 0.5
    assert parallel_ratio([]) == 0.0
    with pytest.raises(ConfigError):
        registry.get("parallel_thinking", min_paths=0)
    with pytest.raises(ConfigError):
        registry.get("parallel_thinking", tags=["A", "A", "B"])


def test_parallel_agrees_with_reference_checker():
    """The reference ``check_parallel_thinking_format`` (Parallel-R1), written out from its
    definition, agrees with ours on inputs without code blocks or stray text."""

    def reference(text: str) -> bool:
        tokens = re.findall(r"</?Parallel>|</?Path>|</?Summary>", text)
        stack, errors, expected, n_summary, counter = [], 0, False, 0, []
        for tok in tokens:
            if tok == "<Parallel>":
                stack.append("Parallel"), counter.append(0)
                expected = False
            elif tok == "<Path>":
                stack.append("Path")
            elif tok == "</Path>":
                if not stack or stack[-1] != "Path":
                    errors += 1
                else:
                    stack.pop()
                    if counter:
                        counter[-1] += 1
            elif tok == "</Parallel>":
                if not stack or stack[-1] != "Parallel":
                    errors += 1
                else:
                    stack.pop()
                    errors += counter.pop() < 2
                    expected = True
            elif tok == "<Summary>":
                errors += not expected
                expected = False
                n_summary += 1
        errors += bool(stack) + expected + (n_summary != text.count("</Parallel>"))
        return errors == 0

    nested = PARALLEL_REJECT[6][0]
    # on purpose we also reject a <Path> outside any <Parallel>, which the reference lets through
    for text in [*PARALLEL_ACCEPT[:3], *(t for t, _ in PARALLEL_REJECT if "Summary></Parallel" not in t and t != nested and not t.startswith("<Path>"))]:
        assert reference(text) == check_parallel(text).ok, text
    # nesting a block inside a path: the reference checker allows it, we do only when asked
    assert reference(nested) and check_parallel(nested, allow_nested=True).ok


# --------------------------------------------------------------------------- Plantain

PLAN = "Plan:\n1. Factor the polynomial.\n2. Solve each factor."
PLANTAIN_OK = f"<think>how to start</think>\n<answer>{PLAN}</answer>\n<think>x^2-1=(x-1)(x+1)</think>\n<answer>x = 1 or x = -1</answer>"


def test_plan_first_accepts_and_ttfr():
    check = check_plan_first(PLANTAIN_OK)
    assert check.ok, check.errors
    # "<think>how", "to", "start</think>", "<answer>": 4 whitespace words before the plan's content
    assert check.info["ttfr_tokens"] == 4 and check.info["n_responses"] == 2 and check.info["plan"] == PLAN
    s = registry.get("plan_first").score(Sample(PLANTAIN_OK, tokens=60))
    assert s.passed and s.details["ttfr_unit"] == "whitespace" and s.details["ttfr_tokens"] == 4
    total = len(PLANTAIN_OK.split())
    assert s.details["ttfr_fraction"] == pytest.approx(4 / total)
    assert s.details["ttfr_tokens_estimate"] == round(4 / total * 60)
    # plan first, with no leading think block: the first response comes at once
    assert check_plan_first(f"<answer>{PLAN}</answer><think>t</think><answer>done</answer>").info["ttfr_tokens"] == 1
    # bullets and "Step n:" count as steps; a custom counter
    bullets = "<think>t</think><answer>- a\n- b</answer><answer>c</answer>"
    assert check_plan_first(bullets, count_tokens=lambda t: len(t)).info["ttfr_tokens"] == len("<think>t</think><answer>")
    assert check_plan_first("<answer>Step 1: a\nStep 2: b</answer><answer>c</answer>").ok


@pytest.mark.parametrize(
    "text,rule",
    [
        ("<think>all at once</think><answer>42</answer>", "responses"),
        ("<think>t</think><answer>I will just answer.</answer><think>t</think><answer>42</answer>", "plan"),
        (f"<think>a</think><think>b</think><answer>{PLAN}</answer><answer>42</answer>", "order"),
        (f"<think>a</think><answer>{PLAN}</answer><think>dangling</think>", "order"),
        (f"<think>a<answer>{PLAN}</answer></think><answer>42</answer>", "nesting"),
        (f"<answer>{PLAN}</answer> leak <answer>42</answer>", "outside"),
        (f"<think>a</think><answer>{PLAN}</answer><answer> </answer>", "empty"),
        (f"<think>a</think><answer>{PLAN}</answer><answer>42", "unclosed"),
    ],
)
def test_plan_first_rejects(text, rule):
    check = check_plan_first(text)
    assert check.rule == rule, check.errors
    assert registry.get("plan_first").score(Sample(text)).value == 0.0


def test_plan_first_code_and_whitespace():
    code = f"<think>a plan could use `<answer>` tags:\n{FENCE}\n<answer>x</answer>\n{FENCE}\n</think>\n\n  <answer>\n{PLAN}\n</answer>\n<think>t</think><answer>1</answer>\n"
    assert check_plan_first(code).ok
    assert check_plan_first(f"{FENCE}\n{PLANTAIN_OK}\n{FENCE}").rule == "order"  # all inside a fence
    dup = "<think>t</think><plan>1. a\n2. b</plan><plan>again</plan><answer>1</answer>"
    assert check_plan_first(dup, plan_tag="plan").rule == "duplicate"


def test_plan_first_visible_text_and_plan_tag():
    text = f"<think>t</think>\n{PLAN}\n<think>u</think>\nx = 1"
    assert check_plan_first(text, answer_tag=None).ok
    assert check_plan_first(f"{PLAN}<think>u</think>x = 1", answer_tag=None).info["ttfr_tokens"] == 0
    assert check_plan_first(f"<think>t</think>{PLAN}<think>u</think>", answer_tag=None).rule == "order"
    assert check_plan_first(f"<think>t</think> <think>t</think>{PLAN}<think>u</think>x", answer_tag=None).reason == "two think blocks in a row"
    tagged = "<think>t</think><plan>do it</plan><think>u</think><answer>1</answer>"
    assert check_plan_first(tagged, plan_tag="plan").ok
    assert check_plan_first("<think>t</think><answer>1</answer><answer>2</answer>", plan_tag="plan").rule == "missing"
    assert check_plan_first("<think>t</think><answer>just 1</answer><answer>2</answer>", min_plan_steps=0).ok


def test_plan_first_tokenizer_option(monkeypatch):
    import importlib.util

    from moreward.verifiers.format import plan

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "transformers" else real(n, *a))
    with pytest.raises(MissingExtraError, match="judge"):
        registry.get("plan_first", tokenizer="/models/tok")
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: object())

    class CharTokenizer:
        def encode(self, text, add_special_tokens=True):
            return list(text)

    monkeypatch.setattr(plan, "_load_tokenizer", lambda path: CharTokenizer())
    s = registry.get("plan_first", tokenizer="/models/tok").score(Sample(PLANTAIN_OK, tokens=5))
    assert s.details["ttfr_unit"] == "tokenizer" and s.details["ttfr_tokens"] == PLANTAIN_OK.index(PLAN)
    assert "ttfr_tokens_estimate" not in s.details

    def broken(path):
        raise OSError("no such directory")

    monkeypatch.setattr(plan, "_load_tokenizer", broken)
    err = registry.get("plan_first", tokenizer="/missing").score(Sample(PLANTAIN_OK))
    assert err.verdict is Verdict.ERROR and err.value is None and "no such directory" in err.reason


# --------------------------------------------------------------------------- START

HINT = "Wait, maybe using Python here is a good idea."
START_OK = f"Let me compute.\n{HINT}\n{FENCE}python\nprint(2**10)\n{FENCE}\n{FENCE}output\n1024\n{FENCE}\nSo 1024."


def test_tool_blocks_accepts():
    check = check_tool_blocks(START_OK)
    assert check.ok and check.info["pairs"] == [("print(2**10)\n", "1024\n")]
    two = START_OK + f"\n{FENCE}py\nx = 1\n{FENCE}\n\n{FENCE}output\n\n{FENCE}"
    assert check_tool_blocks(two).info["n_code"] == 2
    assert registry.get("tool_blocks", min_code_blocks=0).score(Sample("no tools at all")).passed
    assert registry.get("tool_blocks").score(Sample(START_OK)).details == {"n_code": 1, "n_output": 1}
    assert registry.get("tool_blocks", require_output=False).score(Sample(f"{FENCE}python\nx\n{FENCE}")).passed


@pytest.mark.parametrize(
    "text,rule",
    [
        ("no tools at all", "missing"),
        (f"{FENCE}python\nprint(1)\n{FENCE}\nand then\n{FENCE}output\n1\n{FENCE}", "output"),  # text between
        (f"{FENCE}python\nprint(1)\n{FENCE}", "output"),  # no output block
        (f"{FENCE}output\n1\n{FENCE}", "output"),  # output without code
        (f"{FENCE}python\nprint(1)\n{FENCE}\n{FENCE}output\n1\n{FENCE}\n{FENCE}output\n1\n{FENCE}", "output"),  # duplicated output
        (f"{FENCE}python\nprint(1)\n", "unclosed"),
        (f"{FENCE}javascript\nconsole.log(1)\n{FENCE}\n{FENCE}output\n1\n{FENCE}", "output"),
    ],
)
def test_tool_blocks_rejects(text, rule):
    check = check_tool_blocks(text)
    assert rule in [r for r, _ in check.errors], check.errors
    assert registry.get("tool_blocks").score(Sample(text)).value == 0.0


def test_tool_blocks_longer_fences_and_tilde():
    nested = f"````python\nprint('{FENCE}')\n{FENCE}\n````\n~~~output\n{FENCE}\n~~~"  # a ``` line inside a ```` block
    check = check_tool_blocks(nested)
    assert check.ok and check.info["pairs"] == [(f"print('{FENCE}')\n{FENCE}\n", f"{FENCE}\n")]
    assert check_tool_blocks(f"  {FENCE}python\nx\n  {FENCE}\n\n\n{FENCE}output\n\n{FENCE}").ok  # indents and blank lines


def test_tool_blocks_config_errors():
    with pytest.raises(ConfigError, match="code_langs"):
        registry.get("tool_blocks", code_langs="python")
    with pytest.raises(ConfigError, match="output_lang"):
        registry.get("tool_blocks", output_lang="python")
    with pytest.raises(ConfigError, match="min_code_blocks"):
        registry.get("tool_blocks", min_code_blocks=-1)


# --------------------------------------------------------------------------- properties

_ALPHABET = st.sampled_from(
    ["<think>", "</think>", "<answer>", "</answer>", "<Parallel>", "</Parallel>", "<Path>", "</Path>", "<Summary>",
     "</Summary>", "```", "```python\n", "```output\n", "~~~", "`", "\n", " ", "1. ", "- ", "x", "<", ">", "/", "é"]
)
_TEXT = st.one_of(st.text(max_size=200), st.lists(_ALPHABET, max_size=40).map("".join))

_OBJECTIVES = [
    registry.get("think_answer"),
    registry.get("think_answer", require_answer=False, think_prefilled=True, strict_newlines=True),
    registry.get("think_or_not"),
    registry.get("tag_count", ignore_code=True),
    registry.get("parallel_thinking", require_parallel=True),
    registry.get("plan_first"),
    registry.get("plan_first", answer_tag=None, plan_tag="plan"),
    registry.get("tool_blocks"),
    registry.get("tag_grammar", tags={"a": {"max": None, "parents": None}, "b": {"min": 1}}, order="(<a>|<b>)*", case_sensitive=False),
]


@settings(max_examples=150, deadline=None)
@given(_TEXT)
def test_format_objectives_never_raise(text):
    for obj in _OBJECTIVES:
        s = obj.score(Sample(text))
        assert s.verdict in (Verdict.PASS, Verdict.FAIL, Verdict.PARTIAL)
        assert 0.0 <= s.value <= 1.0
        assert (s.value == 1.0) == (s.verdict is Verdict.PASS)
        assert s.reason


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_think_answer_roundtrip(think, answer):
    """Any think/answer pair without tag or fence text round-trips through the format."""
    clean = all("<" not in x and "`" not in x and "~" not in x for x in (think, answer))
    text = f"<think>{think}</think>\n<answer>{answer}</answer>"
    check = check_think_answer(text, allow_empty_think=True)
    if clean and answer.strip():
        assert check.ok and check.info["answer"] == answer.strip()


# --------------------------------------------------------------------------- START: re-running code blocks


def test_outputs_match():
    from moreward.verifiers.format import tools

    assert tools.outputs_match("1024\n", "1024\n")
    assert tools.outputs_match("\n  1024   \n\n", "1024")  # trailing spaces, blank lines
    assert not tools.outputs_match("1025", "1024\n")
    assert not tools.outputs_match("", "1024\n")
    err = "ZeroDivisionError: division by zero"
    assert tools.outputs_match(f"1\n{err}", "1\n", err)
    assert tools.outputs_match(f"1\nTraceback (most recent call last):\n  File ..., line 2\n{err}", "1\n", err)
    assert tools.outputs_match(err, "", err)
    assert not tools.outputs_match(f"2\n{err}", "1\n", err)  # the printed part must match too
    assert not tools.outputs_match(f"1\nsomething else\n{err}", "1\n", err)
    assert not tools.outputs_match("1", "1\n2\n", err)


def test_stateful_program_keeps_names_and_hides_output():
    import subprocess
    import sys

    from moreward.verifiers.format.tools import stateful_program

    program = stateful_program(["x = 2\nprint('hidden')", "1/0", "print(x * 21)"])
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=30)
    assert out.stdout == "42\n" and out.returncode == 0
    assert stateful_program(["print(1)"]) == "print(1)"


class _Res:
    def __init__(self, status, stdout="", stderr="", reason=""):
        self.status, self.stdout, self.stderr, self.reason = status, stdout, stderr, reason


def _fake_runner(table):
    calls = []

    def run(program, *, timeout, memory_mb):
        calls.append((program, timeout, memory_mb))
        last = program.rsplit("pass\n", 1)[-1]  # the block itself, after the silent earlier ones
        return table[last]

    return run, calls


def test_rerun_with_a_fake_sandbox():
    obj = registry.get("tool_blocks", rerun=True, timeout=0.5, memory_mb=64)
    two = f"{FENCE}python\nx = 1\n{FENCE}\n{FENCE}output\n\n{FENCE}\n{FENCE}python\nprint(x)\n{FENCE}\n{FENCE}output\n1\n{FENCE}"
    obj._run, calls = _fake_runner({"x = 1\n": _Res("OK"), "print(x)\n": _Res("OK", "1\n")})
    s = obj.score(Sample(two))
    assert s.passed and [r["match"] for r in s.details["rerun"]] == [True, True]
    assert calls[1][1:] == (0.5, 64) and calls[1][0].endswith("print(x)\n") and "x = 1" in calls[1][0]  # stateful
    obj._run, _ = _fake_runner({"x = 1\n": _Res("OK"), "print(x)\n": _Res("OK", "2\n")})
    s = obj.score(Sample(two))
    assert s.verdict is Verdict.FAIL and s.details["rule"] == "rerun" and "code block 1 " in s.reason  # 0-based
    obj._run, _ = _fake_runner({"x = 1\n": _Res("TLE"), "print(x)\n": _Res("OK", "1\n")})
    assert "did not finish (TLE)" in obj.score(Sample(two)).reason
    obj._run, _ = _fake_runner({"x = 1\n": _Res("SE", reason="zygote died"), "print(x)\n": _Res("OK", "1\n")})
    broken = obj.score(Sample(two))
    assert broken.verdict is Verdict.ERROR and broken.value is None and "zygote died" in broken.reason
    # a malformed completion fails on structure before anything runs
    obj._run, calls = _fake_runner({})
    assert obj.score(Sample(f"{FENCE}python\nprint(1)\n{FENCE}")).details["rule"] == "output" and not calls
    # stateless: each block alone
    alone = registry.get("tool_blocks", rerun=True, stateful=False)
    alone._run, calls = _fake_runner({"x = 1\n": _Res("OK"), "print(x)\n": _Res("RE", stderr="Traceback...\nNameError: name 'x' is not defined")})
    assert not alone.score(Sample(two)).passed and calls[1][0] == "print(x)\n"


def test_rerun_options_and_pickle():
    for opts, match in (({"timeout": 0}, "timeout"), ({"memory_mb": 1}, "memory_mb"), ({"isolation": "net_ns"}, "isolation")):
        with pytest.raises(ConfigError, match=match):
            registry.get("tool_blocks", rerun=True, **opts)
    obj = registry.get("tool_blocks", rerun=True, isolation=[])
    obj._run = lambda *a, **k: None
    clone = pickle.loads(pickle.dumps(obj))
    assert clone == obj and clone._run is None


def test_rerun_in_the_real_sandbox():
    pytest.importorskip("moreward.verifiers.code.sandbox")
    obj = registry.get("tool_blocks", rerun=True, timeout=0.3, isolation=[])
    probe = obj.score(Sample(f"{FENCE}python\nprint(6 * 7)\n{FENCE}\n{FENCE}output\n42\n{FENCE}"))
    if probe.verdict is Verdict.ERROR:
        pytest.skip(f"the code sandbox cannot run here: {probe.reason}")
    assert probe.passed
    assert obj.score(Sample(START_OK)).passed
    lie = START_OK.replace("1024\n```\nSo", "1000\n```\nSo")
    assert obj.score(Sample(lie)).details["rule"] == "rerun"
    err = f"{FENCE}python\nprint(1)\n1/0\n{FENCE}\n{FENCE}output\n1\nZeroDivisionError: division by zero\n{FENCE}"
    assert obj.score(Sample(err)).passed
    hang = f"{FENCE}python\nwhile True:\n    pass\n{FENCE}\n{FENCE}output\ndone\n{FENCE}"
    s = obj.score(Sample(hang))
    assert s.verdict is Verdict.FAIL and s.details["rerun"][0]["status"] == "TLE"
