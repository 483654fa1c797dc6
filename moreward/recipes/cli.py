"""``moreward recipes list | show NAME``: the recipes from the command line.

``list`` prints one line per recipe (name, method, what it combines; ``--long`` adds the
paper and the named parameters). ``show NAME`` prints the recipe's TOML, header comment
included, so ``moreward recipes show dapo > dapo.toml`` gives an editable config;
``show NAME --path`` prints where the shipped file is, for ``moreward score -c``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_recipes_parser", "cmd_list", "cmd_show"]


def add_recipes_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``moreward recipes list|show NAME`` on the CLI's subparsers.

    Every action sets ``func`` (``args -> int``); ``moreward recipes`` alone lists.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "recipes", help="reward schemes of published papers: list them, show one's config"
    )
    actions = parser.add_subparsers(dest="recipes_action", metavar="ACTION")
    ls = actions.add_parser("list", help="one line per recipe: name, method, what it combines")
    ls.add_argument("--long", action="store_true", help="also the paper, the formula and the named parameters")
    ls.set_defaults(recipes_func=cmd_list)
    show = actions.add_parser("show", help="print a recipe's TOML config (paper, formula and defaults in its header)")
    show.add_argument("name", help="recipe name (see `moreward recipes list`)")
    show.add_argument("--path", action="store_true", help="print the shipped file's path instead of its text")
    show.set_defaults(recipes_func=cmd_show)
    parser.set_defaults(func=_dispatch, long=False)
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    func = getattr(args, "recipes_func", None) or cmd_list
    return int(func(args))


def cmd_list(args: argparse.Namespace) -> int:
    """Print the recipes; with ``--long`` their paper, formula, parameters and needs."""
    from . import available, info

    out = sys.stdout
    names = available()
    width = max(len(n) for n in names)
    for name in names:
        r = info(name)
        out.write(f"{name:<{width}}  {r.title}: {r.combines}\n")
        if getattr(args, "long", False):
            out.write(f"{'':<{width}}  paper:   {r.paper}\n")
            out.write(f"{'':<{width}}  reward:  {r.formula}\n")
            for p in r.params:
                flag = " (required)" if p.required else ""
                out.write(f"{'':<{width}}  param:   {p.name}{flag}: {p.doc}\n")
            if r.needs:
                out.write(f"{'':<{width}}  needs:   {'; '.join(r.needs)}\n")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print one recipe's TOML (or, with ``--path``, its file path)."""
    from . import path, show

    if args.path:
        sys.stdout.write(f"{path(args.name)}\n")
    else:
        sys.stdout.write(show(args.name))
    return 0
