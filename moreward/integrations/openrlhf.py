"""OpenRLHF reward function from a pipeline (``--reward.remote_url /path/to/file.py``).

OpenRLHF's contract (``openrlhf/utils/agent.py``, 0.11; ``remote_rm_utils.py`` in
0.8)::

    reward_func(queries, prompts, labels, **kwargs) -> {"rewards": Tensor[B], "scores": Tensor[B],
                                                        "extra_logs": {name: Tensor[B]}}

``queries`` are prompt + response decoded with ``skip_special_tokens=False`` (so
they carry the chat template and the end-of-turn tokens), ``prompts`` the
templated prompts and ``labels`` the ``--data.label_key`` column. OpenRLHF 0.11
loads the file with ``spec_from_file_location`` and calls ``reward_func`` with one
sample at a time in a worker thread (``asyncio.to_thread``); 0.8 calls it per
micro-batch in a Ray task. ``rewards`` drive the advantage, ``scores`` (in
[0, 1]) the dynamic filtering (they default to the rewards), ``extra_logs`` go
to W&B. The same dict, as JSON lists, is the answer of the remote reward-model
HTTP route (``POST {"query", "prompts", "labels"}``) served by ``moreward serve``.

Use it by pointing OpenRLHF at this very file and naming the config in the
environment (this module uses absolute imports so it loads by path)::

    MOREWARD_CONFIG=pipeline.toml openrlhf.cli.train_ppo_ray \\
        --reward.remote_url $(python -c "import moreward.integrations.openrlhf as m; print(m.__file__)")

or write your own file with ``reward_func = RewardFunc("pipeline.toml", ...)``.

The response is ``query`` with the prompt removed (exact prefix first, then the
prompt without a leading BOS token, then the text after the last assistant
header of a known chat template) and the trailing end-of-turn/EOS tokens removed.

When no objective gives a value there is no reward: ``on_missing="raise"``
(default) raises :class:`~moreward.integrations.MissingRewardError`; OpenRLHF logs
it and leaves that sample's reward ``None`` (the HTTP route answers 500, which
OpenRLHF retries, then the same). ``on_missing=x`` gives reward ``x`` with
``extra_logs["moreward_valid"] = 0``. Components without a value are ``NaN``
in ``extra_logs``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

from moreward.core import Result, Sample
from moreward.errors import InputError, MissingExtraError
from moreward.integrations._common import (
    VALID_KEY,
    OnMissing,
    PipelineSource,
    as_pipeline,
    check_on_missing,
    component_floats,
    fill_reward,
    hashable,
)

__all__ = ["ASSISTANT_MARKERS", "BOS_TOKENS", "STOP_TOKENS", "RewardFunc", "reward_func", "strip_prompt"]

BOS_TOKENS: tuple[str, ...] = ("<|begin_of_text|>", "<s>", "<bos>", "<｜begin▁of▁sentence｜>", "<|startoftext|>")
STOP_TOKENS: tuple[str, ...] = (
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "<|end|>",
    "<|return|>",
    "</s>",
    "<eos>",
    "<end_of_turn>",
    "<｜end▁of▁sentence｜>",
    "<|pad|>",
    "<pad>",
)
ASSISTANT_MARKERS: tuple[str, ...] = (
    "<|im_start|>assistant\n",
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "<|start|>assistant",
    "<｜Assistant｜>",
    "<start_of_turn>model\n",
    "<|assistant|>\n",
    "[/INST]",
)


def _lstrip_bos(text: str, bos: Sequence[str]) -> str:
    changed = True
    while changed:
        changed = False
        for tok in bos:
            if tok and text.startswith(tok):
                text = text[len(tok) :]
                changed = True
    return text


def strip_prompt(
    query: str,
    prompt: str | None,
    *,
    bos_tokens: Sequence[str] = BOS_TOKENS,
    stop_tokens: Sequence[str] = STOP_TOKENS,
    assistant_markers: Sequence[str] = ASSISTANT_MARKERS,
) -> str:
    """The response inside an OpenRLHF ``query`` (prompt + response, special tokens kept).

    Example:
        >>> strip_prompt("<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n4<|im_end|>",
        ...              "<|im_start|>user\\n2+2?<|im_end|>\\n<|im_start|>assistant\\n")
        '4'
    """
    response: str | None = None
    if prompt and query.startswith(prompt):
        response = query[len(prompt) :]
    else:
        q = _lstrip_bos(query, bos_tokens)
        p = _lstrip_bos(prompt or "", bos_tokens)
        if p and q.startswith(p):
            response = q[len(p) :]
        elif p and p.strip() and p.strip() in q:
            response = q[q.index(p.strip()) + len(p.strip()) :]
        else:
            best = -1
            for marker in assistant_markers:
                at = q.rfind(marker)
                if at >= 0 and at + len(marker) > best:
                    best = at + len(marker)
            response = q[best:] if best >= 0 else q
    changed = True
    while changed:
        changed = False
        trimmed = response.rstrip()
        for tok in stop_tokens:
            if tok and trimmed.endswith(tok):
                response = trimmed[: -len(tok)]
                changed = True
                break
    return response


class RewardFunc:
    """OpenRLHF's ``reward_func`` for a pipeline (a picklable callable).

    Args:
        pipeline: a pipeline, or a config path/mapping.
        on_missing: ``"raise"`` or the reward to give when no objective has a value.
        score_objective: the objective whose value is returned as ``scores`` (for
            ``--algo.dynamic_filtering_range``); default: the reward itself.
        tokenizer: a tokenizer (anything with ``encode``) or a local path/name for
            ``transformers.AutoTokenizer``, to give objectives the response's token count.
        bos_tokens, stop_tokens, assistant_markers: see :func:`strip_prompt`.
    """

    def __init__(
        self,
        pipeline: PipelineSource,
        *,
        on_missing: OnMissing | str = "raise",
        score_objective: str | None = None,
        tokenizer: Any = None,
        bos_tokens: Sequence[str] = BOS_TOKENS,
        stop_tokens: Sequence[str] = STOP_TOKENS,
        assistant_markers: Sequence[str] = ASSISTANT_MARKERS,
    ) -> None:
        self.pipeline = as_pipeline(pipeline)
        self.on_missing = check_on_missing(on_missing)
        if score_objective is not None and score_objective not in self.pipeline.objectives:
            raise InputError(f"score_objective {score_objective!r} is not an objective: {', '.join(self.pipeline.names)}")
        reserved = {VALID_KEY}
        if reserved & set(self.pipeline.names):
            raise InputError(f"objective name {VALID_KEY!r} is reserved in extra_logs")
        self.score_objective = score_objective
        self.tokenizer = tokenizer
        self.bos_tokens = tuple(bos_tokens)
        self.stop_tokens = tuple(stop_tokens)
        self.assistant_markers = tuple(assistant_markers)
        self._tok: Any = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(vars(self))
        state["_tok"] = None
        state.pop("_lock")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _count_tokens(self, text: str) -> int | None:
        if self.tokenizer is None:
            return None
        if self._tok is None:
            with self._lock:
                if self._tok is None:
                    if isinstance(self.tokenizer, (str, os.PathLike)):
                        try:
                            from transformers import AutoTokenizer
                        except ImportError as exc:
                            raise MissingExtraError(
                                "transformers is needed to load a tokenizer by name; pip install 'moreward[judge]'"
                            ) from exc
                        self._tok = AutoTokenizer.from_pretrained(str(self.tokenizer))
                    else:
                        self._tok = self.tokenizer
        try:
            return len(self._tok.encode(text, add_special_tokens=False))
        except TypeError:
            return len(self._tok.encode(text))

    def samples(self, queries: Sequence[str], prompts: Sequence[Any] | None, labels: Sequence[Any] | None) -> list[Sample]:
        """The samples of one call: responses stripped from ``queries``, ``labels`` as references.

        Raises:
            InputError: the lists differ in length or a query is not a string.
        """
        if isinstance(queries, str) or not isinstance(queries, Sequence):
            raise InputError(f"queries must be a list of strings, got {type(queries).__name__}")
        n = len(queries)
        prompts = list(prompts) if prompts is not None else [None] * n
        labels = list(labels) if labels is not None else [None] * n
        if len(prompts) != n or len(labels) != n:
            raise InputError(f"got {n} queries, {len(prompts)} prompts and {len(labels)} labels; they must match")
        out = []
        for i, (q, p, label) in enumerate(zip(queries, prompts, labels)):
            if not isinstance(q, str):
                raise InputError(f"queries[{i}] must be a string, got {type(q).__name__}")
            if p is not None and not isinstance(p, str):
                raise InputError(f"prompts[{i}] must be a string, got {type(p).__name__}")
            response = strip_prompt(
                q, p, bos_tokens=self.bos_tokens, stop_tokens=self.stop_tokens, assistant_markers=self.assistant_markers
            )
            group = hashable(p) if p is not None else None
            out.append(Sample(response, reference=label, prompt=p, group=group, tokens=self._count_tokens(response)))
        return out

    def pack(self, results: Sequence[Result]) -> dict[str, Any]:
        """``{"rewards", "scores", "extra_logs"}`` as lists of floats (``NaN`` for missing components).

        Raises:
            MissingRewardError: a sample has no reward and ``on_missing="raise"``.
        """
        rewards: list[float] = []
        valid: list[float] = []
        logs: dict[str, list[float]] = {n: [] for n in self.pipeline.names}
        for i, r in enumerate(results):
            value, ok = fill_reward(r, self.on_missing, f"sample {i}")
            rewards.append(value)
            valid.append(1.0 if ok else 0.0)
            for n, v in component_floats(r, self.pipeline.names).items():
                logs[n].append(v)
        if self.score_objective is None:
            scores = list(rewards)
        else:
            scores = []
            for i, (r, v) in enumerate(zip(results, logs[self.score_objective])):
                if v == v:  # not NaN
                    scores.append(v)
                else:
                    scores.append(fill_reward(Result(None, r.components, r.raw), self.on_missing, f"sample {i} score")[0])
        logs[VALID_KEY] = valid
        return {"rewards": rewards, "scores": scores, "extra_logs": logs}

    def compute(self, queries: Sequence[str], prompts: Sequence[Any] | None, labels: Sequence[Any] | None) -> dict[str, Any]:
        """Score synchronously; the answer as JSON-ready lists."""
        return self.pack(self.pipeline.score(self.samples(queries, prompts, labels)))

    async def acompute(
        self, queries: Sequence[str], prompts: Sequence[Any] | None, labels: Sequence[Any] | None
    ) -> dict[str, Any]:
        """Score through the async pipeline; the answer as JSON-ready lists."""
        return self.pack(await self.pipeline.ascore(self.samples(queries, prompts, labels)))

    def __call__(
        self, queries: Sequence[str], prompts: Sequence[Any] | None = None, labels: Sequence[Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        try:
            import torch
        except ImportError as exc:  # OpenRLHF always has torch; the HTTP route needs no torch
            raise MissingExtraError("torch is needed for OpenRLHF's tensors; pip install 'moreward[trl]'") from exc
        out = self.compute(queries, prompts, labels)
        return {
            "rewards": torch.tensor(out["rewards"], dtype=torch.float32),
            "scores": torch.tensor(out["scores"], dtype=torch.float32),
            "extra_logs": {k: torch.tensor(v, dtype=torch.float32) for k, v in out["extra_logs"].items()},
        }

    def __repr__(self) -> str:
        return f"RewardFunc(pipeline={self.pipeline!r}, on_missing={self.on_missing!r})"


_default: RewardFunc | None = None
_default_lock = threading.Lock()


def _from_env() -> RewardFunc:
    global _default
    with _default_lock:
        if _default is None:
            config = os.environ.get("MOREWARD_CONFIG")
            if not config:
                raise InputError(
                    "moreward's OpenRLHF reward_func reads its pipeline config from the MOREWARD_CONFIG "
                    "environment variable, which is not set"
                )
            _default = RewardFunc(
                config,
                on_missing=os.environ.get("MOREWARD_ON_MISSING", "raise"),
                score_objective=os.environ.get("MOREWARD_SCORE_OBJECTIVE") or None,
                tokenizer=os.environ.get("MOREWARD_TOKENIZER") or None,
            )
        return _default


def reward_func(queries: Sequence[str], prompts: Sequence[Any], labels: Sequence[Any], **kwargs: Any) -> dict[str, Any]:
    """OpenRLHF's module-level entry point, configured by environment variables.

    ``MOREWARD_CONFIG`` (required: the pipeline config), ``MOREWARD_ON_MISSING``
    (``raise`` or a number), ``MOREWARD_SCORE_OBJECTIVE``, ``MOREWARD_TOKENIZER``.
    Returns ``{"rewards": Tensor[B], "scores": Tensor[B], "extra_logs": {name: Tensor[B]}}``.
    """
    return _from_env()(queries, prompts, labels, **kwargs)
