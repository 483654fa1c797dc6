"""Judge prompt templates and decision parsing.

A :class:`JudgeTemplate` turns a :class:`~moreward.core.Sample` into chat messages. Its
strings are ``str.format`` templates over the fields ``{prompt}``, ``{response}`` (the
whole completion), ``{thinking}`` (the thinking section only: SketchThinker-R1's
SketchJudge, arXiv 2601.02825, judges the style of the thinking), ``{answer}`` (the
extracted final answer), ``{rest}`` (what follows the thinking) and ``{reference}``.
Literal braces in a template are doubled (``{{``).

Built-in templates (:data:`TEMPLATES`):

- ``reward_model``: the prompt as the user turn, the completion as the assistant turn
  (a sequence-classifier reward model, as TRL's ``RewardTrainer`` trains them).
- ``raw``: the completion alone, no chat template.
- ``yes_no``: a generic correctness question answered ``YES``/``NO`` (the Master-RM
  shape, arXiv 2507.08794).
- ``qwenlong``: QwenLong-L1's equivalence judge (arXiv 2505.17667), answered
  ``[[YES]]``/``[[NO]]``; it reads the extracted answer only.
- ``general_verifier``: TIGER-Lab general-verifier's ``### Question / ### Ground Truth
  Answer / ### Student Answer`` prompt, answered ``Final Decision: Yes/No``.
- ``sketch_judge``: a SketchJudge-style style judge over the thinking only. The paper's
  exact prompt is not public; this one asks the same question (is the thinking a
  concise sketch of the essential steps?).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ...core import Sample
from ...errors import ConfigError
from .guards import Parts

__all__ = ["FIELDS", "TEMPLATES", "JudgeTemplate", "View", "get_template", "parse_decision"]

View = Literal["full", "answer", "thinking"]
FIELDS: tuple[str, ...] = ("prompt", "response", "thinking", "answer", "rest", "reference")
_LONG_FIELDS: tuple[str, ...] = ("response", "thinking", "rest", "answer")


@dataclass(frozen=True)
class JudgeTemplate:
    """How a judge sees a sample.

    Args:
        user: the user turn (a ``str.format`` template over :data:`FIELDS`).
        system: an optional system turn.
        assistant: an optional assistant turn (reward models read the completion here);
            when absent the judge answers after the generation prompt.
        answer_prefix: text appended after the generation prompt for next-token judges, so
            that the next token is the decision (``"[["`` before ``YES``/``NO``).
        view: what the judge is shown, for the guards' defaults: ``"full"``,
            ``"answer"`` or ``"thinking"``.
        chat: use the tokenizer's chat template when it has one.
        yes: the words that mean yes (next-token judges sum their probabilities).
        no: the words that mean no.
        name: a label for reprs and cache keys.
    """

    user: str
    system: str | None = None
    assistant: str | None = None
    answer_prefix: str = ""
    view: View = "full"
    chat: bool = True
    yes: tuple[str, ...] = ("YES", "Yes", "yes")
    no: tuple[str, ...] = ("NO", "No", "no")
    name: str = "custom"

    def __post_init__(self) -> None:
        if self.view not in ("full", "answer", "thinking"):
            raise ConfigError(f"template view={self.view!r} is not allowed; allowed: full, answer, thinking")
        object.__setattr__(self, "yes", tuple(self.yes))
        object.__setattr__(self, "no", tuple(self.no))
        if not self.yes or not self.no:
            raise ConfigError("template yes and no need at least one word each")
        used = self.fields()
        unknown = used - set(FIELDS)
        if unknown:
            raise ConfigError(
                f"template {self.name!r} uses unknown field(s) {', '.join(sorted(unknown))}; allowed: {', '.join(FIELDS)}"
            )
        if not used & set(_LONG_FIELDS):
            raise ConfigError(f"template {self.name!r} shows none of {', '.join(_LONG_FIELDS)}: the judge would not see the completion")

    def _strings(self) -> list[str]:
        return [s for s in (self.system, self.user, self.assistant) if s]

    def fields(self) -> set[str]:
        """The field names the template uses."""
        out: set[str] = set()
        for s in self._strings():
            for _, name, _, _ in string.Formatter().parse(s):
                if name is not None:
                    out.add(name)
        return out

    @property
    def long_field(self) -> str:
        """The field that is cut when the input is too long (the first of response, thinking, rest, answer used)."""
        used = self.fields()
        return next(f for f in _LONG_FIELDS if f in used)

    def values(self, sample: Sample, parts: Parts) -> dict[str, str]:
        """The field values for ``sample`` (stripped; absent parts are empty strings)."""
        ref = sample.reference
        if isinstance(ref, (list, tuple)):
            reference = " OR ".join(str(r) for r in ref)
        else:
            reference = "" if ref is None else str(ref)
        return {
            "prompt": (sample.prompt or "").strip(),
            "response": sample.completion.strip(),
            "thinking": (parts.thinking or "").strip(),
            "answer": (parts.answer or "").strip(),
            "rest": parts.rest.strip(),
            "reference": reference.strip(),
        }

    def messages(self, values: Mapping[str, str]) -> list[dict[str, str]]:
        """The chat messages for these field values."""
        out = []
        if self.system:
            out.append({"role": "system", "content": self.system.format(**values)})
        out.append({"role": "user", "content": self.user.format(**values)})
        if self.assistant:
            out.append({"role": "assistant", "content": self.assistant.format(**values)})
        return out

    def plain(self, values: Mapping[str, str]) -> str:
        """The text for a model without a chat template: the turns joined by blank lines."""
        return "\n\n".join(m["content"] for m in self.messages(values))

    def key(self) -> str:
        """A stable string of everything that changes what the judge sees (for cache keys)."""
        return repr((self.user, self.system, self.assistant, self.answer_prefix, self.chat, self.yes, self.no))


_YES_NO_USER = (
    "Decide whether the response below answers the problem correctly, judging its final answer "
    "against the reference answer.\n\n"
    "Problem:\n{prompt}\n\nReference answer:\n{reference}\n\nResponse:\n{response}\n\n"
    "Is the response's final answer correct? Answer YES or NO."
)

_QWENLONG_USER = (
    "Judge whether the following [response] to [question] is correct or not based on the precise and "
    "unambiguous [correct answer] below.\n\n"
    "[question]: {prompt}\n\n[response]: {answer}\n\n[correct answer]: {reference}\n\n"
    "Focus only on whether the final answer in [response] is equivalent to [correct answer]; do not "
    "solve the problem again. Answer [[YES]] if it is correct and [[NO]] if it is not."
)

_GENERAL_VERIFIER_USER = (
    "### Question: {prompt}\n\n### Ground Truth Answer: {reference}\n\n### Student Answer: {answer}\n\n"
    "For the above question, please verify if the student's answer is equivalent to the ground truth answer.\n"
    "Do not solve the question by yourself; just check if the student's answer is equivalent to the ground truth answer.\n"
    'If the student\'s answer is correct, output "Final Decision: Yes". If the student\'s answer is incorrect, '
    'output "Final Decision: No".'
)

_SKETCH_USER = (
    "Below is the reasoning a model wrote before answering. Judge its style only, not its correctness. "
    "A sketch states only the essential steps, tersely, like a short numbered list; a verbose trace "
    "restates the problem, hedges, repeats checks and wanders.\n\n"
    "Reasoning:\n{thinking}\n\nIs this reasoning a concise sketch? Answer YES or NO."
)

TEMPLATES: dict[str, JudgeTemplate] = {
    "reward_model": JudgeTemplate(user="{prompt}", assistant="{response}", name="reward_model"),
    "raw": JudgeTemplate(user="{response}", chat=False, name="raw"),
    "yes_no": JudgeTemplate(user=_YES_NO_USER, name="yes_no"),
    "qwenlong": JudgeTemplate(user=_QWENLONG_USER, answer_prefix="[[", view="answer", name="qwenlong"),
    "general_verifier": JudgeTemplate(
        user=_GENERAL_VERIFIER_USER, answer_prefix="Final Decision:", view="answer", name="general_verifier"
    ),
    "sketch_judge": JudgeTemplate(user=_SKETCH_USER, view="thinking", name="sketch_judge"),
}


def get_template(template: str | JudgeTemplate | Mapping[str, Any]) -> JudgeTemplate:
    """A template by name, as given, or built from a mapping of :class:`JudgeTemplate` options."""
    if isinstance(template, JudgeTemplate):
        return template
    if isinstance(template, str):
        try:
            return TEMPLATES[template]
        except KeyError:
            raise ConfigError(f"unknown judge template {template!r}; allowed: {', '.join(TEMPLATES)}") from None
    if isinstance(template, Mapping):
        try:
            return JudgeTemplate(**dict(template))
        except TypeError as exc:
            allowed = ", ".join(JudgeTemplate.__dataclass_fields__)
            raise ConfigError(f"template: {exc}; allowed keys: {allowed}") from exc
    raise ConfigError(f"template must be a name, a JudgeTemplate or a mapping, got {type(template).__name__}")


_BRACKETS = re.compile(r"\[\[\s*(yes|no)\s*\]\]", re.IGNORECASE)
_FINAL = re.compile(r"final\s*decision\s*[:：]?\s*[*_\"'`]*\s*(yes|no)\b", re.IGNORECASE)
_BARE = re.compile(r"^[\s*_\"'`.\[\]]*(yes|no)[\s*_\"'`.!\[\]]*$", re.IGNORECASE)


def parse_decision(text: str) -> bool | None:
    """A judge's decision: ``True`` for yes, ``False`` for no, ``None`` when it gave none.

    The last ``[[YES]]``/``[[NO]]`` (QwenLong-L1) wins, then the last ``Final Decision:
    Yes/No`` (general-verifier), then a reply that is only yes or no. A reasoning judge's
    thinking (up to the last ``</think>``) is ignored.

    Example:
        >>> parse_decision("The answers match. [[YES]]"), parse_decision("Final Decision: No")
        (True, False)
        >>> parse_decision("maybe") is None
        True
    """
    k = text.rfind("</think>")
    if k >= 0:
        text = text[k + len("</think>") :]
    for pattern in (_BRACKETS, _FINAL):
        hits = pattern.findall(text)
        if hits:
            return hits[-1].lower() == "yes"
    m = _BARE.match(text)
    if m is not None:
        return m.group(1).lower() == "yes"
    return None
