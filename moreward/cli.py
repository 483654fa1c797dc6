"""The ``moreward`` command line.

``moreward --version`` and ``moreward check CONFIG`` (validate a pipeline config and
print its objectives and combiner). Exit codes: 0 success, 1 a failed check of the
data, 2 a usage or config error (the message names the file and the key).
"""

from __future__ import annotations

import argparse
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
    check.set_defaults(func=_cmd_check)
    return parser


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
        out.write(f"  {name:<{width}}  type={ocfg.type}  direction={'max' if maximise else 'min'}")
        out.write(f"  {opts}\n" if opts else "\n")
    out.write(f"combiner: {pipe.combiner!r}\n")
    f = cfg.fields
    out.write(
        f"fields: completion={f.completion!r} reference={f.reference!r} prompt={f.prompt!r} "
        f"group={f.group!r} tokens={f.tokens!r}\n"
    )
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
