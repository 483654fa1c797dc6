"""Token-budget batches, device plans (fake device lists) and OOM detection: no torch needed."""

from __future__ import annotations

import random

import pytest

from moreward.verifiers.judge import assign_to_devices, is_oom, plan_batches
from moreward.verifiers.judge.batching import padded_tokens, resolve_device_names


@pytest.mark.parametrize("seed", range(5))
def test_plan_batches_respects_the_budget(seed):
    rng = random.Random(seed)
    lengths = [int(min(4000, max(50, rng.lognormvariate(5.5, 1.0)))) for _ in range(300)]
    budget = rng.choice([512, 4096, 16384])
    batches = plan_batches(lengths, budget, max_batch_size=64, multiple_of=8)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 64
        assert padded_tokens(lengths, b, 8) <= budget or len(b) == 1
        assert [lengths[i] for i in b] == sorted((lengths[i] for i in b), reverse=True)
    widths = [max(lengths[i] for i in b) for b in batches]
    assert widths == sorted(widths, reverse=True)  # longest first: an OOM shows at once
    fixed = sum(padded_tokens(lengths, list(range(k, min(k + 16, 300)))) for k in range(0, 300, 16))
    assert sum(padded_tokens(lengths, b) for b in batches) < fixed


def test_plan_batches_edges():
    assert plan_batches([], 10) == []
    assert plan_batches([50], 10) == [[0]]  # longer than the budget: alone
    assert plan_batches([3, 3, 3], 9) == [[0, 1, 2]]
    assert plan_batches([3, 3, 3], 8) == [[0, 1], [2]]
    assert plan_batches([5, 5], 100, multiple_of=8) == [[0, 1]]
    with pytest.raises(ValueError):
        plan_batches([1], 0)


def test_assign_to_devices_balances():
    rng = random.Random(0)
    costs = [rng.uniform(1, 100) for _ in range(40)]
    plan = assign_to_devices(costs, 4)
    assert sorted(b for d in plan for b in d) == list(range(40))
    loads = [sum(costs[b] for b in d) for d in plan]
    assert max(loads) - min(loads) <= max(costs)
    assert assign_to_devices([5.0], 3) == [[0], [], []]
    with pytest.raises(ValueError):
        assign_to_devices([1.0], 0)


def test_resolve_device_names_with_fake_device_lists():
    assert resolve_device_names("auto", cuda_count=4) == ["cuda:0", "cuda:1", "cuda:2", "cuda:3"]
    assert resolve_device_names("auto", cuda_count=0, mps=True) == ["mps"]
    assert resolve_device_names("auto", cuda_count=0) == ["cpu"]
    assert resolve_device_names("cuda", cuda_count=2) == ["cuda:0"]
    assert resolve_device_names("cuda:0, cuda:1", cuda_count=2) == ["cuda:0", "cuda:1"]
    assert resolve_device_names(["cuda:1", "cpu"], cuda_count=2) == ["cuda:1", "cpu"]
    for bad, n in (("cuda:2", 2), ("cuda", 0), ("", 1), ("auto,cpu", 1)):
        with pytest.raises(ValueError):
            resolve_device_names(bad, cuda_count=n)


def test_is_oom():
    class OutOfMemoryError(RuntimeError):
        pass

    assert is_oom(OutOfMemoryError("CUDA out of memory"))
    assert is_oom(RuntimeError("CUDA error: out of memory"))
    assert is_oom(RuntimeError("MPS backend out of memory"))
    assert is_oom(MemoryError())
    assert not is_oom(RuntimeError("shape mismatch"))
    assert not is_oom(ValueError("out of memory"))  # not an allocator error
