"""Handlers of the analysis commands (``summary``, ``filter``, ``pairs``, ``front``).

``cli.py`` builds the parsers; these functions take the parsed arguments, so the
commands can also be driven from Python.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import numpy as np

from ..config import FieldsConfig, load_config
from ..errors import ConfigError
from .analysis import filter_rows, iter_scored, preference_pairs, summarise, value_matrix, write_rows

__all__ = ["add_common_options", "cmd_filter", "cmd_front", "cmd_pairs", "cmd_summary"]


def add_common_options(p: argparse.ArgumentParser) -> None:
    """Options shared by the commands that read a scored file."""
    p.add_argument("scored", help="a JSONL file written by 'moreward score' (.gz read transparently); - for stdin")
    p.add_argument("-c", "--config", help="the pipeline config: gives the field names and the objectives' directions")
    p.add_argument("--group-field", help="the field holding the group id (default: the config's, else 'group')")
    p.add_argument("--minimise", action="append", default=[], metavar="OBJECTIVE", help="an objective to minimise (repeatable)")


def _fields_and_minimise(args: argparse.Namespace) -> tuple[FieldsConfig, list[str]]:
    fields = FieldsConfig()
    minimise = list(args.minimise)
    if args.config:
        cfg = load_config(args.config)
        fields = cfg.fields
        minimise += [n for n, o in cfg.objectives.items() if o.direction == "min"]
    if args.group_field:
        fields = fields.model_copy(update={"group": args.group_field})
    return fields, minimise


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path in (None, "-"):
        yield sys.stdout
        sys.stdout.flush()
    else:
        with open(path, "w", encoding="utf-8") as fh:
            yield fh


def cmd_summary(args: argparse.Namespace) -> int:
    fields, minimise = _fields_and_minimise(args)
    summary = summarise(iter_scored(args.scored, group_field=fields.group))
    sys.stdout.write(summary.table(max_groups=args.max_groups))
    if args.plot:
        from .plots import plot_summary

        names = list(summary.objectives)
        # Rebuild the matrix in a second pass: the summary keeps values per objective, not per row.
        rows = iter_scored(args.scored, group_field=fields.group)
        M = value_matrix(rows, names)
        pair = tuple(args.objectives.split(",")) if args.objectives else None
        if pair is not None and (len(pair) != 2 or any(p not in names for p in pair)):
            raise ConfigError(f"--objectives takes two names out of: {', '.join(names)}")
        paths = plot_summary(summary, M, names, args.plot, maximise=[n not in minimise for n in names], pair=pair)  # type: ignore[arg-type]
        sys.stdout.write("plots:\n" + "".join(f"  {p}\n" for p in paths))
    return 0


def cmd_filter(args: argparse.Namespace) -> int:
    fields, minimise = _fields_and_minimise(args)
    modes = sum(x is not None and x is not False for x in (args.min_reward, args.top_k, args.pareto_front or None))
    if modes != 1:
        raise ConfigError("filter needs exactly one of --min-reward, --top-k, --pareto-front")
    if args.per_group and args.top_k is None:
        raise ConfigError("--per-group goes with --top-k")
    rows = iter_scored(args.scored, group_field=fields.group)
    kept = filter_rows(
        rows,
        min_reward=args.min_reward,
        top_k=args.top_k,
        per_group=args.per_group,
        pareto_front=args.pareto_front,
        minimise=minimise,
    )
    with _output(args.output) as out:
        n = write_rows(kept, out)
    sys.stderr.write(f"moreward: kept {n} row(s)\n")
    return 0


def cmd_pairs(args: argparse.Namespace) -> int:
    fields, minimise = _fields_and_minimise(args)
    rows = iter_scored(args.scored, group_field=fields.group)
    pairs = preference_pairs(
        rows, fields=fields, margin=args.margin, minimise=minimise, max_pairs_per_group=args.max_pairs_per_group
    )
    n = 0
    with _output(args.output) as out:
        for rec in pairs:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            n += 1
    sys.stderr.write(f"moreward: wrote {n} preference pair(s)\n")
    return 0


def cmd_front(args: argparse.Namespace) -> int:
    """The front, hypervolume and IGD+ per step (or checkpoint) of a scored file."""
    from ..pareto import FrontTracker

    fields, minimise = _fields_and_minimise(args)
    by_step: dict[object, list[list[float]]] = {}
    names: list[str] | None = None
    for row in iter_scored(args.scored, group_field=fields.group):
        if names is None:
            names = list(row.values)
        step = row.obj.get(args.by, "(missing)") if args.by else "all"
        if isinstance(step, (list, dict)):
            step = json.dumps(step, sort_keys=True)
        by_step.setdefault(step, []).append(row.vector(names))
    if not names:
        raise ConfigError(f"{args.scored}: no scored rows")
    maximise = [n not in minimise for n in names]
    allpts = np.vstack([np.asarray(v, dtype=float) for v in by_step.values()])
    if args.ref:
        ref = [float(x) for x in args.ref.split(",")]
        if len(ref) != len(names):
            raise ConfigError(f"--ref has {len(ref)} values for {len(names)} objectives ({', '.join(names)})")
    else:
        # The worst value seen per objective: every recorded point is at least as good.
        ref = [
            float(np.nanmin(allpts[:, j]) if maximise[j] else np.nanmax(allpts[:, j])) if not np.isnan(allpts[:, j]).all() else 0.0
            for j in range(len(names))
        ]
    tracker = FrontTracker(ref=ref, maximise=maximise, names=names)
    steps = sorted(by_step, key=_step_key)
    for step in steps:
        tracker.record(step, np.asarray(by_step[step], dtype=float))
    out = sys.stdout
    described = ", ".join(f"{n} ({'max' if m else 'min'})" for n, m in zip(names, maximise))
    out.write(f"objectives: {described}\n")
    out.write(f"reference point: {', '.join(f'{x:g}' for x in ref)}\n")
    head = f"{(args.by or 'step'):<12} {'rollouts':>8} {'front':>6} {'hypervolume':>12} {'IGD+':>10} {'spread':>8}"
    out.write(head + "\n" + "-" * len(head) + "\n")
    for r in tracker.report():
        out.write(
            f"{str(r.step)[:12]:<12} {r.n_points:>8} {r.n_nondominated:>6} {r.hypervolume:>12.6g} {r.igd_plus:>10.4g} {r.spread:>8.4g}\n"
        )
    if args.plot:
        from pathlib import Path

        target = Path(args.plot)
        directory, prefix = (target.parent, target.stem) if target.suffix.lower() == ".png" else (target, "front")
        paths = tracker.plot(directory, prefix=prefix)
        out.write("plots:\n" + "".join(f"  {p}\n" for p in paths))
    return 0


def _step_key(step: object) -> tuple[int, float, str]:
    # Numeric steps in numeric order, then the rest by name ("ckpt-10" after "ckpt-9" is not attempted).
    if isinstance(step, (int, float)) and not isinstance(step, bool):
        return (0, float(step), "")
    return (1, 0.0, str(step))
