"""``qbtsuite keygen``: make the Ed25519 key pair that signs certificates.

The private key goes to ``NAME.key`` (mode 0600), the public key to ``NAME.pub``;
the private key is never printed. Existing files are never replaced.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbtsuite.certify.signing import generate_key_pair
from qbtsuite.errors import ConfigError
from qbtsuite.exitcodes import ExitCode

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "keygen",
        help="Make an Ed25519 key pair to sign certificates (certify --sign-key)",
        description=(
            "Make an Ed25519 key pair: the private key in NAME.key (readable by you "
            "only; never printed), the public key in NAME.pub, to publish. Sign a "
            "certify run with --sign-key NAME.key; reviewers verify with "
            "'qbtsuite verify RUN_DIR --public-key NAME.pub'. Existing files are "
            "never replaced."
        ),
    )
    p.add_argument(
        "name",
        nargs="?",
        type=Path,
        default=Path("qbtsuite-signing"),
        metavar="NAME",
        help="Path of the pair without its suffix (default: qbtsuite-signing)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    name: Path = args.name
    private = name.with_name(name.name + ".key")
    public = name.with_name(name.name + ".pub")
    try:
        key = generate_key_pair(private, public)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    print(f"private key  {private} (mode 0600: keep it; never share it)")
    print(f"public key   {public} (publish it: reviewers verify with it)")
    print(f"key id       {key.key_id}")
    return ExitCode.OK
