"""``HFJudge`` (registry name ``hf_judge``): a local Hugging Face checkpoint as a reward.

Two kinds of judge:

- ``kind="classifier"``: a sequence classifier (a reward model trained as in TRL's
  ``RewardTrainer``, Bradley-Terry loss). The score is the logit, its sigmoid, or a
  softmax class probability.
- ``kind="yes_no"``: a causal LM that answers a judging prompt, as SketchThinker-R1's
  SketchJudge (arXiv 2601.02825; a Qwen2.5-7B-Instruct fine-tune that judges the style
  of the thinking, reward weight 0.1) and Master-RM (arXiv 2507.08794) do. The score is
  ``P(yes) / (P(yes) + P(no))`` from the next-token distribution, with the chat template
  when the tokenizer has one.

Batch scoring, for RL steps of thousands of long-tailed completions:

- inputs are sorted by length and cut by a *token budget* (:mod:`.batching`), not a count;
- bf16 (fp16 where bf16 is missing) on GPU, SDPA attention, ``torch.inference_mode``,
  pinned host memory with non-blocking copies;
- the score is read at each sequence's last real token, found from the attention mask:
  the base model runs once and the head is applied to those positions only. This
  sidesteps the pad-equals-EOS pitfall of Hugging Face's own pooling (it takes the
  rightmost token that is not ``pad_token_id``, so a trailing EOS that is also the pad
  token is skipped) and never materialises ``batch x length x vocab`` logits;
- over-long inputs lose the *start* of the response (:mod:`.encoding`);
- on out-of-memory the token budget is halved and the batch retried; a sequence that
  does not fit alone gets ``Verdict.ERROR``;
- with several GPUs (``device="auto"``) one replica per GPU, batches spread by cost;
- a content-hash cache (:mod:`.cache`) and de-duplication within a call, so repeated
  samples are scored once; the guards (:mod:`.guards`) decide master keys without a forward.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, Literal

from ...core import Sample, Score, Verdict
from ...errors import ConfigError, JudgeBackendError, missing_extra
from ...registry import register
from ._base import JudgeBase
from ._models import DTYPES, context_length, dtype_kwarg, head_plan, resolve_dtype, single_tokens
from .batching import assign_to_devices, is_oom, padded_tokens, plan_batches, resolve_device_names
from .cache import ResultCache, make_cache
from .encoding import Encoded, Truncation, encode, render
from .guards import Guard, Parts, make_guard
from .templates import JudgeTemplate, get_template

__all__ = ["HFJudge", "Kind"]

log = logging.getLogger(__name__)

Kind = Literal["classifier", "yes_no"]
Activation = Literal["auto", "none", "sigmoid", "softmax"]

def _torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise missing_extra(exc.name or "torch", "judge") from exc
    return torch


@register("hf_judge")
class HFJudge(JudgeBase):
    """A local checkpoint as a judge; see the module docstring.

    Args:
        model_path: a directory (or hub id) that ``from_pretrained`` loads.
        kind: ``"classifier"`` (sequence classifier / reward model) or ``"yes_no"`` (causal LM).
        template: a template name (:data:`~.templates.TEMPLATES`), a :class:`JudgeTemplate`
            or a mapping of its options; default ``reward_model`` or ``yes_no`` by kind.
        device: ``"auto"`` (every GPU, else MPS, else CPU), a device, or several
            (``"cuda:0,cuda:1"`` or a list): one replica each, batches split between them.
        dtype: ``"auto"`` (bf16 on GPU, fp16 without bf16, fp32 elsewhere), ``"bf16"``, ``"fp16"``, ``"fp32"``.
        max_tokens_per_batch: the token budget of a batch (padded length x count).
        max_batch_size: an optional cap on sequences per batch.
        max_length: the longest input in tokens (default: the model's context).
        truncation: ``"keep_end"`` (drop the start of the response), ``"keep_start"``, or
            ``"skip"`` (``SKIP`` for over-long inputs).
        padding_side: ``"right"`` or ``"left"`` for decoder models (scores do not depend
            on it); encoder classifiers always pad right.
        append_eos: end every input with the EOS token (OpenRLHF-style reward models).
        activation: classifier output: ``"auto"`` (raw logit for one label, softmax
            otherwise), ``"none"``, ``"sigmoid"`` or ``"softmax"``.
        label: the classifier output read (default: 0 for one label, the last otherwise).
        threshold: PASS at or above it, FAIL below; default 0.5 for probabilities, and no
            threshold (verdict ``PARTIAL``) for raw logits.
        output: ``"prob"`` (the score) or ``"binary"`` (1.0/0.0 by the threshold, SketchJudge's 0/1).
        guard: ``True`` (the template's default :class:`Guard`), ``False``, a Guard or a mapping.
        cache: ``True`` (an LRU), ``False``, an int (LRU size) or a :class:`ResultCache`.
        cache_path: an SQLite file for a persistent cache.
        attn_implementation: passed to ``from_pretrained`` (``None`` for the model's default).
        trust_remote_code: passed to ``from_pretrained``.
    """

    name: ClassVar[str] = "hf_judge"

    def __init__(
        self,
        model_path: str | Path,
        *,
        kind: Kind = "classifier",
        template: str | JudgeTemplate | dict[str, Any] | None = None,
        device: str | Sequence[str] = "auto",
        dtype: str = "auto",
        max_tokens_per_batch: int = 16_384,
        max_batch_size: int | None = None,
        max_length: int | None = None,
        truncation: Truncation = "keep_end",
        padding_side: Literal["right", "left"] = "right",
        append_eos: bool = False,
        activation: Activation = "auto",
        label: int | None = None,
        threshold: float | None = None,
        output: Literal["prob", "binary"] = "prob",
        guard: Guard | dict[str, Any] | bool | None = True,
        cache: bool | int | ResultCache | None = True,
        cache_path: str | None = None,
        attn_implementation: str | None = "sdpa",
        trust_remote_code: bool = False,
    ) -> None:
        _check(kind in ("classifier", "yes_no"), f"kind={kind!r} is not allowed; allowed: classifier, yes_no")
        _check(truncation in ("keep_end", "keep_start", "skip"), f"truncation={truncation!r}; allowed: keep_end, keep_start, skip")
        _check(padding_side in ("right", "left"), f"padding_side={padding_side!r}; allowed: right, left")
        _check(activation in ("auto", "none", "sigmoid", "softmax"), f"activation={activation!r}; allowed: auto, none, sigmoid, softmax")
        _check(output in ("prob", "binary"), f"output={output!r}; allowed: prob, binary")
        _check(dtype == "auto" or dtype in DTYPES, f"dtype={dtype!r}; allowed: auto, {', '.join(DTYPES)}")
        _check(_pos_int(max_tokens_per_batch), f"max_tokens_per_batch must be a positive int, got {max_tokens_per_batch!r}")
        _check(max_batch_size is None or _pos_int(max_batch_size), f"max_batch_size must be a positive int, got {max_batch_size!r}")
        _check(max_length is None or (_pos_int(max_length) and max_length >= 2), f"max_length must be an int >= 2, got {max_length!r}")
        _check(label is None or (isinstance(label, int) and label >= 0), f"label must be a non-negative int, got {label!r}")
        if output == "binary" and threshold is None and kind == "classifier" and activation in ("auto", "none"):
            raise ConfigError("output='binary' on raw logits needs a threshold")
        for pkg in ("torch", "transformers"):
            if importlib.util.find_spec(pkg) is None:
                raise missing_extra(pkg, "judge")
        self.model_path = str(model_path)
        self.kind = kind
        self.template = template if template is not None else ("reward_model" if kind == "classifier" else "yes_no")
        self._template = get_template(self.template)
        self.device = device if isinstance(device, str) else list(device)
        try:  # the syntax now, the availability at load
            resolve_device_names(self.device, cuda_count=1 << 16)
        except ValueError as exc:
            raise ConfigError(f"device={device!r}: {exc}") from exc
        self.dtype = dtype
        self.max_tokens_per_batch = max_tokens_per_batch
        self.max_batch_size = max_batch_size
        self.max_length = max_length
        self.truncation = truncation
        self.padding_side = padding_side
        self.append_eos = bool(append_eos)
        self.activation = activation
        self.label = label
        self.threshold = None if threshold is None else float(threshold)
        self.output = output
        default_guard = Guard(answer="none", min_thinking_chars=16) if self._template.view == "thinking" else Guard()
        self.guard = make_guard(guard, default_guard)
        self.cache = make_cache(cache, cache_path)
        self.attn_implementation = attn_implementation
        self.trust_remote_code = bool(trust_remote_code)
        self._parts_guard = self.guard or Guard(answer="auto")
        self._preloaded: tuple[Any, Any] | None = None
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._load_lock = threading.Lock()
        self._score_lock = threading.Lock()
        self._budget_lock = threading.Lock()
        self._replicas: list[Any] = []
        self._tokenizer: Any = None
        self._budget = self.max_tokens_per_batch
        self.last_stats: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        drop = {"_load_lock", "_score_lock", "_budget_lock", "_replicas", "_tokenizer", "_budget", "last_stats"}
        return {k: v for k, v in vars(self).items() if k not in drop and not k.startswith("_rt_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    def _options(self) -> dict[str, Any]:
        opts = super()._options()
        opts.pop("last_stats", None)
        return opts

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, **options: Any) -> HFJudge:
        """A judge around a model already in memory (it stays on its device; no replicas)."""
        path = getattr(getattr(model, "config", None), "_name_or_path", "") or "<in-memory>"
        judge = cls(f"{path}#{id(model):x}", **options)
        judge._preloaded = (model, tokenizer)
        return judge

    # ------------------------------------------------------------------ loading

    def load(self) -> None:
        """Load the tokenizer and model replicas now (scoring loads them on first use).

        Raises:
            JudgeBackendError: the checkpoint cannot be loaded or does not fit the kind.
        """
        with self._load_lock:
            if self._replicas:
                return
            torch = _torch()
            try:
                self._rt_load(torch)
            except JudgeBackendError:
                raise
            except Exception as exc:
                raise JudgeBackendError(f"cannot load judge {self.model_path!r}: {type(exc).__name__}: {exc}") from exc

    def _rt_load(self, torch: Any) -> None:
        import transformers

        if self._preloaded is not None:
            model, tok = self._preloaded
            replicas = [model.eval()]
            dev = next(model.parameters()).device
            self._rt_devices = [dev]
        else:
            cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
            mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
            names = resolve_device_names(self.device, cuda_count=cuda, mps=mps)
            dtype = getattr(torch, resolve_dtype(torch, self.dtype, names[0]))
            tok = transformers.AutoTokenizer.from_pretrained(self.model_path, trust_remote_code=self.trust_remote_code)
            auto = transformers.AutoModelForSequenceClassification if self.kind == "classifier" else transformers.AutoModelForCausalLM
            kwargs: dict[str, Any] = {dtype_kwarg(transformers.__version__): dtype, "trust_remote_code": self.trust_remote_code}
            if self.attn_implementation:
                kwargs["attn_implementation"] = self.attn_implementation
            try:
                loaded: Any = auto.from_pretrained(self.model_path, **kwargs)
            except (ValueError, ImportError) as exc:
                if "attn" not in str(exc).lower() or "attn_implementation" not in kwargs:
                    raise
                log.warning("attn_implementation=%r not available (%s); using the model default", self.attn_implementation, exc)
                kwargs.pop("attn_implementation")
                loaded = auto.from_pretrained(self.model_path, **kwargs)
            loaded.eval()
            others = [copy.deepcopy(loaded).to(n) for n in names[1:]]  # copied on the host, before the move
            replicas = [loaded.to(names[0]), *others]
            self._rt_devices = [torch.device(n) for n in names]
        self._rt_plan = head_plan(torch, replicas[0], self.kind)
        self._rt_pad_left = self.padding_side == "left" if self._rt_plan == "gather" else self.kind == "yes_no"
        self._rt_use_chat = bool(self._template.chat and getattr(tok, "chat_template", None))
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self._rt_pad_id = 0 if pad is None else int(pad)
        if self.append_eos and tok.eos_token_id is None:
            raise JudgeBackendError("append_eos=True but the tokenizer has no EOS token")
        self._rt_max_length = self.max_length or context_length(replicas[0], tok)
        self._rt_multiple = 8 if self._rt_devices[0].type == "cuda" else 1
        if self.kind == "yes_no":
            self._rt_yes = single_tokens(tok, self._template.yes)
            self._rt_no = single_tokens(tok, self._template.no)
            if not self._rt_yes or not self._rt_no:
                raise JudgeBackendError(f"no single-token form of yes={self._template.yes} / no={self._template.no} in this tokenizer")
            if set(self._rt_yes) & set(self._rt_no):
                raise JudgeBackendError("the yes and no words share a token")
        else:
            n_labels = int(getattr(replicas[0].config, "num_labels", 1))
            self._rt_label = self.label if self.label is not None else (0 if n_labels == 1 else n_labels - 1)
            if self._rt_label >= n_labels:
                raise JudgeBackendError(f"label={self._rt_label} but the classifier has {n_labels} output(s)")
            act = self.activation
            self._rt_act = ("none" if n_labels == 1 else "softmax") if act == "auto" else act
        self._tokenizer = tok
        self._replicas = replicas

    # ------------------------------------------------------------------ scoring

    def score(self, sample: Sample) -> Score:
        return self.score_batch([sample])[0]

    def score_batch(self, samples: Sequence[Sample]) -> list[Score]:
        """Score ``samples``, in order (guards, cache, token-budget batches)."""
        t = self._triage(samples)
        stats: dict[str, Any] = {"samples": len(t.samples), "scored": len(t.todo), "tokens": 0, "padded_tokens": 0,
                                 "batches": 0, "oom_retries": 0}
        scores: list[Score] = []
        if t.todo:
            with self._score_lock:
                scores = self._score_unique([t.samples[i] for i in t.todo], [t.parts[i] for i in t.todo], stats)
                stats["budget"] = self._budget
        self.last_stats = stats
        return self._finish(t, scores)

    def _fingerprint(self) -> str:
        return repr((self.model_path, self.kind, self._template.key(), self.max_length, self.truncation, self.append_eos,
                     self.activation, self.label, self.threshold, self.output, self.dtype))

    def _score_unique(self, samples: list[Sample], parts: list[Parts], stats: dict[str, Any]) -> list[Score]:
        try:
            self.load()
            encoded = self._encode(samples, parts)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, JudgeBackendError) else f"{type(exc).__name__}: {exc}"
            return [Score.error(f"judge unavailable: {reason}") for _ in samples]
        scores: list[Score | None] = [None] * len(samples)
        live = []
        for i, enc in enumerate(encoded):
            if enc.too_long:
                scores[i] = Score.skip(f"input is {len(enc.ids)} tokens, over max_length={self._rt_max_length}")
            else:
                live.append(i)
        rows = self._run([encoded[i].ids for i in live], stats)
        for i, row in zip(live, rows):
            if isinstance(row, _Failed):
                scores[i] = Score.error(f"judge forward failed: {row.reason}", tokens=len(encoded[i].ids))
            else:
                scores[i] = self._to_score(row, len(encoded[i].ids), encoded[i].dropped)
        return [s if s is not None else Score.error("internal: no score") for s in scores]

    def _encode(self, samples: list[Sample], parts: list[Parts]) -> list[Encoded]:
        texts, spans = [], []
        for s, p in zip(samples, parts):
            text, span = render(self._template, self._template.values(s, p), self._tokenizer,
                                use_chat=self._rt_use_chat, judge_prompt=self.kind == "yes_no")
            texts.append(text)
            spans.append(span)
        eos = self._tokenizer.eos_token_id if self.append_eos else None
        return encode(texts, spans, self._tokenizer, add_special_tokens=not self._rt_use_chat,
                      max_length=self._rt_max_length, policy=self.truncation, eos_id=eos)

    def _to_score(self, row: Any, n_tokens: int, dropped: int) -> Score:
        details: dict[str, Any] = {"tokens": n_tokens}
        if dropped:
            details["truncated_tokens"] = dropped
        threshold = self.threshold
        if self.kind == "yes_no":
            value = float(row)
            details["p_yes"] = value
            threshold = 0.5 if threshold is None else threshold
        else:
            value = float(row)
            details["logit" if self._rt_act == "none" else "prob"] = value
            if threshold is None and self._rt_act != "none":
                threshold = 0.5
        if threshold is None:
            return Score(value, Verdict.PARTIAL, f"reward model score {value:.4g}", details)
        ok = value >= threshold
        if self.output == "binary":
            value = 1.0 if ok else 0.0
        return Score(value, Verdict.PASS if ok else Verdict.FAIL, f"judge score {float(row):.4g} vs threshold {threshold:g}", details)

    # ------------------------------------------------------------------ batches and devices

    def _run(self, seqs: list[list[int]], stats: dict[str, Any]) -> list[Any]:
        """One output per sequence (a float, or a :class:`_Failed`), in order."""
        results: list[Any] = [None] * len(seqs)
        if not seqs:
            return results
        lengths = [len(s) for s in seqs]
        batches = plan_batches(lengths, self._budget, max_batch_size=self.max_batch_size, multiple_of=self._rt_multiple)
        n_dev = len(self._replicas)
        if n_dev == 1:
            self._run_device(0, batches, seqs, results, stats)
            return results
        costs = [float(padded_tokens(lengths, b, self._rt_multiple)) for b in batches]
        plan = assign_to_devices(costs, n_dev)
        with ThreadPoolExecutor(max_workers=n_dev, thread_name_prefix="hf-judge") as pool:
            futures = [pool.submit(self._run_device, d, [batches[b] for b in plan[d]], seqs, results, stats)
                       for d in range(n_dev) if plan[d]]
            for f in futures:
                f.result()
        return results

    def _run_device(self, d: int, batches: list[list[int]], seqs: list[list[int]], results: list[Any],
                    stats: dict[str, Any]) -> None:
        torch = _torch()
        queue = deque(batches)
        lengths = [len(s) for s in seqs]
        while queue:
            batch = queue.popleft()
            failure: tuple[bool, str] | None = None
            try:
                values = self._forward(torch, d, [seqs[i] for i in batch])
            except Exception as exc:
                # keep a string, not the exception: its traceback pins the failed forward's tensors
                failure = (is_oom(exc), f"{type(exc).__name__}: {exc}")
            if failure is not None:
                oom, reason = failure
                if not oom:
                    for i in batch:
                        results[i] = _Failed(reason)
                    continue
                if self._rt_devices[d].type == "cuda":
                    torch.cuda.empty_cache()
                with self._budget_lock:
                    stats["oom_retries"] += 1
                    if len(batch) == 1:
                        results[batch[0]] = _Failed(f"{reason} (alone, at {lengths[batch[0]]} tokens)")
                        continue
                    self._budget = max(1, min(self._budget, padded_tokens(lengths, batch, self._rt_multiple)) // 2)
                    budget = self._budget
                log.warning("judge out of memory on %s with a batch of %d; token budget now %d",
                            self._rt_devices[d], len(batch), budget)
                sub = plan_batches([lengths[i] for i in batch], budget, max_batch_size=self.max_batch_size,
                                   multiple_of=self._rt_multiple)
                queue.extendleft(reversed([[batch[j] for j in b] for b in sub]))
                continue
            with self._budget_lock:
                stats["batches"] += 1
                stats["tokens"] += sum(lengths[i] for i in batch)
                stats["padded_tokens"] += padded_tokens(lengths, batch, self._rt_multiple)
            for i, v in zip(batch, values):
                results[i] = v

    def _forward(self, torch: Any, d: int, seqs: list[list[int]]) -> list[float]:
        """One padded forward on replica ``d``: the score of each sequence."""
        model, dev = self._replicas[d], self._rt_devices[d]
        width = -(-max(len(s) for s in seqs) // self._rt_multiple) * self._rt_multiple
        ids = torch.full((len(seqs), width), self._rt_pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            sl = slice(width - len(s), width) if self._rt_pad_left else slice(0, len(s))
            ids[r, sl] = torch.tensor(s, dtype=torch.long)
            mask[r, sl] = 1
        if dev.type == "cuda":
            ids, mask = ids.pin_memory(), mask.pin_memory()
        ids, mask = ids.to(dev, non_blocking=True), mask.to(dev, non_blocking=True)
        with torch.inference_mode():
            if self._rt_plan == "gather":
                base = getattr(model, model.base_model_prefix)
                head = model.get_output_embeddings() if self.kind == "yes_no" else model.score
                pos = (mask.cumsum(-1) - 1).clamp_(min=0)
                hidden = base(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False).last_hidden_state
                last = torch.full((len(seqs),), width - 1, device=dev) if self._rt_pad_left else mask.sum(-1) - 1
                logits = head(hidden[torch.arange(len(seqs), device=dev), last])
                cap = getattr(model.config, "final_logit_softcapping", None) if self.kind == "yes_no" else None
                if cap:
                    logits = torch.tanh(logits / cap) * cap
            elif self.kind == "yes_no":  # no separable head: left padding puts every last token at -1
                pos = (mask.cumsum(-1) - 1).clamp_(min=0)
                logits = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False).logits[:, -1]
            else:
                logits = model(input_ids=ids, attention_mask=mask).logits
            logits = logits.float()
            if self.kind == "yes_no":
                yes = torch.logsumexp(logits[:, self._rt_yes], dim=-1)
                no = torch.logsumexp(logits[:, self._rt_no], dim=-1)
                out = torch.sigmoid(yes - no)
            elif self._rt_act == "softmax":
                out = torch.softmax(logits, dim=-1)[:, self._rt_label]
            elif self._rt_act == "sigmoid":
                out = torch.sigmoid(logits[:, self._rt_label])
            else:
                out = logits[:, self._rt_label]
            return [float(v) for v in out.cpu().tolist()]


class _Failed:
    """Why a sequence got no score (a forward error, or out of memory even alone)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _pos_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x > 0
