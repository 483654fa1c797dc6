"""``moreward score`` throughput and memory over large JSONL files.

Generates JSONL files of math rollouts (chains of thought ending in boxed answers of
several kinds, right and wrong, in think/answer format, groups of 8) and scores them
with a math + format + length config through the real command line, in a child
process. While it runs, the child's memory is sampled every 50 ms: the peak RSS of the
``moreward`` process itself and the peak of the whole process tree (the math worker
pool included; shared pages are counted once per process, so the tree figure is an
upper bound). A flat peak between the two sizes shows that memory does not grow with
the file.

Targets (issue 9): at least 2,000 lines/s on this 2-core machine, peak RSS at most
400 MB at both sizes.

Run: ``python benchmarks/cli_bench.py [--sizes 100000 1000000] [--workers 1]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

CONFIG = """
[fields]
group = "prompt_id"

[objectives.accuracy]
type = "math"

[objectives.format]
type = "think_answer"

[objectives.length]
type = "dapo_overlong"
max_tokens = 512
buffer = 128

[combiner]
method = "decoupled"
weights = { accuracy = 1.0, format = 0.5, length = 0.2 }
"""

SENTENCES = [
    "Let me restate the problem.",
    "We need to be careful with the arithmetic here.",
    "Check the edge cases once more.",
    "Substituting back confirms the intermediate result.",
    "Wait, I should double-check the sign.",
]


def _answers(rng: random.Random) -> tuple[str, str, str]:
    """(gold, a right form, a wrong form) of one of several answer kinds."""
    kind = rng.randrange(6)
    a, b = rng.randint(2, 999), rng.randint(2, 99)
    if kind == 0:
        return str(a * b), str(a * b), str(a * b + 1)
    if kind == 1:
        return f"\\frac{{{a}}}{{{b}}}", f"{a}/{b}", f"\\frac{{{a + 1}}}{{{b}}}"
    if kind == 2:
        return f"{a / 4:g}", f"\\frac{{{a}}}{{4}}", f"{a / 4 + 0.5:g}"
    if kind == 3:
        return f"\\sqrt{{{b}}}", f"{b}^{{1/2}}", f"\\sqrt{{{b + 1}}}"
    if kind == 4:
        return f"({a}, {b})", f"({a},{b})", f"({b}, {a})"
    return f"{a}x + {b}", f"{b} + {a}x", f"{a}x - {b}"


def write_rollouts(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        i = 0
        while i < n:
            gold, right, wrong = _answers(rng)
            for _ in range(min(8, n - i)):
                think = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(5, 40)))
                ans = right if rng.random() < 0.5 else wrong
                text = f"<think>\n{think}\n</think>\n<answer>\nThe answer is $\\boxed{{{ans}}}$.\n</answer>"
                if rng.random() < 0.1:
                    text = text.replace("<think>\n", "", 1)
                row = {"prompt_id": f"p{i // 8}", "completion": text, "reference": gold, "tokens": len(text.split())}
                fh.write(json.dumps(row) + "\n")
                i += 1


def run(inp: Path, cfg: Path, out: Path, workers: int) -> dict[str, float]:
    cmd = [sys.executable, "-m", "moreward", "score", str(inp), "-c", str(cfg), "-o", str(out), "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    peak_main = peak_tree = 0
    while proc.poll() is None:
        try:
            main_rss = ps.memory_info().rss
            tree = main_rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
        except psutil.Error:
            break
        peak_main, peak_tree = max(peak_main, main_rss), max(peak_tree, tree)
        time.sleep(0.05)
    err = proc.communicate()[1]
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"moreward score failed ({proc.returncode}):\n{err}")
    lines = sum(1 for _ in open(out, "rb"))
    return {"lines": lines, "wall": wall, "rate": lines / wall, "peak_main": peak_main / 2**20, "peak_tree": peak_tree / 2**20, "log": err.strip()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="moreward-cli-bench-"))
    cfg = tmp / "config.toml"
    cfg.write_text(CONFIG)
    print(f"machine: {os.cpu_count()} CPUs; config: math + think_answer + dapo_overlong, decoupled; workers={args.workers}")
    print(f"{'lines':>10} {'wall s':>8} {'lines/s':>9} {'peak RSS MB':>12} {'tree RSS MB':>12}")
    results = []
    for n in args.sizes:
        inp, out = tmp / f"in_{n}.jsonl", tmp / f"out_{n}.jsonl"
        write_rollouts(inp, n)
        r = run(inp, cfg, out, args.workers)
        results.append(r)
        print(f"{r['lines']:>10} {r['wall']:>8.1f} {r['rate']:>9.0f} {r['peak_main']:>12.0f} {r['peak_tree']:>12.0f}")
        print(f"           ({r['log'].splitlines()[-1] if r['log'] else ''})")
        if not args.keep:
            inp.unlink()
            out.unlink()
    ok_rate = all(r["rate"] >= 2000 for r in results)
    ok_mem = all(r["peak_main"] <= 400 for r in results)
    print(f"target >= 2,000 lines/s: {'met' if ok_rate else 'NOT met'}; peak RSS <= 400 MB: {'met' if ok_mem else 'NOT met'}")
    if len(results) > 1:
        print(f"peak RSS growth from {results[0]['lines']} to {results[-1]['lines']} lines: {results[-1]['peak_main'] - results[0]['peak_main']:+.0f} MB")


if __name__ == "__main__":
    main()
