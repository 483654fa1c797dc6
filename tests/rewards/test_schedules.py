"""Schedules at their boundaries, and the ``scheduled`` objective."""

from __future__ import annotations

import pytest

from moreward import ConfigError, Sample, Verdict, registry
from moreward.rewards import Alternating, Constant, LinearWarmup, Piecewise, Scheduled, make_schedule


def test_constant():
    c = Constant(0.3)
    assert [c(s) for s in (0, 1, 10**9)] == [0.3, 0.3, 0.3]


def test_linear_warmup_boundaries():
    w = LinearWarmup(100)
    assert [w(s) for s in (0, 1, 50, 99, 100, 101)] == [0.0, 0.01, 0.5, 0.99, 1.0, 1.0]
    d = LinearWarmup(10, start=0.2, end=1.2, delay=5)
    assert [d(s) for s in (0, 4, 5, 6, 14, 15, 16)] == pytest.approx([0.2, 0.2, 0.2, 0.3, 1.1, 1.2, 1.2])
    # Kimi: no penalty first, then a constant one
    jump = LinearWarmup(0, delay=200)
    assert [jump(s) for s in (0, 199, 200, 10_000)] == [0.0, 0.0, 1.0, 1.0]
    down = LinearWarmup(4, start=1.0, end=0.0)  # a weight ramped out
    assert [down(s) for s in (0, 2, 4)] == [1.0, 0.5, 0.0]


def test_piecewise_boundaries():
    p = Piecewise(boundaries=[100, 200], values=[4096, 8192, 16384])
    assert [p(s) for s in (0, 99, 100, 101, 199, 200, 10**6)] == [4096, 4096, 8192, 8192, 8192, 16384, 16384]
    assert Piecewise(boundaries=[], values=[7])(123) == 7.0
    with pytest.raises(ConfigError, match="one more value than boundaries"):
        Piecewise(boundaries=[100], values=[1, 2, 3])
    with pytest.raises(ConfigError, match="strictly increasing"):
        Piecewise(boundaries=[100, 100], values=[1, 2, 3])


def test_alternating_boundaries():
    a = Alternating()  # Parallel-R1: 8 steps of the first reward, 2 of the second, every 10 steps
    assert [a(s) for s in range(20)] == [0.0] * 8 + [1.0] * 2 + [0.0] * 8 + [1.0] * 2
    assert a.first_steps == 8
    half = Alternating(period=20, ratio=0.5, first=1.0, second=0.0)
    assert [half(s) for s in (0, 9, 10, 19, 20)] == [1.0, 1.0, 0.0, 0.0, 1.0]
    assert {Alternating(ratio=0.0)(s) for s in range(10)} == {1.0}
    assert {Alternating(ratio=1.0)(s) for s in range(10)} == {0.0}
    off = Alternating(period=10, ratio=0.8, offset=5)
    assert [off(s) for s in (0, 4, 5, 12, 13, 14, 15)] == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0]


def test_make_schedule():
    assert make_schedule(0.5) == Constant(0.5)
    w = make_schedule({"kind": "linear_warmup", "warmup_steps": 10, "delay": 2})
    assert w == LinearWarmup(10, delay=2) and make_schedule(w.to_dict()) == w
    p = Piecewise(boundaries=[3], values=[1, 2])
    assert make_schedule(p.to_dict()) == p
    with pytest.raises(ConfigError, match="allowed: constant, linear_warmup, piecewise, alternating"):
        make_schedule({"kind": "cosine"})
    with pytest.raises(ConfigError, match=r"unknown option\(s\) 'steps'; allowed: warmup_steps"):
        make_schedule({"kind": "linear_warmup", "steps": 10})
    with pytest.raises(ConfigError, match="warmup_steps must be >= 0"):
        make_schedule({"kind": "linear_warmup", "warmup_steps": -1})
    with pytest.raises(ConfigError, match="a number or a mapping"):
        make_schedule("linear")


def step(n: int, s: int, **meta) -> Sample:
    return Sample("x", tokens=n, meta={"step": s, **meta})


def test_scheduled_weight():
    obj = Scheduled({"type": "dapo_overlong", "max_tokens": 100, "buffer": 20}, {"kind": "linear_warmup", "warmup_steps": 10})
    scores = obj.score_batch([step(90, 0), step(90, 5), step(90, 10), step(50, 10)])
    assert [s.value for s in scores] == [0.0, -0.25, -0.5, 0.0]
    assert scores[1].details["weight"] == 0.5 and scores[1].details["step"] == 5
    assert scores[1].details["length"] == 90 and scores[1].verdict is Verdict.PARTIAL


def test_scheduled_param_vision_r1_stages():
    stages = {"kind": "piecewise", "boundaries": [100, 200], "values": [4096, 8192, 16384]}
    obj = registry.get("scheduled", objective={"type": "dapo_overlong", "buffer": 0}, schedule=stages, param="max_tokens")
    scores = obj.score_batch([step(5000, 0), step(5000, 99), step(5000, 100), step(9000, 150), step(9000, 200)])
    assert [s.value for s in scores] == [-1.0, -1.0, 0.0, -1.0, 0.0]
    assert scores[2].details["max_tokens"] == 8192


def test_scheduled_group_objective_per_step():
    obj = Scheduled({"type": "kimi_length"}, Alternating(period=2, ratio=0.5))
    samples = [
        Sample("x", tokens=10, group=1, meta={"step": 1, "correct": True}),
        Sample("x", tokens=30, group=1, meta={"step": 1, "correct": True}),
        Sample("x", tokens=20, group=2, meta={"step": 0, "correct": True}),
    ]
    assert [s.value for s in obj.score_batch(samples)] == [0.5, -0.5, 0.0]


def test_scheduled_missing_step():
    obj = Scheduled({"type": "dapo_overlong", "max_tokens": 10, "buffer": 0}, 2.0)
    s = obj.score(Sample("x", tokens=11))
    assert s.value is None and s.verdict is Verdict.ERROR and "meta['step']" in s.reason
    dflt = Scheduled({"type": "dapo_overlong", "max_tokens": 10, "buffer": 0}, 2.0, default_step=0)
    assert dflt.score(Sample("x", tokens=11)).value == -2.0
    custom = Scheduled({"type": "dapo_overlong", "max_tokens": 10, "buffer": 0}, 2.0, step_key="global_step")
    assert custom.score(Sample("x", tokens=11, meta={"global_step": 3})).value == -2.0


def test_scheduled_passes_on_no_value():
    obj = Scheduled({"type": "kimi_length"}, 0.5)
    s = obj.score(Sample("x", tokens=3, meta={"step": 1}))  # no correctness
    assert s.value is None and s.verdict is Verdict.SKIP


def test_scheduled_config_errors():
    with pytest.raises(ConfigError, match="max_tokens must be >= 1"):
        Scheduled({"type": "dapo_overlong", "buffer": 0}, Piecewise(boundaries=[5], values=[100, 0]), param="max_tokens")
    with pytest.raises(ConfigError, match="remove it from the objective"):
        Scheduled({"type": "dapo_overlong", "max_tokens": 5}, 10, param="max_tokens")
    with pytest.raises(ConfigError, match="must be a config mapping"):
        Scheduled(registry.get("dapo_overlong"), 10, param="max_tokens")
    with pytest.raises(ConfigError, match=r"unknown option\(s\) 'max_len'"):
        Scheduled({"type": "dapo_overlong"}, 10, param="max_len")
    with pytest.raises(ConfigError, match="objective must be an objective or a mapping"):
        Scheduled("dapo_overlong", 1.0)
