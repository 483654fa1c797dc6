"""knights_knaves: the Warm-up paper's scheme, the 0-to-1 scheme, and reasoning-gym's scorer."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moreward import ConfigError, Sample, Verdict, registry
from moreward.verifiers.logic import parse_assignments, score_knights_knaves

REF = "(1) Zoey is a knight\n(2) Oliver is a knave"


def wrap(answer: str) -> str:
    return f"<think>Zoey says ... so Oliver lies.</think>\n<answer>{answer}</answer>"


@pytest.mark.parametrize(
    "completion,value,verdict,rule",
    [
        (wrap("(1) Zoey is a knight\n(2) Oliver is a knave"), 2.0, Verdict.PASS, "correct"),
        (wrap("Oliver is a knave, and Zoey is a knight."), 2.0, Verdict.PASS, "correct"),  # order and sentence form
        (wrap("(1) ZOEY is a Knight\n(2) oliver is a knave"), 2.0, Verdict.PASS, "correct"),
        (wrap("Zoey is a knight and Oliver is not a knight"), 2.0, Verdict.PASS, "correct"),
        ("prefilled think</think> <answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>\n", 2.0, Verdict.PASS, "correct"),
        (wrap("(1) Zoey is a knight\n(2) Oliver is a knight"), -0.5, Verdict.FAIL, "wrong"),
        (wrap("(1) Zoey is a knight"), -0.5, Verdict.FAIL, "wrong"),  # someone missing
        (wrap("I could not decide"), -0.5, Verdict.FAIL, "no_assignment"),
        (wrap("Zoey is a knight. Zoey is a knave. Oliver is a knave."), -0.5, Verdict.FAIL, "conflict"),
        (wrap("(1) Zoey is a knight\n(2) Bob is a knave"), -1.0, Verdict.FAIL, "unknown_name"),
        (wrap("(1) Zoey is a knight\n(2) Oliver is a liar"), -1.0, Verdict.FAIL, "unknown_role"),
        (wrap("This is a contradiction"), -1.0, Verdict.FAIL, "unknown_name"),
        ("<answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>", -2.0, Verdict.INVALID, "format"),  # no </think>
        (wrap("x") + "<answer>y</answer>", -2.0, Verdict.INVALID, "format"),  # two answers
        ("t</think></think><answer>Zoey is a knight</answer>", -2.0, Verdict.INVALID, "format"),
        (wrap("Zoey is a knight") + " trailing", -2.0, Verdict.INVALID, "format"),
        ("</think><answer>Zoey is a knight</answer>", -2.0, Verdict.INVALID, "format"),  # `.+` before </think>
        ("", -2.0, Verdict.INVALID, "format"),
    ],
)
def test_warmup_scheme(completion, value, verdict, rule):
    s = registry.get("knights_knaves").score(Sample(completion, reference=REF))
    assert (s.value, s.verdict, s.details["rule"]) == (value, verdict, rule)


def test_warmup_scheme_matches_the_source_rule():
    """``reward_kk`` from the Warm-up repository, written out from its definition, on answers
    in its own one-line-per-person format."""
    import re

    def reward_kk(output: str, ground_truth: str) -> float:
        def preprocess(text):
            solution = {}
            for line in text.split("\n"):
                sp = line.strip().split(" ")
                if not line or len(sp) < 2:
                    continue
                solution[sp[1].lower()] = sp[-1].lower()
            return solution

        if not (output.count("</think>") == 1 and output.count("<answer>") == 1 and output.count("</answer>") == 1):
            return -2
        match = re.search(r".+</think>\s*<answer>(.+)</answer>\s*$", output, re.DOTALL)
        if not match:
            return -2
        gt, out = preprocess(ground_truth), preprocess(match.group(1).strip())
        if any(gt.get(n) is None for n in out):
            return -1
        if any("knight" not in r and "knave" not in r for r in out.values()):
            return -1
        return 2 if gt == out else -0.5

    answers = [
        "(1) Zoey is a knight\n(2) Oliver is a knave",
        "(1) Oliver is a knave\n(2) Zoey is a knight",
        "(1) Zoey is a knave\n(2) Oliver is a knave",
        "(1) Zoey is a knight",
        "(1) Zoey is a knight\n(2) Bob is a knave",
        "(1) Zoey is a knight\n(2) Oliver is a sage",
    ]
    for ans in answers:
        for completion in (wrap(ans), "no think " + ans, wrap(ans) + wrap(ans)):
            assert score_knights_knaves(completion, REF).value == reward_kk(completion, REF), completion


def test_unit_scheme_and_references():
    kk = registry.get("knights_knaves", scheme="unit", format="none")
    ref3 = {"Ann": True, "Bo": False, "Cy": "knave"}
    assert kk.score(Sample("Ann is a knight, Bo is a knave, Cy is a knave", reference=ref3)).value == 1.0
    # 2 of 3 right, everyone named: 0.3 + 0.7 * 2/3
    part = kk.score(Sample("Ann is a knight, Bo is a knave, Cy is a knight", reference=ref3))
    assert part.verdict is Verdict.PARTIAL and part.value == pytest.approx(0.3 + 0.7 * 2 / 3)
    assert kk.score(Sample("Ann is a knight, Bo is a knave", reference=ref3)).value == 0.0  # someone missing
    assert kk.score(Sample("Ann is a knave, Bo is a knight, Cy is a knight", reference=ref3)).value == 0.0
    no_partial = registry.get("knights_knaves", scheme="unit", format="none", partial_credit=False)
    assert no_partial.score(Sample("Ann is a knight, Bo is a knave, Cy is a knight", reference=ref3)).value == 0.0
    tagged = registry.get("knights_knaves", scheme="unit", format="answer_tag")
    assert tagged.score(Sample("<answer>Ann is a knight, Bo is a knave, Cy is a knave</answer>", reference=ref3)).passed
    assert tagged.score(Sample("Ann is a knight", reference=ref3)).verdict is Verdict.INVALID
    heroes = "Amelia is a hero, and Elizabeth is a villain."
    assert kk.score(Sample("Elizabeth is a villain and Amelia is a hero", reference=heroes)).passed
    assert kk.score(Sample("Elizabeth is a knave and Amelia is a hero", reference=heroes)).details["rule"] == "unknown_role"
    custom = registry.get("knights_knaves", scheme="unit", format="none", roles=["truthteller", "liar"])
    assert custom.score(Sample("Ann is a truthteller", reference={"Ann": True})).passed
    for bad in (None, 3, "", "nobody here", {"Ann": 1.5}, {"Ann": "knight", "Bo": "hero"}, "A is a knight. A is a knave."):
        assert kk.score(Sample("Ann is a knight", reference=bad)).verdict is Verdict.SKIP, bad


def test_parse_and_config():
    assert parse_assignments("Zoey is a knight. Zoey is a knave.") == ({"zoey": "knight"}, ["zoey"])
    assert parse_assignments("Max is not a hero") == ({"max": "villain"}, [])
    for opts, match in (
        ({"scheme": "signed"}, "allowed: warmup, unit"),
        ({"format": "xml"}, "allowed: warmup, answer_tag, none"),
        ({"roles": ["knight"]}, "two different words"),
        ({"roles": "knight"}, "two different words"),
    ):
        with pytest.raises(ConfigError, match=match):
            registry.get("knights_knaves", **opts)
    kk = registry.get("knights_knaves", roles=("knight", "knave"))
    assert pickle.loads(pickle.dumps(kk)) == kk and kk.__name__ == "knights_knaves"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120), st.sampled_from(["warmup", "unit"]), st.sampled_from(["warmup", "answer_tag", "none"]))
def test_never_raises_and_bounded(text, scheme, fmt):
    s = registry.get("knights_knaves", scheme=scheme, format=fmt).score(Sample(text, reference=REF))
    allowed = {-2.0, -1.0, -0.5, 2.0} if scheme == "warmup" else None
    assert s.value is not None
    assert s.value in allowed if allowed else 0.0 <= s.value <= 1.0


# --------------------------------------------------------------------------- reasoning-gym


def test_unit_scheme_agrees_with_reasoning_gym():
    rg = pytest.importorskip("reasoning_gym")
    ds = rg.create_dataset("knights_knaves", size=24, seed=7, n_people=3, depth_constraint=2, width_constraint=2)
    kk = registry.get("knights_knaves", scheme="unit", format="none")
    kk_tagged = registry.get("knights_knaves", scheme="unit", format="warmup")
    checked = 0
    for entry in ds:
        terms = entry["metadata"]["knight_knave_terms"]
        names = [str(n) for n in entry["metadata"]["names"]]
        truth = list(entry["metadata"]["solution"])
        role = {True: terms["a_knight"], False: terms["a_knave"]}
        variants = [
            truth,  # right
            [not truth[0], *truth[1:]],  # one flipped
            [not t for t in truth],  # all flipped
        ]
        answers = [", and ".join(f"{n} is {role[t]}" for n, t in zip(names, v)) + "." for v in variants]
        answers.append(", and ".join(f"{n} is {role[t]}" for n, t in zip(names[:-1], truth[:-1])) + ".")  # one missing
        answers.append("\n".join(f"({i + 1}) {n} is {role[t]}" for i, (n, t) in enumerate(zip(names, truth))))  # the paper's lines
        answers.append(entry["answer"])
        for answer in answers:
            expected = ds.score_answer(answer, entry)
            assert kk.score(Sample(answer, reference=entry)).value == pytest.approx(expected), answer
            wrapped = f"<think>reasoning</think>\n<answer>{answer}</answer>"
            assert kk_tagged.score(Sample(wrapped, reference=entry["answer"])).value == pytest.approx(expected)
            checked += 1
    assert checked == 24 * 6
