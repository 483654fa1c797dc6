"""Reading scored JSONL back: ``summary``, ``filter`` and ``pairs``.

All three stream the file. ``filter --top-k --per-group``, ``filter --pareto-front``
and ``pairs`` hold one group at a time, so they expect the rows of a group to be
contiguous, as ``moreward score`` writes them when its input is grouped.
"""

from __future__ import annotations

import heapq
import json
import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from ..config import FieldsConfig
from ..errors import InputError
from .jsonl import iter_raw_lines, open_input

__all__ = [
    "ScoredRow",
    "Summary",
    "dominates",
    "filter_rows",
    "iter_groups",
    "iter_scored",
    "nondominated_mask",
    "preference_pairs",
    "summarise",
    "value_matrix",
]


@dataclass
class ScoredRow:
    """One line of a scored file."""

    number: int
    text: str
    obj: dict[str, Any]
    group: Hashable | None
    reward: float | None
    values: dict[str, float | None]
    verdicts: dict[str, str]

    def vector(self, names: Sequence[str]) -> list[float]:
        """The values of ``names``, NaN where missing."""
        out = []
        for n in names:
            v = self.values.get(n)
            out.append(math.nan if v is None else float(v))
        return out


def value_matrix(rows: Iterable[ScoredRow], names: Sequence[str]) -> np.ndarray:
    """The (N, K) matrix of the rows' values for ``names``, NaN where missing."""
    return np.array([r.vector(names) for r in rows], dtype=float).reshape(-1, len(names))


def _group_key(value: Any) -> Hashable | None:
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value  # type: ignore[no-any-return]


def iter_scored(path: str, *, group_field: str = "group") -> Iterator[ScoredRow]:
    """The scored rows of ``path`` (``-`` for stdin, gzip read transparently).

    Raises:
        InputError: a line is not JSON or has no ``"moreward"`` key (names the line).
    """
    with open_input(path) as fh:
        for number, raw in iter_raw_lines(fh):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
                obj = json.loads(text)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InputError(f"{path}:{number}: not a JSON line: {exc}") from None
            mw = obj.get("moreward") if isinstance(obj, dict) else None
            if not isinstance(mw, dict) or not isinstance(mw.get("components"), dict):
                raise InputError(f"{path}:{number}: no 'moreward' result; score the file with 'moreward score' first")
            comps = mw["components"]
            yield ScoredRow(
                number=number,
                text=text,
                obj=obj,
                group=_group_key(obj.get(group_field)),
                reward=mw.get("reward"),
                values={k: c.get("value") for k, c in comps.items()},
                verdicts={k: str(c.get("verdict")) for k, c in comps.items()},
            )


def iter_groups(rows: Iterable[ScoredRow]) -> Iterator[list[ScoredRow]]:
    """Runs of consecutive rows with the same group (a row without a group is a run of its own)."""
    run: list[ScoredRow] = []
    for row in rows:
        if run and (row.group is None or row.group != run[-1].group):
            yield run
            run = []
        run.append(row)
    if run:
        yield run


# -- dominance ------------------------------------------------------------------------------


def _signs(names: Sequence[str], minimise: Iterable[str]) -> np.ndarray:
    low = set(minimise)
    return np.array([-1.0 if n in low else 1.0 for n in names])


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """``a`` Pareto-dominates ``b`` (both already oriented so larger is better; NaN never dominates)."""
    if np.isnan(a).any() or np.isnan(b).any():
        return False
    return bool(np.all(a >= b) and np.any(a > b))


def nondominated_mask(M: np.ndarray) -> np.ndarray:
    """Rows of ``M`` (larger is better) that no other row dominates; rows with NaN are excluded."""
    n = M.shape[0]
    ok = ~np.isnan(M).any(axis=1)
    if n == 0:
        return ok
    ge = np.all(M[:, None, :] >= M[None, :, :], axis=2)
    gt = np.any(M[:, None, :] > M[None, :, :], axis=2)
    dom = ge & gt & ok[:, None] & ok[None, :]  # dom[i, j]: i dominates j
    return ok & ~dom.any(axis=0)


def _matrix(rows: Sequence[ScoredRow], names: Sequence[str], signs: np.ndarray) -> np.ndarray:
    """The group's objective matrix, oriented so larger is better, without the columns that no row of
    the group has (objectives routed to other data sources): those cannot tell its rows apart."""
    M = value_matrix(rows, names) * signs
    return M[:, ~np.isnan(M).all(axis=0)]


# -- summary --------------------------------------------------------------------------------


@dataclass
class _ObjStats:
    n: int = 0
    total: float = 0.0
    values: list[float] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)


@dataclass
class Summary:
    """Aggregates of a scored file: per objective and per group."""

    rows: int = 0
    rewards: list[float] = field(default_factory=list)
    no_reward: int = 0
    objectives: dict[str, _ObjStats] = field(default_factory=dict)
    groups: dict[Hashable, list[float]] = field(default_factory=lambda: defaultdict(list))

    def table(self, *, max_groups: int = 20) -> str:
        """A plain-text report."""
        out = [f"rows: {self.rows}   reward: mean {_mean(self.rewards)}   without reward: {self.no_reward}", ""]
        verdict_names = ["pass", "fail", "partial", "invalid", "timeout", "error", "skip"]
        head = f"{'objective':<16} {'mean':>8} {'pass rate':>9}  " + " ".join(f"{v:>7}" for v in verdict_names)
        out.append("(mean over rows with a value; pass rate over rows not skipped)")
        out += [head, "-" * len(head)]
        for name, st in self.objectives.items():
            graded = st.n - st.verdicts["skip"]  # routed objectives skip the rows of other domains
            rate = st.verdicts["pass"] / graded if graded else float("nan")
            out.append(
                f"{name:<16} {_mean(st.values):>8} {rate:>9.3f}  " + " ".join(f"{st.verdicts[v]:>7}" for v in verdict_names)
            )
        grouped = {g: r for g, r in self.groups.items() if g is not None}
        if grouped:
            out += ["", f"groups: {len(grouped)}" + (f" (first {max_groups} shown)" if len(grouped) > max_groups else "")]
            gh = f"{'group':<24} {'n':>4} {'mean reward':>12} {'min':>8} {'max':>8} {'distinct':>8}"
            out += [gh, "-" * len(gh)]
            for g, rs in list(grouped.items())[:max_groups]:
                vals = [x for x in rs if not math.isnan(x)]
                lo = f"{min(vals):.3f}" if vals else "-"
                hi = f"{max(vals):.3f}" if vals else "-"
                out.append(f"{str(g)[:24]:<24} {len(rs):>4} {_mean(vals):>12} {lo:>8} {hi:>8} {len(set(vals)):>8}")
            collapsed = sum(1 for rs in grouped.values() if len(rs) > 1 and len({x for x in rs if not math.isnan(x)}) <= 1)
            out.append(f"groups whose rollouts all got the same reward (no learning signal): {collapsed}")
        return "\n".join(out) + "\n"


def _mean(values: Sequence[float]) -> str:
    return f"{sum(values) / len(values):.4f}" if values else "-"


def summarise(rows: Iterable[ScoredRow]) -> Summary:
    """Aggregate scored rows (keeps the values, for plots and quantiles)."""
    s = Summary()
    for row in rows:
        s.rows += 1
        if row.reward is None:
            s.no_reward += 1
        else:
            s.rewards.append(float(row.reward))
        s.groups[row.group].append(float("nan") if row.reward is None else float(row.reward))
        for name, value in row.values.items():
            st = s.objectives.setdefault(name, _ObjStats())
            st.n += 1
            st.verdicts[row.verdicts.get(name, "?")] += 1
            if value is not None:
                st.values.append(float(value))
    return s


# -- filter ---------------------------------------------------------------------------------


def filter_rows(
    rows: Iterable[ScoredRow],
    *,
    min_reward: float | None = None,
    top_k: int | None = None,
    per_group: bool = False,
    pareto_front: bool = False,
    minimise: Sequence[str] = (),
) -> Iterator[ScoredRow]:
    """Rejection sampling: rows with ``reward >= min_reward``; the ``top_k`` by reward (over the
    file, or in each group with ``per_group``); or the Pareto front of each group."""
    if pareto_front:
        for run in iter_groups(rows):
            names = list(run[0].values)
            M = _matrix(run, names, _signs(names, minimise))
            keep = nondominated_mask(M)
            yield from (r for r, k in zip(run, keep) if k)
        return
    if top_k is not None:
        if per_group:
            for run in iter_groups(rows):
                ranked = sorted((r for r in run if r.reward is not None), key=lambda r: -float(r.reward))  # type: ignore[arg-type]
                chosen = {id(r) for r in ranked[:top_k]}
                yield from (r for r in run if id(r) in chosen)
            return
        heap: list[tuple[float, int, ScoredRow]] = []
        for row in rows:
            if row.reward is None:
                continue
            item = (float(row.reward), -row.number, row)
            if len(heap) < top_k:
                heapq.heappush(heap, item)
            else:
                heapq.heappushpop(heap, item)
        yield from sorted((r for _, _, r in heap), key=lambda r: r.number)
        return
    threshold = -math.inf if min_reward is None else min_reward
    yield from (r for r in rows if r.reward is not None and r.reward >= threshold)


def write_rows(rows: Iterable[ScoredRow], out: IO[str]) -> int:
    """Write rows back as they were read; returns the count."""
    n = 0
    for row in rows:
        out.write(row.text + "\n")
        n += 1
    return n


# -- preference pairs -----------------------------------------------------------------------


def _as_prompt_and_answer(row: ScoredRow, fields: FieldsConfig) -> tuple[Any, Any]:
    prompt = row.obj.get(fields.prompt)
    completion = row.obj.get(fields.completion)
    if prompt is None:
        raise InputError(f"line {row.number}: no prompt field {fields.prompt!r}; pairs need the prompt (set [fields] prompt)")
    if isinstance(completion, list):  # conversational: the assistant turns
        return prompt, [m for m in completion if isinstance(m, dict) and m.get("role") == "assistant"]
    return prompt, completion


def preference_pairs(
    rows: Iterable[ScoredRow],
    *,
    fields: FieldsConfig,
    margin: float = 0.0,
    minimise: Sequence[str] = (),
    max_pairs_per_group: int | None = None,
) -> Iterator[dict[str, Any]]:
    """``{"prompt", "chosen", "rejected"}`` records (TRL DPOTrainer's format) for every pair of one
    group where chosen Pareto-dominates rejected and its reward is higher by at least ``margin``.

    Pairs come strongest first within a group (largest reward gap), at most
    ``max_pairs_per_group`` of them.
    """
    for run in iter_groups(rows):
        if len(run) < 2 or run[0].group is None:
            continue
        names = list(run[0].values)
        M = _matrix(run, names, _signs(names, minimise))
        found: list[tuple[float, int, int]] = []
        for i in range(len(run)):
            for j in range(len(run)):
                if i == j or not dominates(M[i], M[j]):
                    continue
                ri, rj = run[i].reward, run[j].reward
                gap = (ri - rj) if ri is not None and rj is not None else math.inf
                if gap >= margin:
                    found.append((gap, i, j))
        found.sort(key=lambda t: (-t[0], t[1], t[2]))
        for _gap, i, j in found[:max_pairs_per_group]:
            prompt, chosen = _as_prompt_and_answer(run[i], fields)
            _, rejected = _as_prompt_and_answer(run[j], fields)
            yield {
                "prompt": prompt,
                "chosen": chosen,
                "rejected": rejected,
                "group": run[i].group,
                "chosen_reward": run[i].reward,
                "rejected_reward": run[j].reward,
                "chosen_line": run[i].number,
                "rejected_line": run[j].number,
            }
