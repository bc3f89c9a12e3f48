"""The ``qbtsuite`` command: one subcommand per job, each in its own module.

Every command returns a :class:`~qbtsuite.exitcodes.ExitCode` (the README's
"Exit codes" table).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qbtsuite import __version__
from qbtsuite.cli import (
    diff,
    keygen,
    load,
    report,
    requirements,
    run,
    selftest,
    serve,
    verify,
)
from qbtsuite.exitcodes import ExitCode

__all__ = ["COMMANDS", "main"]


# The command table, in the order of ``--help``: each module's ``register(subparsers)``
# adds its parser and sets ``func``.
COMMANDS = {
    "serve": serve,
    "requirements": requirements,
    "load": load,
    "run": run,
    "keygen": keygen,
    "verify": verify,
    "report": report,
    "diff": diff,
    "selftest": selftest,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qbtsuite",
        description="Conformance and load-test suite for the Qubittron API",
    )
    parser.add_argument(
        "--version", action="version", version=f"qbtsuite {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS.values():
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; return its exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return ExitCode.USAGE
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    return code
