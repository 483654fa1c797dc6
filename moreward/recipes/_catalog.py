"""The catalogue of recipes: what each one is, where it comes from, and its named parameters.

The pipeline config of each recipe is the TOML file ``<name>.toml`` next to this module;
this table holds what a config cannot: the citation, a one-line summary, the formula, the
named parameters (each sets one or more dotted paths of the config), and what the recipe
approximates.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RECIPES", "Param", "Recipe"]


@dataclass(frozen=True)
class Param:
    """A named parameter of a recipe: a value that sets one or more dotted config paths.

    Args:
        name: the keyword of :func:`moreward.recipes.get`.
        paths: the dotted paths it sets (``"objectives.length.max_tokens"``).
        doc: what it means, with the paper's value.
        required: the recipe cannot be built without it (a judge model, a server URL).
    """

    name: str
    paths: tuple[str, ...]
    doc: str
    required: bool = False


@dataclass(frozen=True)
class Recipe:
    """One published reward scheme.

    Args:
        name: the recipe name (also the TOML file's stem).
        title: the method's name as the paper writes it.
        paper: the citation (authors, year, title, arXiv id).
        combines: one line: what the reward combines.
        formula: the reward, in one or two lines.
        params: the named parameters.
        needs: what a sample must carry beyond ``completion`` and ``reference``.
        notes: what is approximated, assumed or missing.
        aliases: other names accepted by :func:`moreward.recipes.get`.
        extra: the optional dependency group it needs (``"judge"``), if any.
    """

    name: str
    title: str
    paper: str
    combines: str
    formula: str
    params: tuple[Param, ...] = ()
    needs: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    extra: str | None = None

    @property
    def required(self) -> tuple[str, ...]:
        """The names of the parameters that must be given."""
        return tuple(p.name for p in self.params if p.required)


_MATH = "correctness is moreward's `math` verifier, not the paper's own grader"

RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "deepseek_r1",
        "DeepSeek-R1 / open-r1",
        "DeepSeek-AI 2025, DeepSeek-R1, arXiv:2501.12948; Hugging Face open-r1",
        "accuracy + format + tag count, summed (open-r1's default reward functions)",
        "R = acc + 1[<think>\\n..\\n</think>\\n<answer>\\n..\\n</answer>] + 0.25 * #tags present once",
        notes=(_MATH, "the paper gives no weights; open-r1's are 1/1/1"),
        aliases=("open_r1", "r1"),
    ),
    Recipe(
        "dapo",
        "DAPO",
        "Yu et al. 2025, DAPO: An Open-Source LLM Reinforcement Learning System at Scale, arXiv:2503.14476",
        "+1/-1 accuracy + soft overlong punishment",
        "R = (+1 if correct else -1) + overlong(|y|; L_max = 20480, L_cache = 4096)",
        params=(
            Param("max_tokens", ("objectives.length.max_tokens",), "L_max (paper: 20480)"),
            Param("buffer", ("objectives.length.buffer",), "L_cache, the soft punishment band (paper: 4096)"),
            Param("penalty_factor", ("objectives.length.penalty_factor",), "scale of the overlong term (1.0)"),
        ),
        needs=("Sample.tokens or a tokenizer",),
        notes=(_MATH,),
    ),
    Recipe(
        "kimi_k15",
        "Kimi k1.5",
        "Kimi Team 2025, Kimi k1.5: Scaling Reinforcement Learning with LLMs, arXiv:2501.12599",
        "binary accuracy + group length reward, switched on after a warm-up",
        "R = acc + w * 1[step >= N] * (lambda if correct else min(0, lambda)), lambda = 0.5 - (len - min)/(max - min)",
        params=(
            Param("warmup_steps", ("objectives.length.schedule.delay",), "steps without the length reward (not in the paper; 100)"),
            Param("length_weight", ("combiner.weights.length",), "weight of the length reward (not in the paper; 1.0)"),
        ),
        needs=("Sample.group", "Sample.tokens or a tokenizer", "meta.step"),
        notes=(_MATH, "the warm-up length and the length weight are not given in the paper"),
        aliases=("kimi", "kimi_k1_5"),
    ),
    Recipe(
        "demystify",
        "Demystifying Long CoT",
        "Yeo et al. 2025, Demystifying Long Chain-of-Thought Reasoning in LLMs, arXiv:2502.03373",
        "cosine length-scaled correctness reward + n-gram repetition penalty",
        "R = CosFn(t; correct 2->1, wrong -10->0, exceed -10, T = 14336) - 0.05 * #tokens in repeated 40-grams",
        params=(Param("max_tokens", ("objectives.cosine.max_tokens",), "T, the length scale (launch scripts: 14336)"),),
        needs=("Sample.tokens or a tokenizer", "meta.completion_ids (else word 40-grams)"),
        notes=(_MATH, "the dense per-token repetition penalty is summed into one scalar"),
        aliases=("demystify_long_cot", "cosine"),
    ),
    Recipe(
        "l1_exact",
        "L1-Exact (LCPO)",
        "Aggarwal & Welleck 2025, L1: Controlling How Long a Reasoning Model Thinks With RL, arXiv:2503.04697",
        "correctness - distance to the token target in the prompt",
        "R = 1[correct] - alpha * |n_gold - n_y|, alpha = 0.0003, n_gold from 'Think for N tokens.'",
        params=(Param("alpha", ("objectives.l1.alpha",), "penalty per token off target (paper: 0.0003)"),),
        needs=("Sample.prompt with 'Think for N tokens.' (or meta.target_tokens)", "Sample.tokens or a tokenizer"),
        notes=(_MATH,),
        aliases=("l1", "lcpo_exact"),
    ),
    Recipe(
        "l1_max",
        "L1-Max (LCPO)",
        "Aggarwal & Welleck 2025, L1: Controlling How Long a Reasoning Model Thinks With RL, arXiv:2503.04697",
        "correctness scaled by how far under the token budget in the prompt",
        "R = 1[correct] * clip(alpha * (n_gold - n_y) + delta, 0, 1), alpha = 1/1000, delta = 0.5",
        params=(
            Param("alpha", ("objectives.l1.alpha",), "slope per token (code: 1/1000)"),
            Param("delta", ("objectives.l1.delta",), "value exactly on budget (paper: 0.5)"),
        ),
        needs=("Sample.prompt with 'Think for maximum N tokens.' (or meta.target_tokens)", "Sample.tokens or a tokenizer"),
        notes=(_MATH,),
        aliases=("lcpo_max",),
    ),
    Recipe(
        "vision_r1",
        "Vision-R1",
        "Huang et al. 2025, Vision-R1: Incentivizing Reasoning Capability in Multimodal LLMs, arXiv:2503.06749",
        "format AND answer (HFRRF, 0/1) under PTST's staged length limits (4K, then 8K)",
        "R = 1[format] * 1[correct] * 1[|y| <= L(step)], L = 4096 before step 100, 8192 after",
        params=(
            Param("stage_steps", ("objectives.length.schedule.boundaries",), "steps at which a stage ends (paper: [100])"),
            Param("stage_limits", ("objectives.length.schedule.values",), "token limit per stage (paper: [4096, 8192])"),
        ),
        needs=("meta.step", "Sample.tokens or a tokenizer"),
        notes=(_MATH, "the rollouts per stage (16, then 8) are a sampler setting", "the end of stage 2 is not known"),
    ),
    Recipe(
        "ton",
        "TON (Think or Not)",
        "Wang et al. 2025, Think or Not? Selective Reasoning via RL for Vision-Language Models, arXiv:2505.16854",
        "outcome + format where an empty <think> is valid",
        "R = 1[correct] + 1[<think>T</think><answer>A</answer>, T may be empty]",
        params=(Param("answer_tag", ("objectives.format.answer_tag",), "the answer tag (GUI tasks: 'action')"),),
        notes=(_MATH, "GUI-agent outcome rewards (action type, coordinates) are not included"),
        aliases=("think_or_not",),
    ),
    Recipe(
        "sketchthinker_r1",
        "SketchThinker-R1",
        "SketchThinker-R1: Towards Efficient Sketch-Style Reasoning in Large Multimodal Models, arXiv:2601.02825",
        "0.5 accuracy + 0.4 format + 0.1 SketchJudge verdict on the thinking (hf_judge)",
        "R = 0.5 * acc + 0.4 * 1[<think>..</think>..\\boxed{..}] + 0.1 * SketchJudge(thinking) in {0, 1}",
        params=(
            Param("judge_model", ("objectives.sketch.model_path",), "path to the SketchJudge checkpoint", required=True),
            Param("judge_device", ("objectives.sketch.device",), "where the judge runs ('auto': every GPU)"),
        ),
        needs=("the [judge] extra (torch, transformers) and a GPU for a 7B judge",),
        notes=(
            _MATH,
            "the output format (EasyR1's math format) is an assumption",
            "SketchJudge's prompt is not public: moreward's sketch_judge template",
        ),
        aliases=("sketchthinker", "sketch_thinker_r1"),
        extra="judge",
    ),
    Recipe(
        "parallel_r1",
        "Parallel-R1",
        "Zheng et al. 2025, Parallel-R1: Towards Parallel Thinking via Reinforcement Learning, arXiv:2509.07980",
        "+1/-1 accuracy alternating with the parallel-thinking reward (8 of every 10 steps accuracy only)",
        "R = +1/-1 accuracy; in the last 2 steps of each 10: 1.2 (correct, well-formed parallel), 1.0 (correct, none), -1",
        params=(
            Param("period", ("objectives.parallel.schedule.period", "objectives.malformed.schedule.period"), "steps per window (paper: 10)"),
            Param("ratio", ("objectives.parallel.schedule.ratio", "objectives.malformed.schedule.ratio"), "share of accuracy-only steps (paper: 0.8)"),
        ),
        needs=("meta.step",),
        notes=(_MATH, "tags inside code blocks are ignored (the reference checker counts them)"),
    ),
    Recipe(
        "plantain",
        "Plantain",
        "Liang et al. 2025, Plantain: Plan-Answer Interleaved Reasoning, arXiv:2512.03176",
        "plan-first interleaved format gate times (1 + correctness + helpfulness + unit tests)",
        "R = 1_format * (1 + r_correct + r_helpful + r_unit_test)",
        needs=("meta.data_source ('math' or 'code')", "meta.helpfulness (optional, from a judge)"),
        notes=(
            "the exact tags are not in the sources read (think/answer here)",
            "r_helpful is read from meta.helpfulness: its judge is outside the recipe",
            "r_unit_test is the pass rate on the reference tests; the paper may score the model's own tests",
        ),
    ),
    Recipe(
        "start",
        "START",
        "Li et al. 2025, START: Self-taught Reasoner with Tools, arXiv:2503.04625",
        "correct answer counted only when every code block re-runs to its written output",
        "R = 1[correct] * 1[```python blocks each followed by a matching ```output block]",
        params=(
            Param("min_code_blocks", ("objectives.tools.min_code_blocks",), "fewest code blocks (1: tool use required)"),
            Param("timeout", ("objectives.tools.timeout",), "CPU seconds per re-run (5.0)"),
        ),
        notes=(_MATH, "START trains by rejection sampling (Hint-RFT) and publishes no reward; this is its rule filter as a 0/1 reward"),
    ),
    Recipe(
        "qwenlong_l1",
        "QwenLong-L1",
        "Wan et al. 2025, QwenLong-L1: Towards Long-Context Large Reasoning Models with RL, arXiv:2505.17667",
        "sub-exact-match, then an LLM judge only when it fails; the max of the two (cascade)",
        "R = 1[</think>] * max(sub_em(answer, gold), judge(answer, gold) if sub_em < 1)",
        params=(
            Param("judge_base_url", ("objectives.accuracy.judge.base_url",), "the judge server's /v1 URL", required=True),
            Param("judge_model", ("objectives.accuracy.judge.model",), "the served judge model's name", required=True),
        ),
        needs=("an OpenAI-compatible judge server (vLLM, SGLang)", "httpx (the [judge] extra)"),
        notes=(
            "the judge prompt is paraphrased (moreward's qwenlong template)",
            "the code counts any 'YES' in the reply; here the last [[YES]]/[[NO]] decides",
        ),
        aliases=("qwenlong",),
        extra="judge",
    ),
    Recipe(
        "warmup_kk",
        "Warm Up Before You Train",
        "Shrestha et al. 2025, Warm Up Before You Train: Unlocking General Reasoning in Resource-Constrained Settings, arXiv:2505.13718",
        "Knights and Knaves: -2 bad format, -1 unknown name or role, +2 all roles right, -0.5 wrong",
        "R = -2 (bad format) | -1 (unknown name or role) | +2 (all roles right) | -0.5 (otherwise)",
        aliases=("knights_knaves", "warmup"),
    ),
    Recipe(
        "avar",
        "AVAR",
        "From Narrow to Panoramic Vision: Attention-Guided Cold-Start Reshapes Multimodal Reasoning, arXiv:2603.03825",
        "accuracy + 0.3 visual-anchor reward (only when correct) + 0.1 format",
        "R = acc + 0.3 * vis * 1[acc > 0] + 0.1 * fmt, vis from meta.vis (the trainer's attention ratio)",
        params=(
            Param("vis_key", ("objectives.vis.key",), "the meta column holding r_vis ('vis')"),
            Param("lambda_v", ("combiner.weights.vis",), "weight of r_vis (code: 0.3)"),
            Param("lambda_f", ("combiner.weights.format",), "weight of r_fmt (code: 0.1)"),
        ),
        needs=("meta.vis",),
        notes=(_MATH,),
    ),
    Recipe(
        "th2t",
        "TH2T (difficulty-aware budget)",
        "Liu et al. 2025, Think How to Think: Mitigating Overthinking with Autonomous Difficulty Cognition, arXiv:2507.02663",
        "accuracy + a length budget set by the group's pass rate, counted for correct answers",
        "R = acc + 1[acc > 0] * -min(1, max(0, n - B) / B), B = L_max - pass_rate * (L_max - L_min)",
        params=(
            Param("min_tokens", ("objectives.budget.min_tokens",), "budget when every rollout is right (1024)"),
            Param("max_tokens", ("objectives.budget.max_tokens",), "budget when none is (8192)"),
        ),
        needs=("Sample.group", "Sample.tokens or a tokenizer"),
        notes=(_MATH, "TH2T is SFT only: this RL form and its defaults are moreward's"),
        aliases=("think_how_to_think",),
    ),
    Recipe(
        "weight_warmup",
        "Weight warm-up",
        "after Gupta et al. 2023, Continual Pre-Training of LLMs: How to (re)warm your model?, arXiv:2308.04014",
        "accuracy + a length penalty whose weight ramps up linearly (Kimi's length reward)",
        "R = acc + weight * clip((step - delay) / warmup_steps, 0, 1) * R_len_kimi",
        params=(
            Param("warmup_steps", ("objectives.length.schedule.warmup_steps",), "steps of the linear ramp (100)"),
            Param("delay", ("objectives.length.schedule.delay",), "step at which the ramp starts (0)"),
            Param("weight", ("combiner.weights.length",), "weight reached at the end of the ramp (1.0)"),
        ),
        needs=("Sample.group", "Sample.tokens or a tokenizer", "meta.step"),
        notes=(_MATH, "a moreward recipe: the analogue of LR re-warming, not a published reward"),
        aliases=("rewarm",),
    ),
    Recipe(
        "factum",
        "Factum (P-FAB)",
        "Structured Causal Video Reasoning via Multi-Objective Alignment, arXiv:2604.04415",
        "event-facts completeness + causal fidelity + accuracy + length, balanced by min_norm",
        "A = sum_k lambda_k z_k, lambda = argmin_simplex |sum_k lambda_k z_k|^2 over completeness, fidelity, acc, -len",
        params=(Param("max_tokens", ("objectives.length.max_tokens", "objectives.length.buffer"), "L, where -|y|/L clips at -1 (8192)"),),
        needs=("Sample.tokens or a tokenizer", "reference {answer, events, causal_links}"),
        notes=(
            "P-FAB's form is reconstructed from summaries (min-norm of group z-scores)",
            "the facts schema and the length reward's form are moreward's",
            "the temporal-grounding 'Linear-IoU' reward has no objective here",
        ),
        aliases=("p_fab",),
    ),
)
