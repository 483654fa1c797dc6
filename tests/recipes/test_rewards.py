"""Each text-only recipe on hand-made samples, against the value its paper's formula gives."""

from __future__ import annotations

import math

import pytest

from moreward import Sample, Verdict, recipes

RIGHT = r"So the answer is $\boxed{4}$."
WRONG = r"So the answer is $\boxed{5}$."


def rewards(name: str, samples: list[Sample], **overrides: object) -> list[float | None]:
    return [r.reward for r in recipes.get(name, **overrides).score(samples)]


# --------------------------------------------------------------------------- DeepSeek-R1 / open-r1


def test_deepseek_r1_accuracy_format_tag_count():
    samples = [
        Sample("<think>\n2+2=4\n</think>\n<answer>\n4\n</answer>", reference="4"),  # 1 + 1 + 4 * 0.25
        Sample("<think>2+2=4</think> <answer>4</answer>", reference="4"),  # 1 + 0 (layout) + 0 tags
        Sample("<think>\n2+2=5\n</think>\n<answer>\n5\n</answer>", reference="4"),  # 0 + 1 + 1
        Sample("<think>\nhmm\n</think>\nThe answer is 4", reference="4"),  # 1 + 0 + 2 * 0.25
    ]
    assert rewards("deepseek_r1", samples) == pytest.approx([3.0, 1.0, 2.0, 1.5])


# --------------------------------------------------------------------------- DAPO


def test_dapo_plus_minus_one_and_the_buffer_edges():
    # L_max = 20480, L_cache = 4096: no penalty up to 16384, linear to -1 at 20480, -1 past it
    cases = [(RIGHT, 16384, 1.0), (RIGHT, 16385, 1.0 - 1 / 4096), (RIGHT, 18432, 0.5), (RIGHT, 20480, 0.0),
             (WRONG, 20481, -2.0), (WRONG, 100, -1.0), ("I do not know.", 100, -1.0)]
    samples = [Sample(c, reference="4", tokens=n) for c, n, _ in cases]
    assert rewards("dapo", samples) == pytest.approx([v for _, _, v in cases])


def test_dapo_overrides():
    samples = [Sample(RIGHT, reference="4", tokens=n) for n in (80, 90, 101)]
    assert rewards("dapo", samples, max_tokens=100, buffer=20) == pytest.approx([1.0, 0.5, 0.0])
    assert rewards("dapo", samples, max_tokens=100, buffer=20, penalty_factor=0.5) == pytest.approx([1.0, 0.75, 0.5])


# --------------------------------------------------------------------------- Kimi k1.5


def _kimi_group(step: int | None) -> list[Sample]:
    meta = {} if step is None else {"step": step}
    return [
        Sample(RIGHT, reference="4", group="q", tokens=100, meta=meta),  # lambda = 0.5
        Sample(RIGHT, reference="4", group="q", tokens=200, meta=meta),  # lambda = 0
        Sample(WRONG, reference="4", group="q", tokens=300, meta=meta),  # lambda = -0.5, wrong: min(0, .)
    ]


def test_kimi_warm_up_then_constant_length_penalty():
    assert rewards("kimi_k15", _kimi_group(0)) == pytest.approx([1.0, 1.0, 0.0])
    assert rewards("kimi_k15", _kimi_group(99)) == pytest.approx([1.0, 1.0, 0.0])
    assert rewards("kimi_k15", _kimi_group(100)) == pytest.approx([1.5, 1.0, -0.5])
    assert rewards("kimi_k15", _kimi_group(5000)) == pytest.approx([1.5, 1.0, -0.5])
    assert rewards("kimi_k15", _kimi_group(10), warmup_steps=10, length_weight=0.5) == pytest.approx([1.25, 1.0, -0.25])


def test_kimi_without_a_step_keeps_accuracy_and_says_why():
    results = recipes.get("kimi_k15").score(_kimi_group(None))
    assert [r.reward for r in results] == [1.0, 1.0, 0.0]
    assert results[0].components["length"].verdict is Verdict.ERROR


# --------------------------------------------------------------------------- Demystifying Long CoT


def _cos(t: float, T: float, a: float, b: float) -> float:  # CosFn(t, T, a, b) as in the paper
    return a + 0.5 * (b - a) * (1 + math.cos(math.pi * t / T))


def test_demystify_cosine_and_repetition():
    T = 14336
    samples = [
        Sample(RIGHT, reference="4", tokens=0),
        Sample(RIGHT, reference="4", tokens=T // 2),
        Sample(WRONG, reference="4", tokens=T // 2),
        Sample(WRONG, reference="4", tokens=T - 16),  # t + margin >= T: the exceed penalty
        # 80 tokens whose second half repeats the first 40-gram: 40 covered positions * -0.05
        Sample(RIGHT, reference="4", tokens=80, meta={"completion_ids": list(range(40)) * 2}),
    ]
    expected = [
        _cos(0, T, 1, 2),
        _cos(T // 2, T, 1, 2),
        _cos(T // 2, T, 0, -10),
        -10.0,
        _cos(80, T, 1, 2) - 0.05 * 40,
    ]
    assert expected[:3] == pytest.approx([2.0, 1.5, -5.0])
    assert rewards("demystify", samples) == pytest.approx(expected)


# --------------------------------------------------------------------------- L1


def test_l1_exact_target_from_the_prompt():
    prompt = "What is 2 + 2? Think for 1000 tokens."
    samples = [
        Sample(RIGHT, reference="4", prompt=prompt, tokens=1000),  # 1 - 0
        Sample(RIGHT, reference="4", prompt=prompt, tokens=1500),  # 1 - 0.0003 * 500
        Sample(WRONG, reference="4", prompt=prompt, tokens=800),  # 0 - 0.0003 * 200
        Sample(RIGHT, reference="4", prompt="What is 2 + 2?", tokens=1000),  # no target: no reward
    ]
    assert rewards("l1_exact", samples) == pytest.approx([1.0, 0.85, -0.06, None])
    assert rewards("l1_exact", samples[:2], alpha=0.001) == pytest.approx([1.0, 0.5])


def test_l1_max_budget_from_the_prompt():
    prompt = "What is 2 + 2? Think for maximum 1000 tokens."
    cases = [(RIGHT, 400, 1.0), (RIGHT, 800, 0.7), (RIGHT, 1000, 0.5), (RIGHT, 1600, 0.0), (WRONG, 500, 0.0)]
    samples = [Sample(c, reference="4", prompt=prompt, tokens=n) for c, n, _ in cases]
    # 1[correct] * clip((1000 - n) / 1000 + 0.5, 0, 1)
    assert rewards("l1_max", samples) == pytest.approx([v for _, _, v in cases])


# --------------------------------------------------------------------------- Vision-R1


def test_vision_r1_hfrrf_under_staged_limits():
    good = "<think>2 + 2 = 4</think><answer>4</answer>"
    cases = [
        (good, 50, 4000, 1.0),  # stage 1 (4K): within
        (good, 50, 5000, 0.0),  # stage 1: past 4096, cut off
        (good, 150, 5000, 1.0),  # stage 2 (8K): within
        (good, 150, 9000, 0.0),  # stage 2: past 8192
        (r"The answer is \boxed{4}", 150, 100, 0.0),  # right answer, wrong format
        ("<think>2 + 2 = 5</think><answer>5</answer>", 150, 100, 0.0),  # right format, wrong answer
    ]
    samples = [Sample(c, reference="4", tokens=n, meta={"step": s}) for c, s, n, _ in cases]
    assert rewards("vision_r1", samples) == [v for *_, v in cases]
    longer = rewards("vision_r1", samples[:4], stage_steps=[100, 200], stage_limits=[4096, 4500, 16384])
    assert longer == [1.0, 0.0, 0.0, 0.0]


def test_vision_r1_without_a_step_is_not_a_silent_pass():
    [res] = recipes.get("vision_r1").score([Sample("<think>x</think><answer>4</answer>", reference="4", tokens=10)])
    assert res.reward == 0.0 and res.components["length"].verdict is Verdict.ERROR


# --------------------------------------------------------------------------- TON


def test_ton_empty_think_is_valid():
    samples = [
        Sample("<think>\n\n</think><answer>4</answer>", reference="4"),  # skipped thought: 1 + 1
        Sample("<think>\n\n</think><answer>5</answer>", reference="4"),  # 0 + 1
        Sample("<think>2 + 2 = 4</think>\n<answer>4</answer>", reference="4"),  # 1 + 1
        Sample("The answer is 4.", reference="4"),  # 1 + 0
    ]
    assert rewards("ton", samples) == [2.0, 1.0, 2.0, 1.0]
    gui = [Sample("<think>\n\n</think><action>4</action>", reference="4")]
    assert recipes.get("ton", answer_tag="action").score(gui)[0].raw["format"] == 1.0


# --------------------------------------------------------------------------- Parallel-R1

PAR_OK = r"<Parallel><Path>2+2</Path><Path>4-0</Path></Parallel><Summary>both give 4</Summary> \boxed{4}"
PAR_BAD = r"<Parallel><Path>2+2</Path></Parallel><Summary>one path</Summary> \boxed{4}"  # one path only
PAR_WRONG = r"<Parallel><Path>2+3</Path><Path>5</Path></Parallel><Summary>5</Summary> \boxed{5}"
STRAY = r"<Summary>no block</Summary> \boxed{4}"  # no <Parallel>: the code's format check is not applied


def test_parallel_r1_alternating_schedule_by_step():
    completions = [PAR_OK, PAR_BAD, RIGHT, PAR_WRONG, STRAY]
    for step, expected in [
        (0, [1.0, 1.0, 1.0, -1.0, 1.0]),  # accuracy-only steps: +1 / -1
        (7, [1.0, 1.0, 1.0, -1.0, 1.0]),
        (8, [1.2, -1.0, 1.0, -1.0, 1.0]),  # parallel steps: 1.2 / -1 (malformed) / 1.0 (none) / -1
        (9, [1.2, -1.0, 1.0, -1.0, 1.0]),
        (10, [1.0, 1.0, 1.0, -1.0, 1.0]),
        (18, [1.2, -1.0, 1.0, -1.0, 1.0]),
    ]:
        samples = [Sample(c, reference="4", meta={"step": step}) for c in completions]
        assert rewards("parallel_r1", samples) == pytest.approx(expected), step
    half = [Sample(PAR_OK, reference="4", meta={"step": s}) for s in (0, 9, 10)]
    assert rewards("parallel_r1", half, period=20, ratio=0.5) == pytest.approx([1.0, 1.0, 1.2])


# --------------------------------------------------------------------------- Warm Up Before You Train

KK_REF = "(1) Zoey is a knight\n(2) Oliver is a knave"


def test_knights_and_knaves_scheme():
    cases = [
        ("<think>Zoey says...</think>\n<answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>", 2.0),
        ("<think>Zoey says...</think>\n<answer>(1) Zoey is a knave\n(2) Oliver is a knave</answer>", -0.5),
        ("<think>Zoey says...</think>\n<answer>(1) Zoey is a knight\n(2) Bob is a knave</answer>", -1.0),
        ("<think>Zoey says...</think>\n<answer>(1) Zoey is a knight\n(2) Oliver is a pirate</answer>", -1.0),
        ("<answer>(1) Zoey is a knight\n(2) Oliver is a knave</answer>", -2.0),  # no </think>
        ("<think>a</think><answer>x</answer><answer>y</answer>", -2.0),  # two <answer>
    ]
    assert rewards("warmup_kk", [Sample(c, reference=KK_REF) for c, _ in cases]) == [v for _, v in cases]


# --------------------------------------------------------------------------- AVAR


def test_avar_visual_reward_gated_on_accuracy():
    ok, bad_fmt = "<think>look at the image</think>\n<answer>4</answer>", "Sure. <think>look</think><answer>4</answer>"
    samples = [
        Sample(ok, reference="4", meta={"vis": 0.5}),  # 1 + 0.3 * 0.5 + 0.1
        Sample(ok.replace(">4<", ">5<"), reference="4", meta={"vis": 0.9}),  # 0 + 0 (gated) + 0.1
        Sample(bad_fmt, reference="4"),  # 1 + no vis value + 0
        Sample(ok, reference="4", meta={"vis": 1.0}),  # 1 + 0.3 + 0.1
    ]
    assert rewards("avar", samples) == pytest.approx([1.25, 0.1, 1.0, 1.4])
    tuned = rewards("avar", samples[:1], vis_key="attn", lambda_v=1.0, lambda_f=0.0)
    assert tuned == pytest.approx([1.0])  # no meta["attn"]: the visual term has no value
    samples[0] = Sample(ok, reference="4", meta={"attn": 0.5})
    assert rewards("avar", samples[:1], vis_key="attn", lambda_v=1.0, lambda_f=0.0) == pytest.approx([1.5])


# --------------------------------------------------------------------------- TH2T


def test_th2t_budget_from_the_group_pass_rate():
    # pass rate 2/4 = 0.5 -> B = 500 - 0.5 * (500 - 100) = 300 tokens
    samples = [
        Sample(RIGHT, reference="4", group="q", tokens=200),  # within: 1
        Sample(RIGHT, reference="4", group="q", tokens=400),  # 100 over: 1 - 100/300
        Sample(WRONG, reference="4", group="q", tokens=100),  # wrong: 0, no length term
        Sample(WRONG, reference="4", group="q", tokens=900),  # wrong: 0, no length term
        Sample(RIGHT, reference="4", group="easy", tokens=150),  # alone, pass rate 1: B = 100, 50 over
    ]
    assert rewards("th2t", samples, min_tokens=100, max_tokens=500) == pytest.approx([1.0, 2 / 3, 0.0, 0.0, 0.5])


# --------------------------------------------------------------------------- weight warm-up


def test_weight_warmup_ramps_the_length_weight_linearly():
    def group(step: int) -> list[Sample]:
        return [Sample(RIGHT, reference="4", group="q", tokens=n, meta={"step": step}) for n in (100, 300)]

    # Kimi lambda = +0.5 (short) and -0.5 (long), both correct; w = clip(step / 100, 0, 1)
    for step, w in [(0, 0.0), (25, 0.25), (50, 0.5), (100, 1.0), (10_000, 1.0)]:
        assert rewards("weight_warmup", group(step)) == pytest.approx([1 + 0.5 * w, 1 - 0.5 * w]), step
    # re-warm from step 200 over 50 steps up to a weight of 2
    assert rewards("weight_warmup", group(225), delay=200, warmup_steps=50, weight=2.0) == pytest.approx([1.5, 0.5])
    assert rewards("weight_warmup", group(150), delay=200, warmup_steps=50, weight=2.0) == pytest.approx([1.0, 1.0])
