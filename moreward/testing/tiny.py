"""Tiny transformer models and tokenizers built locally, for tests and examples.

Nothing is downloaded: the tokenizer is a word-level ``tokenizers`` model over a small
vocabulary with a chat template, and the model is a randomly initialised 2-layer Llama.
They exercise the real trainer and judge code paths on a CPU in seconds. Needs the
``judge`` extra (torch, transformers).

Example:
    >>> tok = tiny_tokenizer()                       # doctest: +SKIP
    >>> model = tiny_causal_lm(vocab_size=len(tok))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import missing_extra

__all__ = ["CHAT_TEMPLATE", "SPECIAL_TOKENS", "WORDS", "tiny_causal_lm", "tiny_tokenizer"]

WORDS: tuple[str, ...] = tuple("the cat dog sat on mat a ran 42 yes no what is answer ?".split())
SPECIAL_TOKENS: tuple[str, ...] = ("<pad>", "<eos>", "<bos>", "<unk>", "<|user|>", "<|assistant|>")
CHAT_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'user' %}<|user|> {{ m['content'] }} "
    "{% else %}<|assistant|> {{ m['content'] }} <eos> {% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


def tiny_tokenizer(words: Sequence[str] = WORDS) -> Any:
    """A ``PreTrainedTokenizerFast`` over ``SPECIAL_TOKENS + words`` (ids 0..3: pad, eos, bos, unk)."""
    try:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers
        from transformers import PreTrainedTokenizerFast
    except ImportError as exc:
        raise missing_extra("transformers", "judge") from exc
    vocab = {t: i for i, t in enumerate([*SPECIAL_TOKENS, *words])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>", unk_token="<unk>"
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_causal_lm(vocab_size: int = len(SPECIAL_TOKENS) + len(WORDS), *, seed: int = 0, hidden_size: int = 16) -> Any:
    """A randomly initialised 2-layer ``LlamaForCausalLM`` matching :func:`tiny_tokenizer`'s ids."""
    try:
        import torch
        from transformers import LlamaConfig, LlamaForCausalLM
    except ImportError as exc:
        raise missing_extra("torch", "judge") from exc
    torch.manual_seed(seed)
    return LlamaForCausalLM(
        LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=hidden_size,
            intermediate_size=2 * hidden_size,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=64,
            pad_token_id=0,
            eos_token_id=1,
            bos_token_id=2,
            tie_word_embeddings=True,
        )
    )
