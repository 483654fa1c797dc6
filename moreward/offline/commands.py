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
from .analysis import filter_rows, iter_scored, preference_pairs, summarise, write_rows

__all__ = ["add_common_options", "cmd_filter", "cmd_pairs", "cmd_summary"]


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
        M = np.array(
            [[np.nan if r.values.get(n) is None else float(r.values[n]) for n in names] for r in rows], dtype=float
        ).reshape(-1, len(names))
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
