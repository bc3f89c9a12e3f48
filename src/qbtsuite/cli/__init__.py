"""The ``qbtsuite`` command: one subcommand per job, each in its own module.

Every command returns a :class:`~qbtsuite.exitcodes.ExitCode` (the README's
"Exit codes" table). Every command runs inside :func:`qbtsuite.process.shutdown.handling_signals`:
SIGTERM and SIGINT stop what it started and end it with 143 / 130.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from qbtsuite import __version__
from qbtsuite.exitcodes import ExitCode
from qbtsuite.process import shutdown

__all__ = ["COMMANDS", "entry", "main"]


# The command table, in the order of ``--help``: each module's ``register(subparsers)``
# adds its parser and sets ``func``. Modules are imported when their parser is built:
# ``qbtsuite serve`` (the embedded server's child process) then never imports pytest,
# Locust's helpers or the suite's checks, and ``qbtsuite run`` not the load command's.
COMMANDS = {
    "serve": "qbtsuite.cli.serve",
    "requirements": "qbtsuite.cli.requirements",
    "load": "qbtsuite.cli.load",
    "run": "qbtsuite.cli.run",
    "keygen": "qbtsuite.cli.keygen",
    "verify": "qbtsuite.cli.verify",
    "report": "qbtsuite.cli.report",
    "diff": "qbtsuite.cli.diff",
    "compare": "qbtsuite.cli.compare",
    "rejudge": "qbtsuite.cli.rejudge",
    "selftest": "qbtsuite.cli.selftest",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command's, or the one ``only`` names."""
    parser = argparse.ArgumentParser(
        prog="qbtsuite",
        description="Conformance and load-test suite for the Qubittron API",
    )
    parser.add_argument(
        "--version", action="version", version=f"qbtsuite {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module).register(sub)
    return parser


def _parse(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Parse ``argv``; an argument no parser knows is the subcommand's usage error,
    shown with that subcommand's usage (argparse would show the top-level one)."""
    raw = list(sys.argv[1:] if argv is None else argv)
    args, unknown = parser.parse_known_args(raw)
    passed = getattr(args, "pytest_args", None)
    if passed and "--" not in raw:  # only what follows "--" goes to pytest
        unknown += passed
    if unknown:
        command = getattr(args, "command", None)
        chosen = _subparser(parser, command) if command else None
        message = f"unrecognized arguments: {' '.join(unknown)}"
        if command == "run" and any(a.startswith("-") for a in unknown):
            message += " (pytest's own options go after '--': qbtsuite run -- -x)"
        (chosen or parser).error(message)
    return args


def _subparser(
    parser: argparse.ArgumentParser, command: str
) -> argparse.ArgumentParser | None:
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser | None = action.choices.get(command)
            return found
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; return its exit code."""
    raw = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(raw[0] if raw and raw[0] in COMMANDS else None)
    try:
        args = _parse(parser, raw)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return ExitCode.USAGE
    try:
        with shutdown.handling_signals():
            code: int = args.func(args)
    except shutdown.Interrupted as exc:
        print(f"interrupted by {exc.signal_name}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    stopped = shutdown.received()  # a command that reported what it had, then ended
    return code if stopped is None else stopped.exit_code


def entry() -> NoReturn:
    """The ``qbtsuite`` program: :func:`main`, then exit with its code.

    A command stopped by a signal has reported what it had and stopped its children;
    it then exits without tearing the interpreter down module by module, which alone
    takes a second or two with pytest and the openai package loaded (the 5 s a stop
    may take). The ``atexit`` handlers still run, and the output is flushed.
    """
    code = main()
    if shutdown.received() is None:
        sys.exit(code)
    shutdown.exit_now(code)
