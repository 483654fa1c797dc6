"""Token-budget batching, device planning and out-of-memory detection (no torch import).

What TRL's GRPO reward path and OpenRLHF's ``serve_rm`` do is cut the inputs into
batches of a fixed *count*, in arrival order, each padded to its longest member. With the
long-tailed lengths of reasoning traces most of such a batch is padding. Here the inputs
are sorted by length (longest first, so an out-of-memory error shows on the first batch)
and cut where the padded size ``longest * count`` would pass a *token budget*, the
dynamic-batch scheme of verl's reward worker (``use_dynamic_bsz`` with
``forward_max_token_len_per_gpu``).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

__all__ = ["assign_to_devices", "is_oom", "padded_tokens", "plan_batches", "resolve_device_names"]


def plan_batches(
    lengths: Sequence[int], budget: int, *, max_batch_size: int | None = None, multiple_of: int = 1
) -> list[list[int]]:
    """Indices of ``lengths`` cut into batches whose padded size stays within ``budget`` tokens.

    Longest first; within a batch the indices are in decreasing length. A sequence longer
    than the budget gets a batch of its own. ``multiple_of`` rounds the padded length up
    (tensor cores like multiples of 8).

    Example:
        >>> plan_batches([5, 100, 7, 90], budget=200)
        [[1, 3], [2, 0]]
    """
    if budget < 1:
        raise ValueError(f"budget must be positive, got {budget}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    width = 0
    for i in order:
        n = _round_up(lengths[i], multiple_of)
        full = max_batch_size is not None and len(current) >= max_batch_size
        if current and (full or max(width, n) * (len(current) + 1) > budget):
            batches.append(current)
            current, width = [], 0
        current.append(i)
        width = max(width, n)
    if current:
        batches.append(current)
    return batches


def _round_up(n: int, k: int) -> int:
    return n if k <= 1 else -(-n // k) * k


def padded_tokens(lengths: Sequence[int], batch: Sequence[int], multiple_of: int = 1) -> int:
    """Tokens a batch occupies once padded to its longest member."""
    if not batch:
        return 0
    return _round_up(max(lengths[i] for i in batch), multiple_of) * len(batch)


def assign_to_devices(costs: Sequence[float], n_devices: int) -> list[list[int]]:
    """Spread batches over devices so their total costs are balanced (longest-processing-time first).

    Returns, per device, the batch indices it runs, in the order given.

    Example:
        >>> assign_to_devices([10, 3, 8, 2], 2)
        [[0, 3], [1, 2]]
    """
    if n_devices < 1:
        raise ValueError(f"need at least one device, got {n_devices}")
    loads = [(0.0, d) for d in range(n_devices)]
    heapq.heapify(loads)
    out: list[list[int]] = [[] for _ in range(n_devices)]
    for b in sorted(range(len(costs)), key=lambda b: (-costs[b], b)):
        load, d = heapq.heappop(loads)
        out[d].append(b)
        heapq.heappush(loads, (load + costs[b], d))
    return [sorted(bs) for bs in out]


def resolve_device_names(device: str | Sequence[str], *, cuda_count: int, mps: bool = False) -> list[str]:
    """The devices a judge uses.

    ``"auto"``: every visible CUDA GPU (data parallel), else ``mps``, else ``cpu``.
    ``"cuda"``: the first GPU. A comma-separated string or a list names several devices.

    Example:
        >>> resolve_device_names("auto", cuda_count=3)
        ['cuda:0', 'cuda:1', 'cuda:2']
        >>> resolve_device_names("auto", cuda_count=0)
        ['cpu']
    """
    if isinstance(device, str):
        names = [d.strip() for d in device.split(",") if d.strip()]
    else:
        names = [str(d).strip() for d in device]
    if not names:
        raise ValueError("device must name at least one device")
    if names == ["auto"]:
        if cuda_count > 0:
            return [f"cuda:{i}" for i in range(cuda_count)]
        return ["mps"] if mps else ["cpu"]
    out = []
    for name in names:
        if name == "auto":
            raise ValueError("'auto' cannot be combined with other devices")
        if name == "cuda":
            name = "cuda:0"
        if name.startswith("cuda"):
            index = int(name.split(":", 1)[1]) if ":" in name else 0
            if index >= cuda_count:
                raise ValueError(f"device {name!r} is not available ({cuda_count} CUDA device(s) visible)")
        out.append(name)
    return out


def is_oom(exc: BaseException) -> bool:
    """Whether ``exc`` is an accelerator out-of-memory error (CUDA, ROCm, MPS, XPU)."""
    if type(exc).__name__ == "OutOfMemoryError" or isinstance(exc, MemoryError):
        return True
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        return "out of memory" in text or "cublas_status_alloc_failed" in text
    return False
