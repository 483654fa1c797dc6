"""Score a few rollouts with the example pipeline from Python (run by `make demo`)."""

from pathlib import Path

from moreward import Pipeline

HERE = Path(__file__).resolve().parent

ROWS = [
    {"prompt_id": "capital", "completion": "<think>France's capital.</think> <answer>Paris</answer>", "reference": "Paris"},
    {"prompt_id": "capital", "completion": "<think>Hmm.</think> <answer>Lyon</answer>", "reference": "Paris"},
    {"prompt_id": "capital", "completion": "The answer is <answer>paris</answer>", "reference": "Paris"},
    {"prompt_id": "sum", "completion": "<think>2+2</think><answer>4</answer>", "reference": "4"},
    {"prompt_id": "sum", "completion": "four", "reference": "4"},
]


def main() -> None:
    pipe = Pipeline.from_config(HERE / "config.toml")
    samples = [pipe.sample_from_row(row) for row in ROWS]
    results = pipe.score(samples)
    names = pipe.names
    print(f"{'group':<8} {'reward':>6}  " + "  ".join(f"{n:>14}" for n in names) + "  completion")
    for sample, result in zip(samples, results):
        cells = "  ".join(f"{result.components[n].verdict.value + ' ' + format(result.raw[n] or 0, '.1f'):>14}" for n in names)
        reward = "none" if result.reward is None else f"{result.reward:.2f}"
        print(f"{sample.group!s:<8} {reward:>6}  {cells}  {sample.completion[:50]!r}")


if __name__ == "__main__":
    main()
