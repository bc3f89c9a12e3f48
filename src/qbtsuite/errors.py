"""The exception tree of the suite's engine.

QbtsuiteError                  anything the suite itself reports to the user
├── ConfigError                bad options, environment or config file (exit 2)
└── TargetUnreachable          the target cannot be reached at all (exit 3)
CheckFailure(AssertionError)   the target broke a requirement (a verdict, not a bug)
"""

from __future__ import annotations

__all__ = ["CheckFailure", "ConfigError", "QbtsuiteError", "TargetUnreachable"]


class QbtsuiteError(Exception):
    """Base of the suite's own errors."""


class ConfigError(QbtsuiteError):
    """Options, environment or configuration file are unusable."""


class TargetUnreachable(QbtsuiteError):
    """No connection to the target could be made (DNS, refused, TLS, timeout)."""


class CheckFailure(AssertionError):
    """A check found the target deviating from a requirement.

    ``title`` names the property; ``received`` and ``expected`` say what was seen and
    what the spec asks for. ``requirement`` narrows the verdict to one requirement id
    when a test checks several.
    """

    def __init__(
        self,
        *,
        title: str,
        received: str,
        expected: str,
        requirement: str | None = None,
    ) -> None:
        self.title = title
        self.received = received
        self.expected = expected
        self.requirement = requirement
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.title}\nReceived: {self.received}\nExpected: {self.expected}"
