"""Math answer verification: moreward's ``MathVerifier`` against math-verify 0.9, in one run.

Builds ``--n`` (default 2,400) realistic (gold, completion) pairs in GRPO-like groups of
``--group`` completions per problem: chains of thought of varied length ending in an
answer of every kind (integers, fractions, decimals, surds, pi, polynomials, root lists,
points, intervals, unions, matrices, lines, percentages, degrees, currency, words,
choice letters, complex numbers), written in the usual ways (``\\boxed{}``, "The final
answer is $x$. I hope it is correct.", "**Answer:**", ``<think>``/``<answer>``), right
and wrong, hedged, or missing; plus 1% adversarial pairs (power towers, huge powers and
factorials, 200,000-character completions, 5,000 nested braces, 200-column matrices,
sums to 10^12). Every pair carries its true label, because the bench wrote it; pairs
whose label depends on a convention (a dropped percent sign, degrees for radians) are
marked *disputed*.

Both verifiers see the same pairs:

* moreward: ``MathVerifier().score_batch`` over chunks of ``--chunk`` samples, caches
  cleared first, the shared worker pool started and warm beforehand (its start-up is
  reported apart);
* math-verify: ``verify(parse("\\boxed{" + gold + "}"), parse(completion))`` with its
  defaults (the gold boxed as verl's ``math_verify`` reward does, since math-verify finds
  no bare LaTeX), sequentially, in a child process watched by a ``--hang`` second watchdog (a hung
  pair is counted as a failure that cost the watchdog time; this never happens in
  moreward, where the hard deadline turns it into TIMEOUT).

Printed: throughput of each and their ratio (all pairs, and without the adversarial
ones), the agreement, every disagreement classified as ours right / theirs right /
disputed, accuracy against the labels, and moreward's per-sample latency (``score``
one sample at a time on a cold cache, ``--latency-n`` pairs) p50 / p99.

Usage::

    python benchmarks/math_bench.py              # 2,400 pairs
    python benchmarks/math_bench.py --n 500      # a quick run
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import platform
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moreward.core import Sample, Verdict
from moreward.verifiers.math import MathVerifier
from moreward.verifiers.math.verifier import clear_caches


@dataclass
class Pair:
    gold: str
    completion: str
    label: bool
    kind: str
    answer: str
    disputed: bool = False
    adversarial: bool = False


# ----------------------------------------------------------------------------- problems


def _frac(a: int, b: int) -> str:
    return f"\\frac{{{a}}}{{{b}}}"


def problem(rng: random.Random) -> tuple[str, str, list[tuple[str, bool]], list[str]]:
    """(kind, gold, [(correct rendering, disputed)], [wrong renderings])."""
    kind = rng.choices(
        [
            "integer",
            "fraction",
            "decimal",
            "surd",
            "pi",
            "polynomial",
            "roots",
            "point",
            "interval",
            "union",
            "matrix",
            "line",
            "percent",
            "degree",
            "currency",
            "text",
            "choice",
            "complex",
            "pm",
        ],
        weights=[30, 12, 6, 6, 4, 4, 5, 4, 4, 2, 2, 2, 3, 2, 3, 2, 4, 2, 2],
    )[0]
    r = rng.randint
    if kind == "integer":
        n = rng.choice([r(0, 100), r(100, 999), r(1000, 99999), -r(1, 50)])
        ok = [(str(n), False), (f"{n}", False)]
        if n >= 1000:
            ok.append((f"{n:,}", False))
        ok.append((f"{n} \\text{{ units}}", False))
        bad = [str(n + 1), str(n - 1), str(n * 2 + 3), str(-n if n else 7)]
        return kind, str(n), ok, bad
    if kind == "fraction":
        b = r(2, 19)
        a = r(1, 3 * b)
        while a % b == 0 or _gcd(a, b) != 1:
            a = r(1, 3 * b)
        ok = [
            (_frac(a, b), False),
            (f"\\dfrac{{{a}}}{{{b}}}", False),
            (f"{a}/{b}", False),
            (_frac(2 * a, 2 * b), False),
        ]
        if _terminates(b):
            ok.append((_dec(a, b), False))
        bad = [_frac(b, a), _frac(a + 1, b), _frac(a, b + 1), f"{a}/{b + 2}"]
        return kind, rng.choice([_frac(a, b), f"\\dfrac{{{a}}}{{{b}}}"]), ok, bad
    if kind == "decimal":
        v = r(101, 9999)
        s = f"{v / 100:.2f}"
        ok = [(s, False), (s + "0", False), (_frac(v, 100) if _gcd(v, 100) == 1 else s, False)]
        bad = [f"{(v + 1) / 100:.2f}", f"{v / 10:.1f}", f"{v / 1000:.3f}"]
        return kind, s, ok, bad
    if kind == "surd":
        k, m = r(2, 9), rng.choice([2, 3, 5, 6, 7, 10, 11])
        ok = [(f"{k}\\sqrt{{{m}}}", False), (f"\\sqrt{{{k * k * m}}}", False)]
        if m < 10:  # \sqrt 11 is \sqrt{1}1 in LaTeX
            ok.append((f"{k} \\sqrt {m}", False))
        bad = [f"{k}\\sqrt{{{m + 1}}}", f"{k + 1}\\sqrt{{{m}}}", f"\\sqrt{{{k * m}}}", str(k * m)]
        return kind, f"{k}\\sqrt{{{m}}}", ok, bad
    if kind == "pi":
        a, b = r(1, 7), rng.choice([2, 3, 4, 6])
        ok = [
            (f"\\frac{{{a}\\pi}}{{{b}}}", False),
            (f"\\frac{{{a}}}{{{b}}}\\pi", False),
            (f"{a}\\pi/{b}", False),
        ]
        bad = [f"\\frac{{{a + 1}\\pi}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}", f"{a}\\pi"]
        return kind, f"\\frac{{{a}\\pi}}{{{b}}}", ok, bad
    if kind == "polynomial":
        a, b = r(1, 6), r(1, 6)
        gold = f"x^2+{a + b}x+{a * b}"
        ok = [(gold, False), (f"(x+{a})(x+{b})", False), (f"x^{{2}} + {a + b} x + {a * b}", False)]
        bad = [f"(x+{a})(x-{b})", f"x^2+{a + b}x-{a * b}", f"(x+{a + 1})(x+{b})"]
        return kind, gold, ok, bad
    if kind == "roots":
        a, b = sorted(rng.sample(range(-9, 10), 2))
        ok = [
            (f"{a}, {b}", False),
            (f"{b}, {a}", False),
            (f"x={a} \\text{{ or }} x={b}", False),
            (f"\\{{{a}, {b}\\}}", False),
        ]
        bad = [str(a), f"{a}, {-b if b else 3}", f"{a}, {b}, {b + 1}"]
        return kind, f"{a}, {b}", ok, bad
    if kind == "point":
        a, b = r(-9, 9), r(-9, 9)
        if a == b:
            b += 1
        ok = [(f"({a}, {b})", False), (f"\\left({a},{b}\\right)", False)]
        bad = [f"({b}, {a})", f"({a}, {b + 1})", f"({a + 1}, {b})"]
        return kind, f"({a}, {b})", ok, bad
    if kind == "interval":
        a = r(-9, 5)
        b = a + r(1, 9)
        lo, hi = rng.choice("[("), rng.choice("])")
        ok = [(f"{lo}{a}, {b}{hi}", False), (f"\\left{lo}{a}, {b}\\right{hi}", False)]
        lo_op = "\\le" if lo == "[" else "<"
        hi_op = "\\le" if hi == "]" else "<"
        ok.append((f"{a} {lo_op} x {hi_op} {b}", False))
        flip = {"[": "(", "(": "["}[lo]
        bad = [f"{flip}{a}, {b}{hi}", f"{lo}{a}, {b + 1}{hi}", f"{lo}{a - 1}, {b}{hi}"]
        return kind, f"{lo}{a}, {b}{hi}", ok, bad
    if kind == "union":
        a = r(-9, 0)
        b = a + r(1, 6)
        gold = f"(-\\infty, {a}) \\cup ({b}, \\infty)"
        ok = [
            (gold, False),
            (f"({b}, \\infty) \\cup (-\\infty, {a})", False),
            (f"x < {a} \\text{{ or }} x > {b}", False),
        ]
        bad = [
            f"(-\\infty, {a}] \\cup ({b}, \\infty)",
            f"({a}, {b})",
            f"(-\\infty, {a}) \\cup ({b + 1}, \\infty)",
        ]
        return kind, gold, ok, bad
    if kind == "matrix":
        m = [r(-5, 9) for _ in range(4)]
        env = rng.choice(["pmatrix", "bmatrix"])
        gold = f"\\begin{{pmatrix}} {m[0]} & {m[1]} \\\\ {m[2]} & {m[3]} \\end{{pmatrix}}"
        ok = [(gold, False), (f"\\begin{{{env}}}{m[0]}&{m[1]}\\\\{m[2]}&{m[3]}\\end{{{env}}}", False)]
        bad = [
            f"\\begin{{pmatrix}} {m[0]} & {m[2]} \\\\ {m[1]} & {m[3]} \\end{{pmatrix}}"
            if m[1] != m[2]
            else f"\\begin{{pmatrix}} {m[0] + 1} & {m[1]} \\\\ {m[2]} & {m[3]} \\end{{pmatrix}}",
            f"\\begin{{pmatrix}} {m[0]} & {m[1]} \\\\ {m[2]} & {m[3] + 1} \\end{{pmatrix}}",
        ]
        return kind, gold, ok, bad
    if kind == "line":
        m, c = r(-5, 5) or 2, r(-9, 9) or 1
        gold = f"y = {m}x + {c}".replace("+ -", "- ")
        ok = [
            (gold, False),
            (f"{m}x - y + {c} = 0".replace("+ -", "- "), False),
            (f"y={m}x+{c}".replace("+-", "-"), False),
        ]
        bad = [
            f"y = {m}x + {c + 1}".replace("+ -", "- "),
            f"y = {-m}x + {c}".replace("+ -", "- "),
            f"y = {c}x + {m}".replace("+ -", "- "),
        ]
        return kind, gold, ok, bad
    if kind == "percent":
        p = r(1, 99)
        ok = [(f"{p}\\%", False), (f"{p}%", False), (str(p), True), (_dec(p, 100), True)]
        bad = [f"{p + 1}\\%", f"{p + 10}\\%", str(p + 5)]
        return kind, f"{p}\\%", ok, bad
    if kind == "degree":
        d = rng.choice([30, 45, 60, 90, 120, 135, 150])
        ok = [(f"{d}^\\circ", False), (str(d), False), (f"{d}^{{\\circ}}", False), (f"{d} degrees", False)]
        bad = [f"{d + 10}^\\circ", str(d + 15), str(180 - d) if d != 90 else "45"]
        return kind, f"{d}^\\circ", ok, bad
    if kind == "currency":
        n = r(2, 5000)
        ok = [(f"\\${n}", False), (str(n), False), (f"{n} dollars", False), (f"\\${n}.00", False)]
        if n >= 1000:
            ok.append((f"\\${n:,}", False))
        bad = [f"\\${n + 1}", str(n * 10), f"\\${n - 2}"]
        return kind, f"\\${n}", ok, bad
    if kind == "text":
        words = ["Monday", "Tuesday", "Friday", "even", "odd", "yes", "no", "Alice", "Bob"]
        w = rng.choice(words)
        ok = [(f"\\text{{{w}}}", False), (w.lower(), False), (f"\\text{{{w.upper()}}}", False)]
        bad = [f"\\text{{{x}}}" for x in rng.sample([x for x in words if x.lower() != w.lower()], 3)]
        return kind, f"\\text{{{w}}}", ok, bad
    if kind == "choice":
        letter = rng.choice("ABCDE")
        ok = [
            (letter, False),
            (f"({letter})", False),
            (f"\\text{{({letter})}}", False),
            (f"\\textbf{{({letter})}}", False),
        ]
        bad = [x for x in "ABCDE" if x != letter][:3]
        return kind, rng.choice([letter, f"\\text{{({letter})}}"]), ok, bad
    if kind == "complex":
        a, b = r(-9, 9), r(1, 9)
        if a == b:
            a = -a
        gold = f"{a}+{b}i".replace("+-", "-")
        ok = [
            (gold, False),
            (f"{b}i+{a}".replace("+-", "-"), False),
            (f"{a} + {b}\\mathrm{{i}}".replace("+ -", "- "), False),
        ]
        bad = [f"{a}-{b}i", f"{b}+{a}i".replace("+-", "-"), f"{a + 1}+{b}i".replace("+-", "-")]
        return kind, gold, ok, bad
    # pm
    a, b = r(1, 9), rng.choice([2, 3, 5, 7])
    gold = f"{a} \\pm \\sqrt{{{b}}}"
    ok = [
        (gold, False),
        (f"{a}+\\sqrt{{{b}}}, {a}-\\sqrt{{{b}}}", False),
        (f"{a}-\\sqrt{{{b}}}, {a}+\\sqrt{{{b}}}", False),
    ]
    bad = [f"{a}+\\sqrt{{{b}}}", f"{a} \\pm \\sqrt{{{b + 1}}}", f"{a + 1} \\pm \\sqrt{{{b}}}"]
    return "pm", gold, ok, bad


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return abs(a)


def _terminates(b: int) -> bool:
    for p in (2, 5):
        while b % p == 0:
            b //= p
    return b == 1


def _dec(a: int, b: int) -> str:
    from decimal import Decimal

    return format(Decimal(a) / Decimal(b), "f")


# ----------------------------------------------------------------------------- completions

_FILLER = [
    "Let me set up the problem carefully.",
    "First, we identify what is being asked.",
    "We can rewrite the expression as $a^2 - b^2 = (a-b)(a+b)$.",
    "Substituting $x = 3$ gives $2 \\cdot 3 + 1 = 7$.",
    "Checking the arithmetic: $12 \\times 4 = 48$ and $48 - 6 = 42$.",
    "By the Pythagorean theorem, $c^2 = a^2 + b^2$.",
    "So the sum of the first $n$ integers is $\\frac{n(n+1)}{2}$.",
    "Wait, let me double-check that step.",
    "Hmm, that does not look right; let me recompute.",
    "The discriminant is $b^2 - 4ac = 16 - 12 = 4$.",
    "Dividing both sides by $2$ we get $x = 5$.",
    "Note that $\\sqrt{16} = 4$, so the radius is $4$.",
    "This is consistent with the constraint $0 < x < 10$.",
    "Therefore the two cases combine.",
]


def completion(rng: random.Random, answer: str | None, kind: str) -> str:
    n = rng.choice([2, 5, 10, 20, 40, 80])
    body = " ".join(rng.choice(_FILLER) for _ in range(n))
    paras = [body[i : i + 400] for i in range(0, len(body), 400)]
    cot = "\n\n".join(paras)
    if answer is None:  # truncated: no final answer
        return cot
    style = rng.choices(
        ["boxed", "minerva", "bold", "answer", "think", "tags"], weights=[55, 15, 10, 8, 7, 5]
    )[0]
    if kind == "choice" and style == "minerva":
        style = "answer"
    if style == "boxed":
        return f"{cot}\n\nTherefore, the final answer is $\\boxed{{{answer}}}$."
    if style == "minerva":
        return f"{cot}\n\nFinal Answer: The final answer is ${answer}$. I hope it is correct."
    if style == "bold":
        return f"{cot}\n\n**Answer:** ${answer}$"
    if style == "answer":
        return f"{cot}\n\nAnswer: {answer}"
    if style == "think":
        return f"<think>\n{cot}\n</think>\n\nThe answer is $\\boxed{{{answer}}}$."
    return f"<think>\n{cot}\n</think>\n<answer>{answer}</answer>"


def adversarial(rng: random.Random) -> Pair:
    k = rng.randrange(8)
    gold = str(rng.randint(2, 99))
    if k == 0:
        ans = "5^{5^{5^{5^{5}}}}"
    elif k == 1:
        ans = "9999999999^{9999999999}"
    elif k == 2:
        ans = "(10^{8})!"
    elif k == 3:
        return Pair(
            gold,
            "so " * 66_000 + f"\\boxed{{{int(gold) + 1}}}",
            False,
            "adversarial",
            "long",
            adversarial=True,
        )
    elif k == 4:
        ans = "{" * 5000 + gold + "}" * 5000
        return Pair(
            gold, f"The answer is $\\boxed{{{ans}}}$", False, "adversarial", "braces", adversarial=True
        )
    elif k == 5:
        ans = "\\begin{pmatrix}" + " & ".join(str(i) for i in range(200)) + "\\end{pmatrix}"
    elif k == 6:
        ans = "\\sum_{k=1}^{10^{12}} k^{2}"
    else:
        ans = "2^{2^{2^{2^{2^{2}}}}}"
    return Pair(
        gold,
        f"We compute.\n\nThe answer is $\\boxed{{{ans}}}$.",
        False,
        "adversarial",
        ans[:30],
        adversarial=True,
    )


def build(n: int, group: int, seed: int) -> list[Pair]:
    rng = random.Random(seed)
    pairs: list[Pair] = []
    n_adv = max(1, n // 100)
    while len(pairs) < n - n_adv:
        kind, gold, ok, bad = problem(rng)
        bad = [b for b in bad if b not in (gold, *(o for o, _ in ok))] or ["\\text{none}"]
        for _ in range(group):
            roll = rng.random()
            if roll < 0.5:
                ans, disputed = rng.choice(ok)
                pairs.append(Pair(gold, completion(rng, ans, kind), True, kind, ans, disputed))
            elif roll < 0.9:
                ans = rng.choice(bad)
                pairs.append(Pair(gold, completion(rng, ans, kind), False, kind, ans))
            elif roll < 0.95 and kind not in ("roots", "pm"):  # hedged: a right and a wrong value
                ans = f"{ok[0][0]} \\text{{ or }} {bad[0]}"
                pairs.append(Pair(gold, completion(rng, ans, kind), False, kind + "/hedged", ans))
            elif roll >= 0.95:
                pairs.append(Pair(gold, completion(rng, None, kind), False, kind + "/no-answer", ""))
    pairs = pairs[: n - n_adv]
    for _ in range(n_adv):
        pairs.insert(rng.randrange(len(pairs) + 1), adversarial(rng))
    return pairs


# ----------------------------------------------------------------------------- math-verify


def _mv_child(pairs: list[tuple[str, str]], start: int, conn: object) -> None:
    logging.disable(logging.CRITICAL)
    from math_verify import parse, verify

    for i in range(start, len(pairs)):
        gold, comp = pairs[i]
        t = time.perf_counter()
        try:
            ok = bool(verify(parse(gold), parse(comp)))
        except BaseException:
            ok = False
        conn.send((i, ok, time.perf_counter() - t))  # type: ignore[attr-defined]
    conn.send(None)  # type: ignore[attr-defined]


def run_math_verify(pairs: list[Pair], hang: float) -> tuple[list[bool], list[float], int]:
    """math-verify on every pair, sequentially, in a watched child: (results, seconds per pair, hangs)."""
    data = [("\\boxed{" + p.gold + "}", p.completion) for p in pairs]  # as verl's math_verify reward does
    results: list[bool] = [False] * len(data)
    times: list[float] = [0.0] * len(data)
    hangs = 0
    ctx = mp.get_context("fork")
    start = 0
    while start < len(data):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_mv_child, args=(data, start, child), daemon=True)
        proc.start()
        child.close()
        nxt = start
        while True:
            if not parent.poll(hang):
                proc.kill()
                proc.join()
                hangs += 1
                results[nxt], times[nxt] = False, hang
                start = nxt + 1
                break
            msg = parent.recv()
            if msg is None:
                proc.join()
                start = len(data)
                break
            i, ok, dt = msg
            results[i], times[i] = ok, dt
            nxt = i + 1
        parent.close()
    return results, times, hangs


# ----------------------------------------------------------------------------- moreward


def run_moreward(pairs: list[Pair], chunk: int) -> tuple[list[Verdict], float, Counter[str]]:
    verifier = MathVerifier()
    samples = [Sample(p.completion, reference=p.gold) for p in pairs]
    clear_caches()
    verdicts: list[Verdict] = []
    paths: Counter[str] = Counter()
    t0 = time.perf_counter()
    for i in range(0, len(samples), chunk):
        for s in verifier.score_batch(samples[i : i + chunk]):
            verdicts.append(s.verdict)
            paths[str(s.details.get("path", "inline (no comparison)"))] += 1
    return verdicts, time.perf_counter() - t0, paths


def latency(pairs: list[Pair], n: int, seed: int) -> list[float]:
    verifier = MathVerifier()
    rng = random.Random(seed + 1)
    chosen = rng.sample(pairs, min(n, len(pairs)))
    clear_caches()
    out = []
    for p in chosen:
        t = time.perf_counter()
        verifier.score(Sample(p.completion, reference=p.gold))
        out.append(time.perf_counter() - t)
    return out


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2400)
    ap.add_argument("--group", type=int, default=8, help="completions per problem (a GRPO group)")
    ap.add_argument("--chunk", type=int, default=512, help="samples per score_batch call")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hang", type=float, default=20.0, help="math-verify watchdog, seconds per pair")
    ap.add_argument("--latency-n", type=int, default=600)
    ap.add_argument("--show", type=int, default=1000, help="disagreements to list")
    args = ap.parse_args()

    from importlib.metadata import version

    import math_verify  # noqa: F401 - fail early when absent

    from moreward.runtime import get_pool
    from moreward.verifiers.math.verifier import PRELOAD

    pairs = build(args.n, args.group, args.seed)
    print(
        f"# math bench: {len(pairs)} pairs ({sum(p.adversarial for p in pairs)} adversarial), seed {args.seed}"
    )
    print(
        f"# python {platform.python_version()}, {os.cpu_count()} CPUs, math-verify {version('math-verify')}"
    )

    t = time.perf_counter()
    pool = get_pool(preload=PRELOAD)
    pool.wait_ready(120)
    MathVerifier().score(Sample("\\boxed{\\sqrt{2}}", reference="\\sqrt{2}"))
    print(
        f"moreward pool start-up (not timed below): {time.perf_counter() - t:.2f} s, {pool.workers} workers"
    )

    ours, ours_time, paths = run_moreward(pairs, args.chunk)
    lat = latency(pairs, args.latency_n, args.seed)
    theirs, their_times, hangs = run_math_verify(pairs, args.hang)
    their_time = sum(their_times)

    normal = [i for i, p in enumerate(pairs) if not p.adversarial]
    _, ours_normal_time, _ = run_moreward([pairs[i] for i in normal], args.chunk)  # again, caches cleared
    their_normal_time = sum(their_times[i] for i in normal)

    print("\n## throughput")
    print(
        f"moreward     : {len(pairs) / ours_time:9.1f} pairs/s  ({ours_time:.2f} s)   decided: {dict(paths)}"
    )
    print(
        f"math-verify  : {len(pairs) / their_time:9.1f} pairs/s  ({their_time:.2f} s, {hangs} hung past {args.hang:g} s)"
    )
    print(f"ratio        : {their_time / ours_time:9.1f} x  (all pairs)")
    print(
        f"ratio        : {their_normal_time / ours_normal_time:9.1f} x  (without the adversarial pairs: "
        f"math-verify {their_normal_time:.2f} s, moreward {ours_normal_time:.2f} s, measured apart)"
    )

    print("\n## latency (moreward.score, one sample at a time, cold caches)")
    print(
        f"p50 {pct(lat, 0.50) * 1000:.2f} ms   p99 {pct(lat, 0.99) * 1000:.2f} ms   max {max(lat) * 1000:.1f} ms"
        f"   (deadline {MathVerifier().timeout * 1000:.0f} ms)"
    )

    ours_pass = [v is Verdict.PASS for v in ours]
    agree = sum(a == b for a, b in zip(ours_pass, theirs))
    print("\n## agreement")
    print(f"agreement: {agree}/{len(pairs)} = {agree / len(pairs):.2%}")
    for name, res in (("moreward", ours_pass), ("math-verify", theirs)):
        tp = sum(r and p.label for r, p in zip(res, pairs))
        fp = sum(r and not p.label for r, p in zip(res, pairs))
        fn = sum((not r) and p.label for r, p in zip(res, pairs))
        acc = sum(r == p.label for r, p in zip(res, pairs)) / len(pairs)
        print(
            f"{name:12} accuracy {acc:.2%}  precision {tp / max(1, tp + fp):.2%}  recall {tp / max(1, tp + fn):.2%}"
            f"  (FP {fp}, FN {fn})"
        )
    print(f"moreward verdicts: {dict(Counter(v.value for v in ours))}")

    classes: Counter[str] = Counter()
    rows = []
    for i, p in enumerate(pairs):
        if ours_pass[i] == theirs[i]:
            continue
        if p.disputed:
            cls = "disputed"
        elif ours_pass[i] == p.label:
            cls = "ours right"
        else:
            cls = "theirs right"
        classes[cls] += 1
        rows.append((cls, p, ours[i], theirs[i]))
    wrong = [(p, ours[i]) for i, p in enumerate(pairs) if ours_pass[i] != p.label]
    print(f"\nmoreward errors against the labels: {len(wrong)}")
    for p, v in wrong[: args.show]:
        ans = p.answer if len(p.answer) < 60 else p.answer[:57] + "..."
        print(f"  {p.kind}: gold {p.gold!r} answer {ans!r} label={p.label} ours={v.value}")
    print(
        f"\n## disagreements: {sum(classes.values())}  "
        + "  ".join(f"{k}: {classes.get(k, 0)}" for k in ("ours right", "theirs right", "disputed"))
    )
    by_kind: Counter[tuple[str, str]] = Counter((cls, p.kind) for cls, p, _, _ in rows)
    for (cls, kind), count in sorted(by_kind.items()):
        print(f"  {cls:12} {kind:22} {count}")
    for cls, p, ov, tv in sorted(rows, key=lambda r: (r[0], r[1].kind))[: args.show]:
        ans = p.answer if len(p.answer) < 60 else p.answer[:57] + "..."
        print(
            f"  [{cls}] {p.kind}: gold {p.gold!r} answer {ans!r} label={p.label} ours={ov.value} math-verify={tv}"
        )


if __name__ == "__main__":
    main()
