"""``qbtsuite verify RUN_DIR``: check a certified run folder.

Exit codes: OK the bundle is valid, FAILED it is not (one line per problem on
stdout), USAGE a usage error (no such folder, an unreadable public key or
catalogue file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qbtsuite import redact
from qbtsuite.certify.signing import PublicKey, load_public_key
from qbtsuite.certify.verify import verify_run
from qbtsuite.errors import ConfigError
from qbtsuite.exitcodes import ExitCode
from qbtsuite.requirements import load_catalogue

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "verify",
        help="Check a certified run folder: signature, every file, the verdict",
        description=(
            "Check a certify run's folder: the signature of certificate.json (by "
            "the given public key, if any), the sha256 of every file of the folder "
            "(none changed, deleted or added), and the verdict and counts, "
            "re-derived from results.json by the code the run used. Exit codes: 0 "
            "valid, 1 invalid (one line per problem), 2 usage error."
        ),
    )
    p.add_argument("dir", type=Path, metavar="RUN_DIR", help="The run folder")
    p.add_argument(
        "--public-key",
        type=Path,
        metavar="PUB",
        help="The signer's public key (qbtsuite keygen's .pub): the certificate "
        "must be signed by it; without it, any signature that matches is reported "
        "with its key id",
    )
    p.add_argument(
        "--catalogue",
        type=Path,
        help="The requirements catalogue the run was judged by (default: this "
        "suite's; its sha256 must be the one results.json names)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    run_dir: Path = args.dir
    if not run_dir.is_dir():
        print(f"error: {run_dir} is not a folder", file=sys.stderr)
        return ExitCode.USAGE
    try:
        public: PublicKey | None = (
            load_public_key(args.public_key) if args.public_key else None
        )
        catalogue = load_catalogue(args.catalogue)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    verification = verify_run(run_dir, catalogue, public)
    for problem in verification.problems:
        print(redact.scrub(problem))
    certificate = verification.certificate
    if not verification.valid or certificate is None:
        print(f"INVALID  {run_dir}: {len(verification.problems)} problem(s)")
        return ExitCode.FAILED
    signer = verification.signed_by
    if signer is None:
        how = "unsigned: integrity only, nothing says who made it"
    elif verification.checked_key:
        how = f"signed by the given key {signer}"
    else:
        how = f"signed by {signer} (give --public-key to check whose key it is)"
    files = len(certificate.manifest) + 1
    print(
        f"valid    {run_dir}: {certificate.verdict.value} · "
        f"{certificate.identity.label()} · {files} files · {how}"
    )
    return ExitCode.OK
