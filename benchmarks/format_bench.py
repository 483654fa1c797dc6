"""Format + length + repetition rewards: moreward against TRL's ``trl.rewards``, in one run.

Generates ``--n`` synthetic completions of about ``--tokens`` token ids each (a Zipf-like
vocabulary, copied spans and a few degenerate loops so that n-grams repeat, lengths
spread across DAPO's three regions, and a mix of well- and ill-formed think blocks), then
scores them in chunks with both libraries, alternating which goes first:

==================  =========================================  ==========================================
reward              moreward                                   TRL
==================  =========================================  ==========================================
format              ``think_answer`` (require_answer=False,     ``think_format_reward``
                    allow_empty_think=True)
length              ``dapo_overlong`` (DAPO Eq. 13)             ``get_soft_overlong_punishment``
repetition          ``ngram_repetition`` (token ids, n=3)       ``get_repetition_penalty_reward``
==================  =========================================  ==========================================

Each library gets its native, pre-built input (TRL: chat-format completions and
``completion_ids``; moreward: :class:`~moreward.Sample` objects), built outside the timed
region. moreward is timed twice: ``objective`` is ``score_batch`` returning
:class:`~moreward.Score` objects with details; ``values`` is the same formula's
vectorised path returning plain floats, as TRL does. The garbage collector is paused
inside timed calls for both; each call is timed ``--repeat`` times per chunk and the best
time kept (as ``timeit`` does), which damps the noise of a shared machine. ``ratio`` is
TRL's time over ours: above 1, moreward is faster.

Agreement is the share of equal values. For the format reward it is also given on the
completions where the two definitions agree; the kinds of completion where they differ
on purpose (leading whitespace, an empty answer, a ``<think>`` inside a code block, a
second ``</think>``) are listed apart.

Usage::

    python benchmarks/format_bench.py             # 100,000 completions
    python benchmarks/format_bench.py --n 5000    # a quick run
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moreward import Sample, registry
from moreward.rewards import DapoOverlong, NgramRepetition

MAX_LEN = 2048  # L_max of the overlong punishment
CACHE = 512  # L_cache: the soft band is (1536, 2048]
NGRAM = 3
MAX_PENALTY = -1.0

# Kinds of completion and how often each appears. The first group is judged the same by
# both definitions; the second is where they differ by design.
AGREE_KINDS = {"ok": 0.70, "no_close": 0.08, "no_think": 0.05, "nested": 0.04, "text_before": 0.03}
DIFFER_KINDS = {"leading_space": 0.025, "empty_answer": 0.025, "think_in_code": 0.025, "second_close": 0.025}
KINDS = {**AGREE_KINDS, **DIFFER_KINDS}


def make_vocab(size: int) -> list[str]:
    """Word strings for token ids (common ids are short common words)."""
    common = "the of and to a in is that for it as was with be by on not this are or which an x y we so".split()
    return common + [f"w{i}" for i in range(size - len(common))]


def make_chunk(rng: np.random.Generator, n: int, tokens: int, vocab: list[str]) -> tuple[list[list[int]], list[str], list[str]]:
    """``n`` completions: token ids, the text they stand for, and the kind of each."""
    v = len(vocab)
    kinds = rng.choice(list(KINDS), size=n, p=list(KINDS.values()))
    lengths = np.clip(rng.normal(tokens, tokens * 0.15, size=n), 16, None).astype(int)
    ids_list: list[list[int]] = []
    texts: list[str] = []
    for kind, length in zip(kinds.tolist(), lengths.tolist()):
        ids = np.minimum(rng.zipf(1.15, size=length) - 1, v - 1)
        r = rng.random()
        if r < 0.3 and length > 600:  # copy an earlier span further on
            span = int(rng.integers(50, 400))
            src = int(rng.integers(0, length - 2 * span))
            dst = int(rng.integers(src + span, length - span))
            ids[dst : dst + span] = ids[src : src + span]
        elif r < 0.35 and length > 200:  # a degenerate loop
            phrase = ids[:20].copy()
            start = int(rng.integers(0, length // 2))
            reps = (length - start) // 20
            ids[start : start + 20 * reps] = np.tile(phrase, reps)
        ids_l = ids.tolist()
        body = " ".join(map(vocab.__getitem__, ids_l))
        cut = len(body) // 3
        answer = "So the answer is 42."
        if kind == "ok":
            text = f"<think>\n{body}\n</think>\n{answer}"
        elif kind == "no_close":
            text = f"<think>\n{body}\n{answer}"
        elif kind == "no_think":
            text = f"{body}\n{answer}"
        elif kind == "nested":
            text = f"<think>{body[:cut]}<think>{body[cut:]}</think>{answer}"
        elif kind == "text_before":
            text = f"{body[:cut]}<think>{body[cut:]}</think>{answer}"
        elif kind == "leading_space":
            text = f"\n<think>{body}</think>\n{answer}"
        elif kind == "empty_answer":
            text = f"<think>{body}</think>"
        elif kind == "think_in_code":
            text = f"<think>{body[:cut]}\n```python\nprint('<think>')\n```\n{body[cut:]}</think>\n{answer}"
        else:  # second_close
            text = f"<think>{body[:cut]}</think>{body[cut:]}</think>\n{answer}"
        ids_list.append(ids_l)
        texts.append(text)
    return ids_list, texts, kinds.tolist()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.disable()
    try:
        t = time.perf_counter()
        out = fn()
        return time.perf_counter() - t, out
    finally:
        gc.enable()


Task = tuple[str, str, Callable[[], list[Any]]]


def make_tasks(
    fmt: Any,
    length: DapoOverlong,
    rep: NgramRepetition,
    trl: dict[str, Any] | None,
    samples: list[Sample],
    ids_list: list[list[int]],
    chat: list[list[dict[str, str]]],
) -> list[Task]:
    """(library, row, call) for every timed call on one chunk."""
    tasks: list[Task] = []
    if fmt is not None:
        tasks.append(("ours", "format", lambda: [s.value for s in fmt.score_batch(samples)]))
    tasks += [
        ("ours", "length", lambda: [s.value for s in length.score_batch(samples)]),
        ("ours", "length (values)", lambda: length.values(np.fromiter(map(len, ids_list), np.int64, len(ids_list)))),
        ("ours", "repetition", lambda: [s.value for s in rep.score_batch(samples)]),
        ("ours", "repetition (values)", lambda: rep.values(ids_list)),
    ]
    if trl is not None:
        tasks += [
            ("trl", "format", lambda: trl["format"](completions=chat)),
            ("trl", "length", lambda: trl["length"](completion_ids=ids_list)),
            ("trl", "repetition", lambda: trl["repetition"](completion_ids=ids_list)),
        ]
    return tasks


def load_trl() -> dict[str, Callable[..., list[float]]] | None:
    try:
        import trl
        from trl.rewards import (
            get_repetition_penalty_reward,
            get_soft_overlong_punishment,
            think_format_reward,
        )
    except ImportError as exc:
        print(f"TRL is not installed ({exc}); timing moreward alone. Install it with: pip install 'moreward[trl]'")
        return None
    print(f"trl {trl.__version__}")
    return {
        "format": think_format_reward,
        "length": get_soft_overlong_punishment(max_completion_len=MAX_LEN, soft_punish_cache=CACHE),
        "repetition": get_repetition_penalty_reward(ngram_size=NGRAM, max_penalty=MAX_PENALTY),
    }


def load_format() -> Any | None:
    try:
        return registry.get("think_answer", require_answer=False, allow_empty_think=True)
    except Exception as exc:
        print(f"the think_answer objective is not available ({type(exc).__name__}: {exc}); skipping the format row")
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="completions in all (default 100000)")
    ap.add_argument("--tokens", type=int, default=2000, help="mean completion length in tokens (default 2000)")
    ap.add_argument("--chunk", type=int, default=5000, help="completions generated and scored at a time (default 5000)")
    ap.add_argument("--vocab", type=int, default=50_000, help="vocabulary size (default 50000)")
    ap.add_argument("--repeat", type=int, default=3, help="time each call this many times per chunk, keep the best (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = ap.parse_args(argv)
    if args.n < 1 or args.chunk < 1 or args.repeat < 1 or args.tokens < 16:
        ap.error("--n, --chunk and --repeat must be >= 1 and --tokens >= 16")

    trl = load_trl()
    fmt = load_format()
    length = DapoOverlong(max_tokens=MAX_LEN, buffer=CACHE)
    rep = NgramRepetition(ngram_size=NGRAM, penalty=MAX_PENALTY, unit="token_ids")
    vocab = make_vocab(args.vocab)
    rng = np.random.default_rng(args.seed)

    rows = ["format", "length", "length (values)", "repetition", "repetition (values)"]
    ours = dict.fromkeys(rows, 0.0)
    theirs = dict.fromkeys(["format", "length", "repetition"], 0.0)
    equal = dict.fromkeys(rows, 0)
    fmt_by_kind: Counter[str] = Counter()
    fmt_equal_by_kind: Counter[str] = Counter()
    max_diff = dict.fromkeys(rows, 0.0)
    total_tokens = 0
    gen_time = 0.0
    done = 0
    chunk_no = 0
    while done < args.n:
        n = min(args.chunk, args.n - done)
        t0 = time.perf_counter()
        ids_list, texts, kinds = make_chunk(rng, n, args.tokens, vocab)
        samples = [Sample(t, tokens=len(i), meta={"completion_ids": i}) for t, i in zip(texts, ids_list)]
        chat = [[{"role": "assistant", "content": t}] for t in texts]
        gen_time += time.perf_counter() - t0
        total_tokens += sum(map(len, ids_list))

        tasks = make_tasks(fmt, length, rep, trl, samples, ids_list, chat)
        mine: dict[str, list[Any]] = {}
        ref: dict[str, list[Any]] = {}
        for who, row, fn in tasks if chunk_no % 2 == 0 else reversed(tasks):
            best = float("inf")
            for _ in range(args.repeat):
                dt, vals = timed(fn)
                best = min(best, dt)
            (ours if who == "ours" else theirs)[row] += best
            (mine if who == "ours" else ref)[row] = vals

        if ref:
            for row, vals in mine.items():
                base = ref[row.split(" ")[0]]
                for a, b, kind in zip(vals, base, kinds):
                    same = a == b
                    equal[row] += same
                    if a is not None:
                        max_diff[row] = max(max_diff[row], abs(a - b))
                    if row == "format":
                        fmt_by_kind[kind] += 1
                        fmt_equal_by_kind[kind] += same
        done += n
        chunk_no += 1
        print(f"  {done:>7,}/{args.n:,} completions scored", file=sys.stderr, end="\r")
    print(file=sys.stderr)

    print(
        f"\n{args.n:,} completions, {total_tokens / args.n:,.0f} tokens on average ({total_tokens:,} in all); "
        f"generated in {gen_time:.1f} s (untimed)"
    )
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}\n")
    head = f"{'reward':<22}{'moreward s':>12}{'TRL s':>10}{'ratio':>8}{'agreement':>12}   moreward path"
    print(head)
    print("-" * len(head))
    paths = {
        "format": "think_answer.score_batch -> Score",
        "length": "dapo_overlong.score_batch -> Score",
        "length (values)": "DapoOverlong.values -> float",
        "repetition": "ngram_repetition.score_batch -> Score",
        "repetition (values)": "NgramRepetition.values -> float",
    }
    results: dict[str, Any] = {"n": args.n, "mean_tokens": total_tokens / args.n, "rows": {}}
    for row in rows:
        if row == "format" and fmt is None:
            continue
        t_ours = ours[row]
        t_trl = theirs.get(row.split(" ")[0], 0.0) if trl else None
        ratio = f"{t_trl / t_ours:.2f}" if t_trl else "-"
        agree = f"{100 * equal[row] / args.n:.2f}%" if trl else "-"
        print(f"{row:<22}{t_ours:>12.3f}{(f'{t_trl:.3f}' if t_trl else '-'):>10}{ratio:>8}{agree:>12}   {paths[row]}")
        results["rows"][row] = {
            "moreward_s": t_ours,
            "trl_s": t_trl,
            "ratio": (t_trl / t_ours) if t_trl else None,
            "agreement": (equal[row] / args.n) if trl else None,
            "max_abs_diff": max_diff[row] if trl else None,
        }
    for label, keys in (
        ("all three (objectives)", ["format", "length", "repetition"]),
        ("all three (fast paths)", ["format", "length (values)", "repetition (values)"]),
    ):
        if fmt is None:
            keys = [k for k in keys if k != "format"]
        t_ours = sum(ours[k] for k in keys)
        t_trl = sum(theirs[k.split(" ")[0]] for k in keys) if trl else None
        ratio = f"{t_trl / t_ours:.2f}" if t_trl else "-"
        print(f"{label:<22}{t_ours:>12.3f}{(f'{t_trl:.3f}' if t_trl else '-'):>10}{ratio:>8}")
        results["rows"][label] = {"moreward_s": t_ours, "trl_s": t_trl, "ratio": (t_trl / t_ours) if t_trl else None}

    if trl and fmt is not None:
        agree_n = sum(fmt_by_kind[k] for k in AGREE_KINDS)
        agree_eq = sum(fmt_equal_by_kind[k] for k in AGREE_KINDS)
        print(
            f"\nformat agreement where the two definitions agree ({', '.join(AGREE_KINDS)}): "
            f"{agree_eq:,}/{agree_n:,} = {100 * agree_eq / max(agree_n, 1):.2f}%"
        )
        print("where they differ on purpose (moreward judges structure; TRL's regex is ^<think>(?!.*<think>)(.*?)</think>.*$):")
        why = {
            "leading_space": "whitespace before <think>: moreward accepts, TRL's ^<think> rejects",
            "empty_answer": "nothing after </think>: moreward rejects, TRL accepts",
            "think_in_code": "<think> inside a code block: moreward ignores it, TRL rejects",
            "second_close": "a second </think>: moreward rejects the stray tag, TRL accepts",
        }
        for k in DIFFER_KINDS:
            print(f"  {k:<14} {fmt_equal_by_kind[k]:>6,}/{fmt_by_kind[k]:,} equal   {why[k]}")
        results["format_agreement_where_defined_alike"] = agree_eq / max(agree_n, 1)
        results["format_by_kind"] = {k: {"n": fmt_by_kind[k], "equal": fmt_equal_by_kind[k]} for k in KINDS}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
