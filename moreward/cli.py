"""The ``moreward`` command line.

``moreward --version`` and ``moreward check CONFIG`` (validate a pipeline config and
print its objectives and combiner). Exit codes: 0 success, 1 a failed check of the
data, 2 a usage or config error (the message names the file and the key).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import __version__
from .errors import ConfigError, MorewardError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="moreward",
        description="Verifiers, shaped rewards and Pareto-aware combiners for RL of reasoning models.",
    )
    parser.add_argument("--version", action="version", version=f"moreward {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="validate a pipeline config and print its objectives and combiner")
    check.add_argument("config", help="pipeline config file (.toml, .yaml, .yml or .json)")
    check.add_argument("--fuzz", action="store_true", help="also fuzz every objective with hypothesis (needs the dev extra)")
    check.add_argument("--max-examples", type=_positive_int, default=100, help="examples per property with --fuzz (default 100)")
    check.add_argument("--seed", type=int, default=0, help="random seed for --fuzz (default 0)")
    check.set_defaults(func=_cmd_check)

    score = sub.add_parser("score", help="score a JSONL file of rollouts with a pipeline config")
    score.add_argument("input", help="input JSONL (.gz is read transparently); - for stdin")
    score.add_argument("-c", "--config", required=True, help="pipeline config (.toml, .yaml, .json)")
    score.add_argument("-o", "--output", required=True, help="output JSONL (.gz to compress); - for stdout")
    score.add_argument("--errors", help="errors JSONL (default: OUT.errors.jsonl; stderr when OUT is -)")
    score.add_argument("--workers", type=_positive_int, default=1, help="scoring processes (default 1: in this process)")
    score.add_argument("--resume", action="store_true", help="continue an interrupted run where it stopped")
    score.add_argument("--backend", choices=("local", "ray"), default="local", help="where to score (default local)")
    score.add_argument("--address", help="Ray cluster address for --backend ray (default: start a local instance)")
    score.add_argument("--chunk-size", type=_positive_int, default=256, help="rows scored together, cut at group boundaries (default 256)")
    score.add_argument("--strict", action="store_true", help="exit 1 when any line went to the errors file")
    score.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar on stderr (default: when stderr is a terminal)")
    score.set_defaults(func=_cmd_score)

    from .offline.commands import add_common_options, cmd_filter, cmd_front, cmd_pairs, cmd_summary

    summary = sub.add_parser("summary", help="tables per objective and per group; --plot writes PNGs")
    add_common_options(summary)
    summary.add_argument("--plot", metavar="DIR", help="write histograms per objective and the Pareto front scatter here")
    summary.add_argument("--objectives", metavar="A,B", help="the two objectives of the front scatter")
    summary.add_argument("--max-groups", type=_positive_int, default=20, help="groups shown in the table (default 20)")
    summary.set_defaults(func=cmd_summary)

    filt = sub.add_parser("filter", help="rejection sampling: keep rows by reward, rank or Pareto front")
    add_common_options(filt)
    filt.add_argument("-o", "--output", help="where to write the kept rows (default stdout)")
    filt.add_argument("--min-reward", type=float, help="keep rows whose reward is at least this")
    filt.add_argument("--top-k", type=_positive_int, help="keep the K best rows by reward")
    filt.add_argument("--per-group", action="store_true", help="with --top-k: the K best of each group")
    filt.add_argument("--pareto-front", action="store_true", help="keep the non-dominated rows of each group")
    filt.set_defaults(func=cmd_filter)

    pairs = sub.add_parser("pairs", help="preference pairs (chosen dominates rejected) for DPO")
    add_common_options(pairs)
    pairs.add_argument("-o", "--output", required=True, help="pairs JSONL (prompt/chosen/rejected); - for stdout")
    pairs.add_argument("--margin", type=float, default=0.0, help="minimum reward gap between chosen and rejected (default 0)")
    pairs.add_argument("--max-pairs-per-group", type=_positive_int, help="keep the strongest N pairs of each group")
    pairs.set_defaults(func=cmd_pairs)

    front = sub.add_parser("front", help="the Pareto front, hypervolume and IGD+ per step or checkpoint")
    add_common_options(front)
    front.add_argument("--by", metavar="FIELD", help="the row field that names the step or checkpoint (e.g. step)")
    front.add_argument("--ref", metavar="R1,R2,...", help="the hypervolume reference point (default: the worst value seen per objective)")
    front.add_argument("--plot", metavar="FILE.png|DIR", help="write the front scatter and hypervolume-by-step plots")
    front.set_defaults(func=cmd_front)

    from .server import add_serve_parser

    add_serve_parser(sub)

    from .recipes.cli import add_recipes_parser

    add_recipes_parser(sub)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _cmd_score(args: argparse.Namespace) -> int:
    if args.backend == "ray":
        from .offline.ray_backend import score_file_ray

        stats = score_file_ray(
            args.input, args.config, args.output, errors_path=args.errors, address=args.address, chunk_size=args.chunk_size
        )
    else:
        if args.address:
            raise ConfigError("--address is only used with --backend ray")
        from .offline import score_file

        stats = score_file(
            args.input,
            args.config,
            args.output,
            errors_path=args.errors,
            workers=args.workers,
            resume=args.resume,
            chunk_size=args.chunk_size,
            progress=args.progress,
        )
    rate = stats.scored / stats.elapsed if stats.elapsed > 0 else 0.0
    msg = f"moreward: scored {stats.scored} line(s), {stats.errors} error(s)"
    if stats.blank:
        msg += f", {stats.blank} blank line(s) skipped"
    msg += f" in {stats.elapsed:.1f}s ({rate:.0f} lines/s)"
    if stats.resumed_from:
        msg += f"; resumed after line {stats.resumed_from}"
    sys.stderr.write(msg + "\n")
    if stats.split_groups:
        sys.stderr.write(
            f"moreward: warning: {stats.split_groups} group(s) continued after other groups; their rollouts "
            "were combined in separate chunks (sort the input by group, or raise --chunk-size)\n"
        )
    if stats.errors and args.strict:
        return 1
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from .pipeline import Pipeline

    pipe = Pipeline.from_config(args.config)
    cfg = pipe.config
    assert cfg is not None
    out = sys.stdout
    out.write(f"config: {args.config} (valid)\n")
    out.write(f"objectives ({len(pipe.objectives)}):\n")
    width = max(len(n) for n in pipe.names)
    for name, maximise in zip(pipe.names, pipe.maximise):
        ocfg = cfg.objectives[name]
        opts = ", ".join(f"{k}={v!r}" for k, v in ocfg.options.items())
        routed = f"  data_sources={ocfg.data_sources}" if ocfg.data_sources is not None else ""
        out.write(f"  {name:<{width}}  type={ocfg.type}  direction={'max' if maximise else 'min'}{routed}")
        out.write(f"  {opts}\n" if opts else "\n")
    out.write(f"combiner: {pipe.combiner!r}\n")
    f = cfg.fields
    out.write(
        f"fields: completion={f.completion!r} reference={f.reference!r} prompt={f.prompt!r} "
        f"group={f.group!r} tokens={f.tokens!r}\n"
    )
    if args.fuzz:
        from .testing import fuzz_config

        report = fuzz_config(args.config, max_examples=args.max_examples, seed=args.seed)
        out.write(f"{report}\n")
        return 0 if report.ok else 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except ConfigError as exc:
        sys.stderr.write(f"moreward: config error: {exc}\n")
        return 2
    except MorewardError as exc:
        sys.stderr.write(f"moreward: error: {exc}\n")
        return 1
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        sys.stderr.write(f"moreward: error: {exc.filename or ''}: {exc.strerror or exc}\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
