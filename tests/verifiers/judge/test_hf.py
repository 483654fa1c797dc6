"""HFJudge on tiny checkpoints built from configs: batch == single, truncation, OOM, devices, cache."""

from __future__ import annotations

import pickle
import random

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from moreward import registry  # noqa: E402
from moreward.core import Sample, Verdict  # noqa: E402
from moreward.errors import ConfigError, MissingExtraError  # noqa: E402
from moreward.verifiers.judge import MASTER_KEYS, HFJudge, JudgeTemplate  # noqa: E402

TOL = 1e-4


def values(scores):
    return [s.value for s in scores]


def close(a, b, tol=TOL):
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def samples(helpers):
    return helpers.make_samples(24)


@pytest.fixture(scope="module")
def clf_reference(classifier_dir, samples):
    judge = HFJudge(classifier_dir, guard=False, cache=False, max_tokens_per_batch=1)
    return values(judge.score_batch(samples))  # budget 1: every sample alone


@pytest.fixture(scope="module")
def yn_reference(yes_no_dir, samples):
    judge = HFJudge(yes_no_dir, kind="yes_no", guard=False, cache=False, max_tokens_per_batch=1)
    return values(judge.score_batch(samples))


# ---------------------------------------------------------------------- batch == single


@pytest.mark.parametrize("budget", [64, 700, 4096, 1_000_000])
@pytest.mark.parametrize("side", ["right", "left"])
def test_classifier_batch_equals_single(classifier_dir, samples, clf_reference, budget, side):
    judge = HFJudge(classifier_dir, guard=False, cache=False, max_tokens_per_batch=budget, padding_side=side)
    assert close(values(judge.score_batch(samples)), clf_reference)
    assert judge.last_stats["tokens"] <= judge.last_stats["padded_tokens"]


@pytest.mark.parametrize("budget", [64, 1500, 1_000_000])
@pytest.mark.parametrize("side", ["right", "left"])
def test_yes_no_batch_equals_single(yes_no_dir, samples, yn_reference, budget, side):
    judge = HFJudge(yes_no_dir, kind="yes_no", guard=False, cache=False, max_tokens_per_batch=budget, padding_side=side)
    got = values(judge.score_batch(samples))
    assert close(got, yn_reference)
    assert all(0.0 <= v <= 1.0 for v in got)


def test_any_batch_composition(classifier_dir, samples, clf_reference):
    judge = HFJudge(classifier_dir, guard=False, cache=False, max_tokens_per_batch=900, max_batch_size=5)
    rng = random.Random(1)
    for _ in range(3):
        idx = rng.sample(range(len(samples)), k=rng.randint(1, len(samples)))
        got = values(judge.score_batch([samples[i] for i in idx]))
        assert close(got, [clf_reference[i] for i in idx])


def test_classifier_matches_hand_computed_logit(classifier_dir, samples, clf_reference):
    """The gathered score equals the model's own output on the unpadded sequence."""
    from transformers import AutoModelForSequenceClassification

    judge = HFJudge(classifier_dir, guard=False, cache=False)
    judge.load()
    model = AutoModelForSequenceClassification.from_pretrained(classifier_dir).eval()
    for s, ref in zip(samples[:4], clf_reference[:4]):
        ids = judge._encode([s], [judge._parts_guard.parts(s.completion)])[0].ids
        with torch.inference_mode():
            logit = model(torch.tensor([ids])).logits[0, 0].item()
        assert abs(logit - ref) < TOL


def test_yes_no_matches_next_token_distribution(yes_no_dir, samples, yn_reference):
    from transformers import AutoModelForCausalLM

    judge = HFJudge(yes_no_dir, kind="yes_no", guard=False, cache=False)
    judge.load()
    model = AutoModelForCausalLM.from_pretrained(yes_no_dir).eval()
    tok = judge._tokenizer
    yes = [tok.convert_tokens_to_ids(w) for w in ("YES", "Yes", "yes")]
    no = [tok.convert_tokens_to_ids(w) for w in ("NO", "No", "no")]
    assert sorted(judge._rt_yes) == sorted(yes) and sorted(judge._rt_no) == sorted(no)
    for s, ref in zip(samples[:4], yn_reference[:4]):
        ids = judge._encode([s], [judge._parts_guard.parts(s.completion)])[0].ids
        with torch.inference_mode():
            p = torch.softmax(model(torch.tensor([ids])).logits[0, -1].double(), -1)
        expected = (p[yes].sum() / (p[yes].sum() + p[no].sum())).item()
        assert abs(expected - ref) < TOL


def test_chat_template_is_used(classifier_dir, yes_no_dir, samples):
    for path, kind in ((classifier_dir, "classifier"), (yes_no_dir, "yes_no")):
        judge = HFJudge(path, kind=kind, guard=False, cache=False)
        judge.load()
        text = judge._tokenizer.decode(judge._encode(samples[:1], [judge._parts_guard.parts(samples[0].completion)])[0].ids)
        assert text.startswith("<|im_start|>user\n")
        if kind == "yes_no":
            assert text.endswith("<|im_start|>assistant\n")
        else:
            assert "<|im_start|>assistant\n<think>" in text


def test_pad_equals_eos_pitfall(classifier_eos_dir, helpers):
    """pad == eos and a trailing EOS: HF's pooling reads the wrong token, ours does not."""
    from transformers import AutoModelForSequenceClassification

    samples = helpers.make_samples(8, seed=3)
    single = HFJudge(classifier_eos_dir, template="raw", append_eos=True, guard=False, cache=False, max_tokens_per_batch=1)
    batched = HFJudge(classifier_eos_dir, template="raw", append_eos=True, guard=False, cache=False, padding_side="right")
    ref, got = values(single.score_batch(samples)), values(batched.score_batch(samples))
    assert close(got, ref)
    batched.load()
    tok = batched._tokenizer
    assert tok.pad_token_id == tok.eos_token_id
    encoded = batched._encode(samples, [batched._parts_guard.parts(s.completion) for s in samples])
    assert all(e.ids[-1] == tok.eos_token_id and e.ids[-2] != tok.eos_token_id for e in encoded)
    model = AutoModelForSequenceClassification.from_pretrained(classifier_eos_dir).eval()
    with torch.inference_mode():
        pad = model.config.pad_token_id
        model.config.pad_token_id = None  # batch of one without a pad id: HF reads the last position
        alone = [model(torch.tensor([e.ids])).logits[0, 0].item() for e in encoded]
        model.config.pad_token_id = pad
        width = max(len(e.ids) for e in encoded)
        ids = torch.full((len(encoded), width), tok.pad_token_id)
        mask = torch.zeros_like(ids)
        for r, e in enumerate(encoded):
            ids[r, : len(e.ids)] = torch.tensor(e.ids)
            mask[r, : len(e.ids)] = 1
        hf_pooled = model(input_ids=ids, attention_mask=mask).logits[:, 0].tolist()
    assert close(got, alone)
    assert not close(hf_pooled, alone, tol=1e-3)  # the pitfall is real for HF's own pooling


# ---------------------------------------------------------------------- truncation


def test_truncation_keeps_the_end_of_the_response(yes_no_dir):
    head = "alpha " * 200
    s = Sample(f"<think>{head} omega-tail</think> The answer is 7.", reference="7", prompt="What is 3+4?")
    judge = HFJudge(yes_no_dir, kind="yes_no", guard=False, cache=False, max_length=200)
    judge.load()
    [enc] = judge._encode([s], [judge._parts_guard.parts(s.completion)])
    text = judge._tokenizer.decode(enc.ids)
    assert len(enc.ids) <= 200 and enc.dropped > 0
    assert text.startswith("<|im_start|>user\nDecide whether")  # the instructions stay
    assert "Problem:\nWhat is 3+4?" in text
    assert "omega-tail</think> The answer is 7." in text  # the end of the response stays
    assert text.endswith("Answer YES or NO.<|im_end|>\n<|im_start|>assistant\n")  # the question stays
    assert text.count("alpha") < 200
    score = judge.score(s)
    assert score.details["truncated_tokens"] == enc.dropped

    start = HFJudge(yes_no_dir, kind="yes_no", guard=False, cache=False, max_length=200, truncation="keep_start")
    start.load()
    [enc2] = start._encode([s], [start._parts_guard.parts(s.completion)])
    text2 = start._tokenizer.decode(enc2.ids)
    assert "omega-tail" not in text2 and text2.endswith("<|im_start|>assistant\n")

    skip = HFJudge(yes_no_dir, kind="yes_no", guard=False, cache=False, max_length=200, truncation="skip")
    out = skip.score(s)
    assert out.verdict is Verdict.SKIP and out.value is None


def test_truncation_with_eos_and_plain_text(classifier_eos_dir):
    s = Sample("word " * 300 + "FINAL-END")
    judge = HFJudge(classifier_eos_dir, template="raw", append_eos=True, guard=False, cache=False, max_length=40)
    judge.load()
    [enc] = judge._encode([s], [judge._parts_guard.parts(s.completion)])
    assert len(enc.ids) == 40 and enc.ids[-1] == judge._tokenizer.eos_token_id
    assert judge._tokenizer.decode(enc.ids[:-1]).endswith("FINAL-END")


# ---------------------------------------------------------------------- out of memory, errors, devices


def _oom_after(model, limit, exc_factory, calls):
    base = model.model
    original = base.forward

    def forward(*args, **kwargs):
        ids = kwargs["input_ids"]
        calls.append(tuple(ids.shape))
        if ids.numel() > limit:
            raise exc_factory()
        return original(*args, **kwargs)

    base.forward = forward


@pytest.mark.parametrize(
    "exc_factory",
    [
        lambda: torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        lambda: RuntimeError("CUDA error: out of memory"),
    ],
    ids=["OutOfMemoryError", "RuntimeError"],
)
def test_oom_halves_the_budget_and_retries(classifier_dir, samples, clf_reference, exc_factory):
    judge = HFJudge(classifier_dir, guard=False, cache=False, max_tokens_per_batch=100_000)
    judge.load()
    calls: list[tuple[int, int]] = []
    _oom_after(judge._replicas[0], 1500, exc_factory, calls)
    got = judge.score_batch(samples)
    assert close(values(got), clf_reference)
    assert judge.last_stats["oom_retries"] >= 1
    assert judge.last_stats["budget"] <= 1500 < 100_000
    assert any(r * c > 1500 for r, c in calls)  # it did run into the simulated OOM
    # the lowered budget sticks: the next call does not hit the OOM again
    calls.clear()
    judge.score_batch(samples[:6])
    assert judge.last_stats["oom_retries"] == 0


def test_oom_on_a_single_sequence_is_an_error_for_that_sample_only(classifier_dir, samples, clf_reference):
    judge = HFJudge(classifier_dir, guard=False, cache=False)
    judge.load()
    longest = max(range(len(samples)), key=lambda i: len(samples[i].completion))
    n_long = len(judge._encode([samples[longest]], [judge._parts_guard.parts(samples[longest].completion)])[0].ids)
    _oom_after(judge._replicas[0], n_long - 1, lambda: torch.cuda.OutOfMemoryError("out of memory"), [])
    got = judge.score_batch(samples)
    errors = [i for i, s in enumerate(got) if s.verdict is Verdict.ERROR]
    assert longest in errors
    for i, s in enumerate(got):
        if s.verdict is Verdict.ERROR:
            assert s.value is None and "OutOfMemoryError" in s.reason
        else:
            assert abs(s.value - clf_reference[i]) < TOL


def test_other_forward_errors_are_errors_not_zeros(classifier_dir, samples):
    judge = HFJudge(classifier_dir, guard=False, cache=False)
    judge.load()

    def boom(*a, **k):
        raise ValueError("shape mismatch")

    judge._replicas[0].model.forward = boom
    out = judge.score_batch(samples[:3])
    assert all(s.verdict is Verdict.ERROR and s.value is None and "shape mismatch" in s.reason for s in out)


def test_unloadable_checkpoint_is_an_error(tmp_path, samples):
    judge = HFJudge(tmp_path / "missing", cache=False)
    out = judge.score_batch(samples[:2])
    assert all(s.verdict is Verdict.ERROR and s.value is None for s in out)
    assert "judge unavailable" in out[0].reason


def test_data_parallel_over_two_devices(classifier_dir, samples, clf_reference):
    judge = HFJudge(classifier_dir, device=["cpu", "cpu"], guard=False, cache=False, max_tokens_per_batch=600)
    got = values(judge.score_batch(samples))
    assert len(judge._replicas) == 2 and judge._replicas[0] is not judge._replicas[1]
    assert close(got, clf_reference)


def test_device_names_are_checked(classifier_dir):
    with pytest.raises(ConfigError):
        HFJudge(classifier_dir, device="")
    judge = HFJudge(classifier_dir, device="cuda:0", cache=False)
    if not torch.cuda.is_available():
        out = judge.score(Sample("The answer is 4."))
        assert out.verdict is Verdict.ERROR and "not available" in out.reason


# ---------------------------------------------------------------------- cache, guards, templates, misc


def test_cache_and_deduplication(classifier_dir, samples, tmp_path):
    db = tmp_path / "judge.sqlite"
    judge = HFJudge(classifier_dir, guard=False, cache_path=str(db))
    batch = samples[:5] + samples[:5]
    first = judge.score_batch(batch)
    assert judge.last_stats["scored"] == 5  # duplicates scored once
    assert values(first[:5]) == values(first[5:])
    again = HFJudge(classifier_dir, guard=False, cache_path=str(db))  # a new process would see the same file
    second = again.score_batch(samples[:5])
    assert again.last_stats["scored"] == 0 and not again._replicas  # never loaded the model
    assert close(values(second), values(first[:5]), tol=1e-9)
    assert all(s.details.get("cached") for s in second)
    judge.cache.close()
    again.cache.close()


def test_master_keys_never_reach_the_model(tmp_path):
    judge = HFJudge(tmp_path / "never-loaded", kind="yes_no", cache=False)
    out = judge.score_batch([Sample(k, reference="4", prompt="2+2?") for k in MASTER_KEYS])
    assert all(s.verdict is Verdict.INVALID and s.value == 0.0 for s in out)
    assert judge.last_stats["scored"] == 0 and not judge._replicas


def test_sketch_judge_reads_the_thinking_only(yes_no_dir):
    judge = HFJudge(yes_no_dir, kind="yes_no", template="sketch_judge", cache=False)
    think = "<think>1. Add 3 and 4 to get 7.\n2. Check the units.</think>"
    a, b = judge.score_batch([Sample(think + " The answer is 7."), Sample(think + " Final: 8, clearly.")])
    assert a.value == pytest.approx(b.value, abs=1e-6)
    c = judge.score(Sample("The answer is 7."))  # no thinking at all
    assert c.verdict is Verdict.INVALID and "thinking" in c.reason


def test_binary_output_and_threshold(yes_no_dir, samples, yn_reference):
    judge = HFJudge(yes_no_dir, kind="yes_no", guard=False, cache=False, output="binary", threshold=0.6)
    for s, p in zip(judge.score_batch(samples[:6]), yn_reference[:6]):
        assert s.value == (1.0 if p >= 0.6 else 0.0)
        assert s.verdict is (Verdict.PASS if p >= 0.6 else Verdict.FAIL)


def test_custom_template_and_no_chat(classifier_dir, samples):
    tpl = JudgeTemplate(user="Q: {prompt}\nA: {answer}", chat=False)
    judge = HFJudge(classifier_dir, template=tpl, guard=False, cache=False)
    judge.load()
    [enc] = judge._encode(samples[:1], [judge._parts_guard.parts(samples[0].completion)])
    assert judge._tokenizer.decode(enc.ids) == "Q: Question 0: add the numbers?\nA: 0"


def test_pickle_round_trip(classifier_dir, samples, clf_reference):
    judge = HFJudge(classifier_dir, guard=False, cache=False)
    judge.score_batch(samples[:2])
    clone = pickle.loads(pickle.dumps(judge))
    assert clone == judge and not clone._replicas
    assert close(values(clone.score_batch(samples[:4])), clf_reference[:4])


def test_from_model(classifier_dir, samples, clf_reference):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(classifier_dir)
    tok = AutoTokenizer.from_pretrained(classifier_dir)
    judge = HFJudge.from_model(model, tok, guard=False, cache=False)
    assert close(values(judge.score_batch(samples[:5])), clf_reference[:5])


def test_registry_and_options(classifier_dir):
    judge = registry.get("hf_judge", model_path=str(classifier_dir), kind="yes_no", template="qwenlong",
                         guard={"answer": "answer_is"}, max_tokens_per_batch=2048)
    assert isinstance(judge, HFJudge) and judge.name == "hf_judge" and judge.guard.answer == "answer_is"
    with pytest.raises(ConfigError, match="unknown option"):
        registry.get("hf_judge", model_path="x", batch_size=4)
    for bad in ({"kind": "regression"}, {"truncation": "middle"}, {"max_tokens_per_batch": 0},
                {"dtype": "int8"}, {"template": "nope"}, {"guard": {"answer": "middle"}}):
        with pytest.raises(ConfigError):
            HFJudge("x", **bad)


def test_missing_extra_names_the_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "transformers" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"moreward\[judge\]"):
        HFJudge("x")
