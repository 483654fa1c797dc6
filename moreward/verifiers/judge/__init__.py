"""Model-based judges: a GPU batch scorer for local checkpoints, an OpenAI-compatible client,
guards against "master key" hacking, a result cache, and the rule-first cascade.

- :class:`HFJudge` (``hf_judge``): a sequence-classifier reward model or a yes/no causal-LM
  judge (SketchThinker-R1's SketchJudge, arXiv 2601.02825), batched by token budget.
- :class:`OpenAIJudge` (``openai_judge``): an async client for vLLM/SGLang servers that
  parses ``[[YES]]``/``[[NO]]`` (QwenLong-L1, arXiv 2505.17667) or ``Final Decision: Yes/No``.
- :class:`Guard`: master keys (arXiv 2507.08794) and verifier-hacking patterns
  (arXiv 2505.22203) are decided by rule before any judge is asked.
- :class:`Cascade` (``cascade``): the rule verifier first, the judge only when it fails.

Importing this package does not import torch or httpx; they load when a judge first runs
(the ``judge`` extra).
"""

from __future__ import annotations

from .batching import assign_to_devices, is_oom, plan_batches
from .cache import ResultCache, content_key
from .cascade import Cascade
from .guards import INJECTION_PATTERNS, MASTER_KEYS, Guard, extract_final_answer, split_thinking
from .hf import HFJudge
from .remote import OpenAIJudge
from .templates import TEMPLATES, JudgeTemplate, parse_decision

__all__ = [
    "INJECTION_PATTERNS",
    "MASTER_KEYS",
    "TEMPLATES",
    "Cascade",
    "Guard",
    "HFJudge",
    "JudgeTemplate",
    "OpenAIJudge",
    "ResultCache",
    "assign_to_devices",
    "content_key",
    "extract_final_answer",
    "is_oom",
    "parse_decision",
    "plan_batches",
    "split_thinking",
]
