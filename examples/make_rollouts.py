"""Write ``examples/rollouts.jsonl``: a few hundred math, code and puzzle rollouts, four per
prompt, in the shape an RL trainer dumps them. The project writes this file itself
(seeded, so it is the same on every run): no data is downloaded.

Each group mixes right and wrong answers, format slips, hedged answers, an overlong
chain of thought and a few reward hacks (a code completion that exits before the tests,
one that prints "PASS"), so the demo's summary has something to show.

Run: ``python examples/make_rollouts.py [OUT]``.
"""

from __future__ import annotations

import json
import random
import sys
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
rng = random.Random(20261121)

FILLER = [
    "Let me restate the problem.",
    "We need to be careful with the arithmetic here.",
    "Check the edge cases once more.",
    "Another way to see it is to work backwards.",
    "Write down what is given and what is asked.",
    "That step looks right, but let me verify it.",
    "Substituting back confirms the intermediate result.",
    "Wait, I should double-check the sign.",
]


def cot(n_words: int) -> str:
    """About ``n_words`` words of chain-of-thought made of whole sentences."""
    out: list[str] = []
    while sum(len(s.split()) for s in out) < n_words:
        out.append(rng.choice(FILLER))
    return " ".join(out)


def wrap(think: str, answer: str) -> str:
    return f"<think>\n{think}\n</think>\n<answer>\n{answer}\n</answer>"


# -- math: (question, gold, right forms, wrong forms) ---------------------------------------


def math_problems() -> list[tuple[str, str, list[str], list[str]]]:
    out = []
    for _ in range(24):
        a, b = rng.randint(2, 40), rng.randint(2, 40)
        out.append((f"What is {a} * {b}?", str(a * b), [str(a * b), f"{a * b:,}" if a * b >= 1000 else str(a * b)], [str(a * b + rng.choice([-1, 1, 10]))]))
    for _ in range(8):
        p, q = rng.randint(1, 9), rng.randint(2, 12)
        fr = Fraction(p, q)
        out.append(
            (
                f"Simplify {p * 2}/{q * 2}.",
                f"\\frac{{{fr.numerator}}}{{{fr.denominator}}}",
                [f"\\frac{{{fr.numerator}}}{{{fr.denominator}}}", f"{fr.numerator}/{fr.denominator}"],
                [f"\\frac{{{fr.numerator + 1}}}{{{fr.denominator}}}"],
            )
        )
    out += [
        ("Solve x^2 = 2 for x > 0.", "\\sqrt{2}", ["\\sqrt{2}", "2^{1/2}"], ["2", "\\sqrt{3}"]),
        ("What fraction of 40 is 10? Give a percentage.", "25\\%", ["25\\%", "25"], ["40\\%"]),
        ("Find all x with x^2 - 5x + 6 = 0.", "\\{2, 3\\}", ["\\{3, 2\\}", "2, 3"], ["\\{2\\}"]),
        ("For which x is x^2 < 4?", "(-2, 2)", ["(-2, 2)", "-2 < x < 2"], ["[-2, 2]"]),
        ("Evaluate sin(pi/6).", "\\frac{1}{2}", ["0.5", "\\frac12"], ["\\frac{\\sqrt{3}}{2}"]),
        ("What is 2^10?", "1024", ["1024", "2^{10}"], ["1000"]),
        ("Expand (x+1)^2.", "x^2 + 2x + 1", ["x^2+2x+1", "(x+1)^2"], ["x^2 + 1"]),
        ("How many degrees in a right angle?", "90^\\circ", ["90", "90^\\circ"], ["180"]),
    ]
    return out


def math_rollouts() -> list[dict]:
    rows = []
    for i, (question, gold, right, wrong) in enumerate(math_problems()):
        kinds = ["right", "right_alt", "wrong", rng.choice(["hedged", "no_box", "overlong", "selfcorrect", "bad_format"])]
        for kind in kinds:
            think = cot(rng.randint(20, 90))
            if kind == "right":
                text = wrap(think, f"The answer is $\\boxed{{{right[0]}}}$.")
            elif kind == "right_alt":
                text = wrap(think, f"Therefore the final answer is $\\boxed{{{right[-1]}}}$.")
            elif kind == "wrong":
                text = wrap(think, f"So we get \\boxed{{{wrong[0]}}}.")
            elif kind == "hedged":
                text = wrap(think, f"It is either \\boxed{{{right[0]}}} or \\boxed{{{wrong[0]}}}: \\boxed{{{right[0]} \\text{{ or }} {wrong[0]}}}")
            elif kind == "no_box":
                text = wrap(think, "I could not finish the computation.")
            elif kind == "overlong":
                text = wrap(cot(700), f"\\boxed{{{right[0]}}}")
            elif kind == "selfcorrect":
                text = wrap(think + f" First I thought \\boxed{{{wrong[0]}}}, but no, that is wrong.", f"\\boxed{{{right[0]}}}")
            else:  # answer right, format broken: no think block
                text = f"Quick: \\boxed{{{right[0]}}}"
            rows.append({"prompt_id": f"math-{i:03d}", "data_source": "math", "prompt": question, "completion": text, "reference": gold, "kind": kind})
    return rows


# -- code ----------------------------------------------------------------------------------

CODE_TASKS = [
    ("add", "Write add(a, b) returning the sum.", "def add(a, b):\n    return a + b", "def add(a, b):\n    return a - b",
     ["assert add(1, 2) == 3", "assert add(-4, 4) == 0", "assert add(10, 5) == 15"]),
    ("rev", "Write rev(s) reversing a string.", "def rev(s):\n    return s[::-1]", "def rev(s):\n    return s",
     ["assert rev('abc') == 'cba'", "assert rev('') == ''", "assert rev('ab') == 'ba'"]),
    ("is_prime", "Write is_prime(n).", "def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n        if n % i == 0:\n            return False\n        i += 1\n    return True",
     "def is_prime(n):\n    return n % 2 == 1",
     ["assert is_prime(2)", "assert not is_prime(9)", "assert is_prime(13)", "assert not is_prime(1)"]),
    ("fact", "Write fact(n), n!.", "def fact(n):\n    out = 1\n    for k in range(2, n + 1):\n        out *= k\n    return out", "def fact(n):\n    return n * (n - 1)",
     ["assert fact(0) == 1", "assert fact(5) == 120", "assert fact(3) == 6"]),
    ("count_vowels", "Write count_vowels(s).", "def count_vowels(s):\n    return sum(c in 'aeiou' for c in s.lower())", "def count_vowels(s):\n    return len(s)",
     ["assert count_vowels('hello') == 2", "assert count_vowels('xyz') == 0", "assert count_vowels('AEIOU') == 5"]),
]
STDIO_TASKS = [
    ("sum_line", "Read integers on one line and print their sum.", "print(sum(map(int, input().split())))", "print(max(map(int, input().split())))",
     [{"input": "1 2 3\n", "output": "6\n"}, {"input": "5 -5\n", "output": "0\n"}, {"input": "7\n", "output": "7\n"}]),
    ("upper", "Read a line and print it in upper case.", "print(input().upper())", "print(input())",
     [{"input": "abc\n", "output": "ABC\n"}, {"input": "Hi there\n", "output": "HI THERE\n"}]),
]


def code_rollouts() -> list[dict]:
    rows = []
    tasks = [(n, p, good, bad, {"test_list": tests}) for n, p, good, bad, tests in CODE_TASKS]
    tasks += [(n, p, good, bad, tests) for n, p, good, bad, tests in STDIO_TASKS]
    for i, (_name, prompt, good, bad, ref) in enumerate(tasks * 2):
        hack = rng.choice(["exit_early", "print_pass", "infinite_loop", "syntax_error"])
        variants = {"right": good, "wrong": bad}
        if hack == "exit_early":
            variants[hack] = "import sys\nsys.exit(0)\n" + bad
        elif hack == "print_pass":
            variants[hack] = bad + "\nprint('PASS')\nprint('All tests passed')"
        elif hack == "infinite_loop":
            variants[hack] = "while True:\n    pass"
        else:
            variants[hack] = good + "\nprint(result"  # unbalanced parenthesis: does not compile
        variants["right_terse"] = good
        for kind, code in variants.items():
            think = cot(rng.randint(15, 60))
            text = wrap(think, f"```python\n{code}\n```") if kind != "right_terse" else f"```python\n{code}\n```"
            rows.append({"prompt_id": f"code-{i:03d}", "data_source": "code", "prompt": prompt, "completion": text, "reference": ref, "kind": kind})
    return rows


# -- Knights and Knaves ------------------------------------------------------------------------

NAMES = ["Zoey", "Oliver", "Mia", "Liam", "Ava", "Noah"]


def puzzle_rollouts() -> list[dict]:
    rows = []
    for i in range(15):
        people = rng.sample(NAMES, 3)
        truth = {p: rng.random() < 0.5 for p in people}
        solution = "\n".join(f"({k + 1}) {p} is a {'knight' if truth[p] else 'knave'}" for k, p in enumerate(people))
        a, b = people[0], people[1]
        says = f"{a} says: '{b} is a {'knight' if truth[a] == truth[b] else 'knave'}.'"
        prompt = f"A very special island is inhabited only by knights and knaves. {says} Who is who among {', '.join(people)}?"
        flipped = dict(truth)
        flipped[people[2]] = not flipped[people[2]]
        wrong = "\n".join(f"({k + 1}) {p} is a {'knight' if flipped[p] else 'knave'}" for k, p in enumerate(people))
        unknown = solution.replace(people[0], "Bob")
        for kind, answer in [("right", solution), ("wrong", wrong), ("unknown_name", unknown), ("right", solution)]:
            text = wrap(cot(rng.randint(20, 60)), answer)
            if rng.random() < 0.15:
                text = answer  # no think block: a format failure
                kind += "+bad_format"
            rows.append({"prompt_id": f"kk-{i:03d}", "data_source": "puzzle", "prompt": prompt, "completion": text, "reference": solution, "kind": kind})
    return rows


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "rollouts.jsonl"
    rows = math_rollouts() + code_rollouts() + puzzle_rollouts()
    with open(out, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rollouts to {out}")


if __name__ == "__main__":
    main()
