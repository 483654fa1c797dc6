"""Model-side helpers of :class:`~moreward.verifiers.judge.hf.HFJudge` (torch is passed in, never imported here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["DTYPES", "context_length", "dtype_kwarg", "head_plan", "resolve_dtype", "single_tokens"]

DTYPES: dict[str, str] = {
    "fp32": "float32", "float32": "float32", "fp16": "float16", "float16": "float16", "half": "float16",
    "bf16": "bfloat16", "bfloat16": "bfloat16",
}
"""dtype names accepted by the ``dtype`` option -> torch dtype attribute names."""


def dtype_kwarg(version: str) -> str:
    """``from_pretrained``'s dtype keyword: ``dtype`` from transformers 4.56, ``torch_dtype`` before.

    Example:
        >>> dtype_kwarg("4.45.2"), dtype_kwarg("5.23.0")
        ('torch_dtype', 'dtype')
    """
    parts = []
    for piece in version.split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return "dtype" if tuple(parts) >= (4, 56) else "torch_dtype"


def resolve_dtype(torch: Any, dtype: str, device: str) -> str:
    """The torch dtype name for ``dtype``; ``"auto"``: bf16 on CUDA (fp16 without bf16), fp32 elsewhere."""
    if dtype != "auto":
        return DTYPES[dtype]
    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "float32"


def head_plan(torch: Any, model: Any, kind: str) -> str:
    """``"gather"`` when the base model and the head can be run apart, else ``"full"``."""
    prefix = getattr(model, "base_model_prefix", "")
    base = getattr(model, prefix, None) if prefix else None
    if base is None or getattr(model.config, "is_encoder_decoder", False):
        return "full"
    if kind == "yes_no":
        return "gather" if model.get_output_embeddings() is not None else "full"
    return "gather" if isinstance(getattr(model, "score", None), torch.nn.Linear) else "full"


def context_length(model: Any, tok: Any) -> int:
    """The default ``max_length``: the smaller of the model's positions and the tokenizer's limit."""
    n = getattr(model.config, "max_position_embeddings", None)
    t = getattr(tok, "model_max_length", None)
    candidates = [int(x) for x in (n, t) if isinstance(x, int) and 1 < x < 10_000_000]
    return min(candidates) if candidates else 4096


def single_tokens(tok: Any, words: Sequence[str]) -> list[int]:
    """Ids of the words (bare and after a space) that the tokenizer encodes as one token."""
    ids: list[int] = []
    for word in words:
        for form in (word, " " + word):
            enc = tok.encode(form, add_special_tokens=False)
            if len(enc) == 1 and enc[0] not in ids:
                ids.append(int(enc[0]))
    return ids
