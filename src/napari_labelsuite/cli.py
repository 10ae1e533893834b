"""The ``napari-labelsuite`` command line.

Every subcommand has ``--help`` with an example. Subcommands are registered in
``SUBCOMMANDS`` (name -> (add_arguments, run)).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .core.errors import LabelsuiteError

__all__ = ["main"]


def _add_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--screenshot",
        metavar="PATH",
        help="render the whole window (canvas and docked widgets) to PATH and exit",
    )


def _run_demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(screenshot=args.screenshot)


#: name -> (help, example, add_arguments, run)
SUBCOMMANDS: dict[str, tuple[str, str, Callable, Callable]] = {
    "demo": (
        "start napari with the synthetic sample data and every plugin widget open",
        "napari-labelsuite demo --screenshot demo.png",
        _add_demo,
        _run_demo,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="napari-labelsuite",
        description="Label image data for machine learning with napari.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (help_, example, add, _run) in SUBCOMMANDS.items():
        p = sub.add_parser(
            name,
            help=help_,
            description=help_.capitalize() + ".",
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = SUBCOMMANDS[args.command][3]
    try:
        return int(run(args) or 0)
    except LabelsuiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
