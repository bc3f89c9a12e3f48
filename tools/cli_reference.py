"""Render every ``qbtsuite`` command's ``--help`` into the README's reference section.

python tools/cli_reference.py --update README.md   # rewrite the section
python tools/cli_reference.py --check README.md    # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path

from qbtsuite.cli import COMMANDS, main

START = "<!-- cli-reference:start -->"
END = "<!-- cli-reference:end -->"


def _help(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(argv)
    return out.getvalue().rstrip()


def render() -> str:
    """The section: the top-level help, then each command's, in fenced blocks."""
    os.environ["COLUMNS"] = "100"  # stable wrapping whatever the terminal
    blocks = [("qbtsuite", _help(["--help"]))]
    blocks += [(f"qbtsuite {name}", _help([name, "--help"])) for name in COMMANDS]
    parts = [f"### `{title}`\n\n```text\n{text}\n```\n" for title, text in blocks]
    return "\n".join(parts)


def replace_section(text: str, body: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{body}{END}{tail}"


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--update", type=Path, metavar="README")
    mode.add_argument("--check", type=Path, metavar="README")
    args = parser.parse_args()
    path: Path = args.update or args.check
    text = path.read_text(encoding="utf-8")
    fresh = replace_section(text, render())
    if args.update:
        path.write_text(fresh, encoding="utf-8")
        return 0
    if fresh != text:
        print(f"{path}: the command reference is stale; run --update", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
