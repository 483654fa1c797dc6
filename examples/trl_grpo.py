"""GRPO with TRL, rewarded by a moreward pipeline: one TRL reward function per objective,
so TRL logs ``rewards/<objective>/mean`` for each.

    python examples/trl_grpo.py                    # a tiny local model, 2 steps on the CPU
    python examples/trl_grpo.py --model PATH       # your own local checkpoint

Needs the ``trl`` extra. Nothing is downloaded: without ``--model`` the model and
tokenizer are built here (``moreward.testing.tiny``).
"""

from __future__ import annotations

import argparse
import tempfile

from moreward import Pipeline
from moreward.integrations.trl import reward_funcs, reward_weights

PIPELINE = {
    "objectives": {
        "answer": {"type": "exact_match", "extract": "last_line"},
        "mentions_cat": {"type": "regex", "pattern": "cat"},
    },
    # TRL sums the per-objective rewards with reward_weights and normalises per group itself.
    "combiner": {"method": "weighted_sum", "weights": {"answer": 1.0, "mentions_cat": 0.2}},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a local checkpoint (default: a tiny random Llama)")
    ap.add_argument("--steps", type=int, default=2)
    args = ap.parse_args()

    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    if args.model:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(args.model)
        model = AutoModelForCausalLM.from_pretrained(args.model)
    else:
        from moreward.testing.tiny import tiny_causal_lm, tiny_tokenizer

        tok = tiny_tokenizer()
        model = tiny_causal_lm(len(tok))
    pipe = Pipeline.from_config(PIPELINE)
    rows = [
        {"prompt": [{"role": "user", "content": "what is the answer ?"}], "reference": "42"},
        {"prompt": [{"role": "user", "content": "the cat sat on ?"}], "reference": "mat"},
    ]
    with tempfile.TemporaryDirectory() as out:
        config = GRPOConfig(
            output_dir=out,
            max_steps=args.steps,
            per_device_train_batch_size=4,
            num_generations=4,
            max_completion_length=8,
            logging_steps=1,
            report_to="none",
            use_cpu=True,
            save_strategy="no",
            reward_weights=reward_weights(pipe),
        )
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=reward_funcs(pipe),  # the "reference" column reaches them as a keyword
            args=config,
            train_dataset=Dataset.from_list(rows * 4),
            processing_class=tok,
        )
        trainer.train()
    for entry in trainer.state.log_history:
        if "reward" in entry:
            shown = {k: round(v, 3) for k, v in entry.items() if k.startswith("rewards/") and k.endswith("/mean")}
            print(f"step {entry['step']}: reward {entry['reward']:.3f} {shown}")


if __name__ == "__main__":
    main()
