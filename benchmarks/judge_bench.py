"""Reward-model scoring throughput: ``HFJudge`` against fixed-size padded batches, in one run.

Generates ``--n`` completions whose lengths follow a long-tailed lognormal distribution
(median ``--median`` tokens, clipped to 50..4,000), as RL rollouts of a reasoning model
do, and scores them with one sequence-classifier reward model (a Qwen2-style model built
from a config, random weights: throughput does not depend on them) two ways:

- ``fixed``: what TRL's GRPO reward path and OpenRLHF's ``serve_rm`` do: chunks of
  ``--baseline-batch`` completions in arrival order, each padded to its longest member
  (right padding), one forward per chunk under ``torch.inference_mode``, Hugging Face's
  own last-token pooling;
- ``hf_judge``: :class:`~moreward.verifiers.judge.HFJudge` with a token budget of
  ``--budget`` (sorted by length, cut by padded tokens), its full path (rendering and
  tokenization included, as for the baseline).

Reported per method: wall time (best of ``--repeat`` runs, the two methods alternating), tokens/s (real tokens, the same
numerator for both), padded tokens processed, padding waste (``1 - real/padded``), and
the largest score difference between the two (the same model, so only floating-point
noise). ``ratio`` is ours over fixed in tokens/s. With ``--vllm``, vLLM's
``LLM.classify`` on the same model and token ids is timed too (when vLLM is installed).

Model sizes (``--model-size``): ``tiny`` (2 layers, 128 wide; the CPU default), ``small``
(4 x 256), ``0.5b`` (Qwen2.5-0.5B's shape) and ``1.5b`` (Qwen2.5-1.5B's shape).

Usage::

    python benchmarks/judge_bench.py                     # CPU, tiny model, 256 completions
    python benchmarks/judge_bench.py --device cuda --dtype bf16 --model-size 0.5b --n 2048 --budget 65536
    python benchmarks/judge_bench.py --device cuda --dtype bf16 --model-size 1.5b --n 2048 --vllm
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moreward import Sample
from moreward.verifiers.judge import HFJudge

SIZES: dict[str, dict[str, int]] = {
    "tiny": {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "intermediate_size": 256, "vocab_size": 4096},
    "small": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
              "intermediate_size": 768, "vocab_size": 8192},
    "0.5b": {"hidden_size": 896, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
             "intermediate_size": 4864, "vocab_size": 151_936},
    "1.5b": {"hidden_size": 1536, "num_hidden_layers": 28, "num_attention_heads": 12, "num_key_value_heads": 2,
             "intermediate_size": 8960, "vocab_size": 151_936},
}
DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
N_WORDS = 4000  # the word-level tokenizer's vocabulary: one word, one token


def lengths(n: int, median: float, sigma: float, lo: int, hi: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(x) for x in np.clip(rng.lognormal(np.log(median), sigma, n), lo, hi)]


def build_tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[PAD]": 0, "[UNK]": 1, "[EOS]": 2} | {f"w{i}": i + 3 for i in range(N_WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", eos_token="[EOS]")


def build_model(size: str, tok: Any, device: str, dtype: str) -> Any:
    import torch
    from transformers import Qwen2Config, Qwen2ForSequenceClassification

    shape = dict(SIZES[size])
    shape["vocab_size"] = max(shape["vocab_size"], len(tok))
    cfg = Qwen2Config(**shape, num_labels=1, max_position_embeddings=8192, pad_token_id=tok.pad_token_id,
                      eos_token_id=tok.eos_token_id, tie_word_embeddings=False)
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        model = Qwen2ForSequenceClassification(cfg)
    return model.to(getattr(torch, DTYPES[dtype])).eval()


def texts_for(lens: list[int], seed: int) -> list[str]:
    rng = np.random.default_rng(seed + 1)
    return [" ".join(f"w{w}" for w in rng.integers(0, N_WORDS, n)) for n in lens]


def fixed_batches(model: Any, tok: Any, texts: list[str], batch: int, device: str) -> tuple[list[float], int]:
    """TRL / OpenRLHF style: count-sized chunks in arrival order, padded to the longest."""
    import torch

    out: list[float] = []
    padded = 0
    for k in range(0, len(texts), batch):
        enc = tok(texts[k : k + batch], padding=True, return_tensors="pt", add_special_tokens=False)
        padded += int(enc["input_ids"].numel())
        enc = {key: v.to(device) for key, v in enc.items() if key in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            out.extend(model(**enc).logits[:, 0].float().cpu().tolist())
    return out, padded


def sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def timed(fn: Any, device: str) -> tuple[float, Any]:
    sync(device)
    t0 = time.perf_counter()
    result = fn()
    sync(device)
    return time.perf_counter() - t0, result


def run_vllm(model: Any, tok: Any, texts: list[str], dtype: str) -> dict[str, Any]:
    try:
        from vllm import LLM
        from vllm.inputs import TokensPrompt
    except ImportError:
        return {"status": "vllm is not installed"}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
            llm = LLM(model=tmp, runner="pooling", dtype=DTYPES[dtype], enforce_eager=False, max_model_len=8192)
            prompts = [TokensPrompt(prompt_token_ids=tok(t, add_special_tokens=False)["input_ids"]) for t in texts]
            llm.classify(prompts[:8])
            t0 = time.perf_counter()
            llm.classify(prompts)
            return {"status": "ok", "seconds": time.perf_counter() - t0}
    except Exception as exc:
        return {"status": f"failed: {type(exc).__name__}: {exc}"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=256, help="completions to score (default 256)")
    p.add_argument("--median", type=float, default=300.0, help="median completion length in tokens")
    p.add_argument("--sigma", type=float, default=1.0, help="lognormal sigma (the tail)")
    p.add_argument("--min-len", type=int, default=50)
    p.add_argument("--max-len", type=int, default=4000)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="fp32")
    p.add_argument("--model-size", choices=sorted(SIZES), default="tiny")
    p.add_argument("--budget", type=int, default=None, help="HFJudge max_tokens_per_batch (default 8192 CPU, 65536 GPU)")
    p.add_argument("--baseline-batch", type=int, default=16, help="fixed batch size (OpenRLHF serve_rm default: 16)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per method, alternating; the best is kept")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vllm", action="store_true", help="also time vLLM LLM.classify (if installed)")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)

    import torch
    import transformers

    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        print(f"judge_bench: --device {device} asked for, but this torch ({torch.__version__}) sees no CUDA device")
        return 2
    budget = args.budget or (65_536 if device.startswith("cuda") else 8192)
    lens = lengths(args.n, args.median, args.sigma, args.min_len, args.max_len, args.seed)
    tok = build_tokenizer()
    model = build_model(args.model_size, tok, device, args.dtype)
    texts = texts_for(lens, args.seed)
    samples = [Sample(t) for t in texts]
    judge = HFJudge.from_model(model, tok, template="raw", guard=False, cache=False, max_tokens_per_batch=budget)
    real = sum(lens)

    # warm-up (kernels, allocator, tokenizer) on a few completions of each size class
    warm = sorted(range(len(texts)), key=lambda i: lens[i])[:: max(1, len(texts) // 8)]
    judge.score_batch([samples[i] for i in warm])
    fixed_batches(model, tok, [texts[i] for i in warm], args.baseline_batch, device)

    runs = {
        "fixed": lambda: fixed_batches(model, tok, texts, args.baseline_batch, device),
        "hf_judge": lambda: judge.score_batch(samples),
    }
    best = {name: float("inf") for name in runs}
    out: dict[str, Any] = {}
    for r in range(args.repeat):  # alternate the order, keep each method's best: a shared machine is noisy
        for name in (list(runs) if r % 2 == 0 else list(reversed(runs))):
            t, out[name] = timed(runs[name], device)
            best[name] = min(best[name], t)
    t_fixed, t_ours = best["fixed"], best["hf_judge"]
    fixed_scores, fixed_padded = out["fixed"]
    ours = out["hf_judge"]
    stats = dict(judge.last_stats)
    diff = max(abs(a.value - b) for a, b in zip(ours, fixed_scores))

    rows = [
        ("fixed", t_fixed, fixed_padded, f"batches of {args.baseline_batch}, arrival order"),
        ("hf_judge", t_ours, stats["padded_tokens"], f"budget {budget} tokens, {stats['batches']} batches"),
    ]
    result: dict[str, Any] = {
        "device": device, "dtype": args.dtype, "model_size": args.model_size, "n": args.n, "real_tokens": real,
        "length_min": min(lens), "length_median": float(np.median(lens)), "length_max": max(lens),
        "torch": torch.__version__, "transformers": transformers.__version__, "python": platform.python_version(),
        "threads": torch.get_num_threads(), "max_abs_score_diff": diff, "repeat": args.repeat,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
    if device.startswith("cuda"):
        result["gpu"] = torch.cuda.get_device_name(torch.device(device))
    print(f"judge_bench: {args.n} completions, {real} tokens (lengths {min(lens)}..{max(lens)}, median "
          f"{np.median(lens):.0f}), model {args.model_size} {args.dtype} on {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, load average {result['load_average']:.1f}")
    print(f"{'method':<10} {'seconds':>9} {'tokens/s':>11} {'padded':>10} {'waste':>7}  notes")
    for name, t, padded, note in rows:
        tps = real / t
        waste = 1 - real / padded
        result[name] = {"seconds": t, "tokens_per_s": tps, "padded_tokens": padded, "padding_waste": waste}
        print(f"{name:<10} {t:>9.3f} {tps:>11.0f} {padded:>10} {waste:>7.1%}  {note}")
    ratio = t_fixed / t_ours
    result["ratio"] = ratio
    print(f"ratio (hf_judge tokens/s over fixed): {ratio:.2f}x; max |score difference| {diff:.2e}")
    if args.vllm:
        v = run_vllm(model, tok, texts, args.dtype)
        if "seconds" in v:
            v["tokens_per_s"] = real / v["seconds"]
            print(f"{'vllm':<10} {v['seconds']:>9.3f} {v['tokens_per_s']:>11.0f}  LLM.classify")
        else:
            print(f"vllm: {v['status']}")
        result["vllm"] = v
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
