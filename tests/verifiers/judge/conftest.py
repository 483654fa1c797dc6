"""Tiny judges built inside the tests: a byte-level BPE tokenizer trained with ``tokenizers`` on
a few lines, wrapped in ``PreTrainedTokenizerFast``, and 2-layer Llama/Qwen2 models from
configs, saved with ``save_pretrained`` so ``HFJudge`` loads them the way it loads a real
checkpoint. Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

CORPUS = [
    "<think> Let me think step by step about the problem. First compute 3 * 4 = 12. </think> The answer is 12.",
    "Decide whether the response below answers the problem correctly. Answer YES or NO.",
    "Problem: what is the capital of France? Reference answer: Paris. Response: it is Paris.",
    "The quick brown fox jumps over the lazy dog while the judge reads a long reasoning trace.",
    "Is this reasoning a concise sketch? 1. Add the numbers. 2. Divide by two. Yes no maybe.",
] * 8

SPECIALS = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]


def build_tokenizer(*, chat: bool = True, pad_is_eos: bool = False) -> Any:
    """A ~400-token byte-level BPE tokenizer with single-token yes/no words."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="</s>" if pad_is_eos else "<pad>",
        chat_template=CHATML if chat else None,
    )
    fast.add_tokens(["YES", "NO", "Yes", "No", "yes", "no"])
    return fast


def _small(cfg_cls: Any, tok: Any, **extra: Any) -> Any:
    return cfg_cls(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        **extra,
    )


def build_classifier(path: Path, *, chat: bool = True, pad_is_eos: bool = False, num_labels: int = 1, seed: int = 0) -> Path:
    """A 2-layer Llama sequence classifier (a reward model) saved under ``path``."""
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    tok = build_tokenizer(chat=chat, pad_is_eos=pad_is_eos)
    torch.manual_seed(seed)
    model = LlamaForSequenceClassification(_small(LlamaConfig, tok, num_labels=num_labels))
    with torch.no_grad():  # a visible spread of scores
        model.score.weight.normal_(0.0, 2.0)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def build_yes_no(path: Path, *, chat: bool = True, seed: int = 0) -> Path:
    """A 2-layer Qwen2 causal LM (a yes/no judge) saved under ``path``."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tok = build_tokenizer(chat=chat)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(_small(Qwen2Config, tok, tie_word_embeddings=False))
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, 1.0)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return build_classifier(tmp_path_factory.mktemp("clf"))


@pytest.fixture(scope="session")
def classifier_eos_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pad_token == eos_token and no chat template: the OpenRLHF pitfall case."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return build_classifier(tmp_path_factory.mktemp("clf_eos"), chat=False, pad_is_eos=True, seed=1)


@pytest.fixture(scope="session")
def yes_no_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return build_yes_no(tmp_path_factory.mktemp("yn"))


def make_samples(n: int, seed: int = 0) -> list[Any]:
    """Varied completions (lengths 1x-40x a sentence) with prompts and references."""
    import random

    from moreward.core import Sample

    rng = random.Random(seed)
    words = " ".join(CORPUS).split()
    out = []
    for i in range(n):
        k = rng.choice([3, 8, 20, 60, 150])
        body = " ".join(rng.choice(words) for _ in range(k))
        out.append(
            Sample(
                f"<think>{body}</think> The answer is {i}.",
                reference=str(i if i % 2 else i + 1),
                prompt=f"Question {i}: add the numbers?",
            )
        )
    return out


@pytest.fixture(scope="session")
def helpers() -> Any:
    """The builders above, for tests that need a variant (conftest is not importable by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        build_tokenizer=build_tokenizer,
        build_classifier=build_classifier,
        build_yes_no=build_yes_no,
        make_samples=make_samples,
        chatml=CHATML,
    )
