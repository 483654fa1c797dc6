"""Knights and Knaves puzzles: who tells the truth and who lies.

Two scoring schemes:

- ``"warmup"`` (Warm Up Before You Train, arXiv 2505.13718; ``reward_kk`` in
  ``safal312/warmup-before-you-train/train/dataset_loader.py``): **-2** bad format
  (not exactly one each of ``</think>``, ``<answer>``, ``</answer>``, or not
  ``.+</think>\\s*<answer>(.+)</answer>\\s*$``), **-1** a name not in the puzzle or a role
  that is neither the truthful nor the lying one, **+2** every person's role right,
  **-0.5** otherwise.
- ``"unit"``: 0 to 1. 1 when all roles are right; with ``partial_credit``, when the
  answer names as many people as the puzzle and gets ``m`` of ``n`` right,
  ``0.3 + 0.7·m/n`` (reasoning-gym's ``knights_knaves`` ``score_answer``); else 0.

An answer is read as statements ``NAME is a ROLE`` (``(1) Zoey is a knight``, one per
line as the paper prompts, or ``Zoey is a knight, and Oliver is a knave``);
``NAME is not a ROLE`` gives the other role. Roles pair up as reasoning-gym's
(knight/knave, hero/villain, angel/devil, ...); the puzzle's pair is read from the
reference, or given with ``roles``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from ..core import BaseObjective, Sample, Score, Verdict
from ..errors import ConfigError
from ..registry import register

__all__ = ["ROLE_PAIRS", "KnightsKnaves", "parse_assignments", "score_knights_knaves"]

ROLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("knight", "knave"),
    ("pioneer", "laggard"),
    ("saint", "sinner"),
    ("hero", "villain"),
    ("angel", "devil"),
    ("altruist", "egoist"),
    ("sage", "fool"),
)
"""(truthful, liar) role words, as reasoning-gym's ``KNIGHT_KNAVE_PAIRS``."""

Scheme = Literal["warmup", "unit"]
FormatRule = Literal["warmup", "answer_tag", "none"]
_SCHEMES = ("warmup", "unit")
_FORMATS = ("warmup", "answer_tag", "none")
_PARTNER = {a: b for p in ROLE_PAIRS for a, b in (p, p[::-1])}
_STATEMENT = re.compile(r"([^\W\d_][\w'-]*)\s+is\s+(not\s+)?(?:an?\s+)?([^\W\d_]+)", re.I)
_WARMUP_FORMAT = re.compile(r".+</think>\s*<answer>(.+)</answer>\s*$", re.S)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def parse_assignments(text: str, pair: tuple[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """``NAME is a ROLE`` statements of ``text`` as ``{name: role}`` (both casefolded), and
    the names given two different roles. ``is not a ROLE`` maps to the other role of
    ``pair`` or of the built-in pairs. Words like ``this`` become names: the scorer calls
    them unknown.

    Example:
        >>> parse_assignments("(1) Zoey is a knight\\n(2) Oliver is not a knight")
        ({'zoey': 'knight', 'oliver': 'knave'}, [])
    """
    partner = dict(_PARTNER)
    if pair is not None:
        partner.update({pair[0]: pair[1], pair[1]: pair[0]})
    out: dict[str, str] = {}
    conflicts: list[str] = []
    for name, neg, role in _STATEMENT.findall(text):
        name, role = name.casefold(), role.casefold()
        if neg:
            role = partner.get(role, f"not {role}")
        if name in out and out[name] != role and name not in conflicts:
            conflicts.append(name)
        out.setdefault(name, role)
    return out, conflicts


def _reference(ref: Any, roles: tuple[str, str] | None) -> tuple[dict[str, bool], tuple[str, str]] | None:
    """``({name: truthful}, (truthful role, liar role))`` from a solution text, a mapping
    ``{name: role or bool}`` or a reasoning-gym entry; ``None`` when unreadable."""
    pair = roles
    if isinstance(ref, Mapping) and isinstance(ref.get("answer"), str):  # a reasoning-gym entry
        terms = (ref.get("metadata") or {}).get("knight_knave_terms") or {}
        if pair is None and isinstance(terms.get("knight"), str) and isinstance(terms.get("knave"), str):
            pair = (terms["knight"].casefold(), terms["knave"].casefold())
        ref = ref["answer"]
    if isinstance(ref, str):
        words, conflicts = parse_assignments(ref, pair)
        if conflicts:
            return None
    elif isinstance(ref, Mapping) and all(isinstance(k, str) and isinstance(v, (str, bool)) for k, v in ref.items()):
        words = {k.casefold(): v.casefold() for k, v in ref.items() if isinstance(v, str)}
        bools = {k.casefold(): v for k, v in ref.items() if isinstance(v, bool)}
        if pair is None and words:
            pair = next((p for p in ROLE_PAIRS if set(words.values()) <= set(p)), None)
        pair = pair or ROLE_PAIRS[0]
        words.update({k: pair[0] if v else pair[1] for k, v in bools.items()})
    else:
        return None
    if not words:
        return None
    if pair is None:
        pair = next((p for p in ROLE_PAIRS if set(words.values()) <= set(p)), None)
    if pair is None or not set(words.values()) <= set(pair):
        return None
    return {k: v == pair[0] for k, v in words.items()}, pair


def score_knights_knaves(
    completion: str,
    reference: Any,
    *,
    scheme: Scheme = "warmup",
    format: FormatRule = "warmup",
    partial_credit: bool = True,
    roles: tuple[str, str] | None = None,
) -> Score:
    """Score a completion on a Knights and Knaves puzzle (see the module docstring).

    ``format``: ``"warmup"`` (the paper's rule), ``"answer_tag"`` (exactly one
    ``<answer>`` block) or ``"none"`` (the whole completion is the answer, as in
    reasoning-gym). A reference that cannot be read gives ``SKIP``.
    """
    warm = scheme == "warmup"
    ref = _reference(reference, (roles[0].casefold(), roles[1].casefold()) if roles is not None else None)
    if ref is None:
        return Score.skip(f"reference is not a Knights and Knaves solution: {reference!r:.60}")
    truth, pair = ref
    gold = {n: pair[0] if t else pair[1] for n, t in truth.items()}
    if format == "warmup":
        counts = [completion.count(t) for t in ("</think>", "<answer>", "</answer>")]
        m = _WARMUP_FORMAT.search(completion) if counts == [1, 1, 1] else None
        answer = m.group(1).strip() if m else None
    elif format == "answer_tag":
        found = _ANSWER.findall(completion)
        answer = found[0].strip() if len(found) == 1 and completion.count("<answer>") == 1 else None
    else:
        answer = completion
    if answer is None:
        return Score(-2.0 if warm else 0.0, Verdict.INVALID, f"bad format ({format})", {"rule": "format"})
    got, conflicts = parse_assignments(answer, pair)
    details: dict[str, Any] = {"assignments": got, "expected": gold, "roles": pair}
    unknown_names = sorted(set(got) - set(gold))
    unknown_roles = sorted({r for r in got.values() if r not in pair})
    if unknown_names or unknown_roles:
        rule = "unknown_name" if unknown_names else "unknown_role"
        what = unknown_names or unknown_roles
        return Score(-1.0 if warm else 0.0, Verdict.FAIL, f"{rule.replace('_', ' ')}: {', '.join(what)}", {**details, "rule": rule})
    if got == gold and not conflicts:
        return Score(2.0 if warm else 1.0, Verdict.PASS, "every role is right", {**details, "rule": "correct"})
    right = sum(got.get(n) == r for n, r in gold.items()) if not conflicts else 0
    rule = "conflict" if conflicts else "no_assignment" if not got else "wrong"
    details.update(rule=rule, right=right)
    reason = f"{right}/{len(gold)} roles right" if not conflicts else f"two roles for {', '.join(conflicts)}"
    if warm:
        return Score(-0.5, Verdict.FAIL, reason, details)
    if partial_credit and right and len(got) == len(gold):
        return Score(0.3 + 0.7 * right / len(gold), Verdict.PARTIAL, reason, details)
    return Score(0.0, Verdict.FAIL, reason, details)


@register("knights_knaves")
class KnightsKnaves(BaseObjective):
    """Knights and Knaves (:func:`score_knights_knaves`): the Warm-up paper's -2/-1/-0.5/+2
    scheme or a 0-to-1 scheme with reasoning-gym's partial credit.

    The reference is the solution text (``"(1) Zoey is a knight\\n(2) ..."``), a mapping
    ``{name: role or bool}`` (``True``: truthful) or a reasoning-gym entry
    (``{"answer": ..., "metadata": {"knight_knave_terms": ...}}``).

    Args:
        scheme: ``"warmup"`` or ``"unit"``.
        format: ``"warmup"``, ``"answer_tag"`` or ``"none"``.
        partial_credit: in the unit scheme, ``0.3 + 0.7·m/n`` for ``m`` of ``n`` right.
        roles: the (truthful, liar) role words, when the reference does not tell them.
    """

    name: ClassVar[str] = "knights_knaves"

    def __init__(
        self,
        *,
        scheme: Scheme = "warmup",
        format: FormatRule = "warmup",
        partial_credit: bool = True,
        roles: Sequence[str] | None = None,
    ) -> None:
        if scheme not in _SCHEMES:
            raise ConfigError(f"scheme={scheme!r} is not allowed; allowed: {', '.join(_SCHEMES)}")
        if format not in _FORMATS:
            raise ConfigError(f"format={format!r} is not allowed; allowed: {', '.join(_FORMATS)}")
        if roles is not None and (
            isinstance(roles, str) or len(roles) != 2 or not all(isinstance(r, str) and r.isalpha() for r in roles)
            or roles[0].casefold() == roles[1].casefold()
        ):
            raise ConfigError(f"roles must be two different words (truthful, liar), got {roles!r}")
        self.scheme = scheme
        self.format = format
        self.partial_credit = bool(partial_credit)
        self.roles = (roles[0], roles[1]) if roles is not None else None

    def score(self, sample: Sample) -> Score:
        return score_knights_knaves(
            sample.completion, sample.reference, scheme=self.scheme, format=self.format,
            partial_credit=self.partial_credit, roles=self.roles,
        )
