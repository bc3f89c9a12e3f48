"""The exit codes of every ``qbtsuite`` command, in one table.

The README's "Exit codes" table is this enum, row for row (a test compares them).
Each command returns one of these; a code a command cannot produce is simply never
returned by it.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    """What a ``qbtsuite`` process tells its caller."""

    OK = 0  # conformant; every SLO met; every fault caught; a valid bundle
    FAILED = 1  # a MUST failed (a SHOULD with --strict); a fault missed; invalid bundle
    USAGE = 2  # usage or configuration error, one clear line on stderr
    UNREACHABLE = 3  # the target cannot be reached, or stopped answering
    INCOMPLETE = 4  # internal error, or a run that could not give a verdict
    SLO_BREACHED = 5  # load: an SLO was breached
    LIMITER_FAILED = 6  # load: a rate-limit check failed (ratelimit profile)
    PARTIAL = 7  # certify --allow-partial: what was checked held, tests were left out
    INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2
    TERMINATED = 143  # SIGTERM (a CI cancel, `timeout`): 128 + 15
