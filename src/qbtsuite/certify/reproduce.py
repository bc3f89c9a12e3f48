"""``REPRODUCE.md``: how to run a certify run again, and how to verify its folder.

Written into the run folder before the certificate (so the manifest covers it): the
exact command, with every secret as the name of the variable that holds it, the
environment the settings came from, the suite version, the catalogue digest, the
capabilities, the product's identity, and the ``qbtsuite verify`` line.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from qbtsuite.capabilities import CAPABILITIES
from qbtsuite.results.model import RunResults
from qbtsuite.results.records import left_out

__all__ = ["REPRODUCE_FILE", "Invocation", "render_reproduce", "write_reproduce"]

REPRODUCE_FILE = "REPRODUCE.md"


@dataclass(frozen=True, slots=True)
class Invocation:
    """How the run was started, with no secret in it."""

    arguments: tuple[str, ...]  # after ``qbtsuite``; a secret is "$VARIABLE"
    environment: tuple[tuple[str, str | None], ...] = ()  # (name, value); None: secret
    config_file: str | None = None

    def command(self) -> str:
        """The command, one option (with its value) per line."""
        command, *options = self.arguments or ("",)
        lines = [
            f"qbtsuite {_word(command)}".rstrip(),
            *_pairs([_word(w) for w in options]),
        ]
        return " \\\n  ".join(lines)


def _word(text: str) -> str:
    """A shell word; ``$VARIABLE`` stays expandable."""
    if text.startswith("$") and text[1:].replace("_", "").isalnum():
        return f'"{text}"'
    return shlex.quote(text)


def _pairs(words: list[str]) -> list[str]:
    """Group an option with its value, one option per line."""
    lines: list[str] = []
    for word in words:
        if (
            lines
            and not word.startswith("-")
            and lines[-1].startswith("-")
            and " " not in lines[-1]
        ):
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _environment(invocation: Invocation) -> list[str]:
    lines = []
    for name, value in invocation.environment:
        if value is None:
            lines.append(f"export {name}=…  # a secret: not recorded")
        else:
            lines.append(f"export {name}={shlex.quote(value)}")
    return lines


def render_reproduce(
    results: RunResults, invocation: Invocation, signed_by: str | None
) -> str:
    """The text of ``REPRODUCE.md`` for a certify run."""
    run, target = results.run, results.run.target
    identity = run.identity
    declared = target.capabilities if target else None
    offered = ", ".join(declared) if declared else "none"
    undeclared = [c for c in CAPABILITIES if declared is not None and c not in declared]
    listing = run.models_listing
    lines = ["# Reproducing this run", ""]
    if identity is not None:
        lines += [
            f"Certified: **{identity.product} {identity.version}** by {identity.vendor}"
            f" ({identity.url}; contact {identity.contact}).",
            "",
        ]
    verdict = results.verdict.value
    lines += [
        f"- verdict: **{verdict}**"
        + (
            f" (left out: {'; '.join(left_out(run, results.not_checked))})"
            if verdict == "partial"
            else ""
        ),
        f"- suite: qbtsuite {run.suite_version} (`pip install qbtsuite=={run.suite_version}`)",
        f"- catalogue sha256: `{run.digests.catalogue}`",
        f"- schemas sha256: `{run.digests.schemas}`",
        f"- the target's `GET /models` sha256: `{listing.sha256 if listing else None}`",
        f"- target: {target.base_url if target else '(none)'}"
        + (" (the embedded reference server)" if target and target.embedded else ""),
        f"- capabilities declared: {offered}"
        + (f"; not declared: {', '.join(undeclared)}" if undeclared else ""),
        f"- run {run.run_id}, {run.started} – {run.finished}",
        "",
        "## The command",
        "",
        "```sh",
        *_environment(invocation),
        invocation.command(),
        "```",
        "",
        "Secrets are given as the variables that held them; set them to your own "
        "keys of the target. `--sign-key` takes your own key pair (`qbtsuite keygen`): "
        "the vendor's private key stays with the vendor.",
    ]
    if invocation.config_file:
        lines += [
            "",
            f"Settings were also read from the config file `{invocation.config_file}`; "
            "results.json lists the target's effective settings (`target`).",
        ]
    if identity is not None:
        lines += [
            "",
            "The product file (`--product product.toml`) held:",
            "",
            "```toml",
            *(
                f"{name} = {_toml(getattr(identity, name))}"
                for name in ("vendor", "product", "version", "url", "contact")
            ),
            "```",
        ]
    lines += ["", "## Verify this folder", "", "```sh"]
    if signed_by:
        lines += [
            "qbtsuite verify RUN_FOLDER --public-key VENDOR.pub",
            "```",
            "",
            f"The certificate is signed by the key `{signed_by}`: ask the vendor for "
            "its public key (`qbtsuite keygen` wrote it next to the private one) and "
            "check that id. `qbtsuite verify` checks the signature, the sha256 of every "
            "file of the folder, and re-derives the verdict and the counts from "
            "results.json.",
        ]
    else:
        lines += [
            "qbtsuite verify RUN_FOLDER",
            "```",
            "",
            "The certificate is **unsigned**: `qbtsuite verify` checks the sha256 of "
            "every file and re-derives the verdict from results.json, but nothing "
            "says who made the folder.",
        ]
    return "\n".join(lines) + "\n"


def _toml(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def write_reproduce(
    run_dir: Path, results: RunResults, invocation: Invocation, signed_by: str | None
) -> Path:
    path = run_dir / REPRODUCE_FILE
    path.write_text(render_reproduce(results, invocation, signed_by), encoding="utf-8")
    return path
