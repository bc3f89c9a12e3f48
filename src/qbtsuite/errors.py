"""The exception tree of the suite.

QbtsuiteError                   anything the suite itself reports to the user
├── ConfigError                 bad options, environment or config file (exit 2)
├── TargetUnreachable           the target cannot be reached at all (exit 3)
├── ServerStartError            the embedded reference server did not come up (exit 4)
├── RequestBudgetExhausted      the run spent its request budget (the test is an error)
├── RunFileError(ValueError)    a run folder's results.json, plan.json or test records
│                               are not ours or are malformed (exit 2 where a command
│                               reads them)
├── TargetNotAnswering          K exchanges in a row got no answer in time: the run
│                               stops sending (the test is an error, the run exits 3)
├── Throttled                   a key the test did not mean to exhaust stayed throttled
│                               (429, 402, a 5xx with Retry-After): no evidence, an error
├── NoEvidence                  an answer that proves nothing about the requirement under
│                               test and is the run's doing (its own throttling)
└── MissingKey                  a test needs a key the run was not given (the test is
                                skipped: the harness turns it into a pytest skip)
CheckFailure(AssertionError)    the target broke a requirement (a verdict, not a bug)
├── NoCompleteAnswer            no complete answer within the exchange's deadline
├── AnswerTooLarge              a body or header block past the run's size cap
└── BrokenAnswer(ValueError)    an answer cut short, not HTTP, not UTF-8, not JSON
RecordedFailures(AssertionError)
                                qbtsuite.harness.recording: the ``record.check``
                                failures of one test, raised after its body

Outside the tree, on purpose:
- ``qbtsuite.harness.signals.Unsupported`` is a pytest skip: a test ends "unsupported"
  when the target declines an optional capability in the documented envelope.
- ``qbtsuite.server`` imports nothing of the suite, so its own errors (``ApiError``,
  ``KeysFileError``, ``UnknownFaultError``) live there.
- ``qbtsuite.loadtest.ratelimit.driver.BudgetExhausted`` stops the limiter scenario
  inside a Locust process; it never reaches the user.
"""

from __future__ import annotations

__all__ = [
    "AnswerTooLarge",
    "BrokenAnswer",
    "CheckFailure",
    "ConfigError",
    "MissingKey",
    "NoCompleteAnswer",
    "NoEvidence",
    "QbtsuiteError",
    "RequestBudgetExhausted",
    "RunFileError",
    "ServerStartError",
    "TargetNotAnswering",
    "TargetUnreachable",
    "Throttled",
]


class QbtsuiteError(Exception):
    """Base of the suite's own errors."""


class ConfigError(QbtsuiteError):
    """Options, environment or configuration file are unusable."""


class TargetUnreachable(QbtsuiteError):
    """No connection to the target could be made (DNS, refused, TLS, timeout)."""


class ServerStartError(QbtsuiteError):
    """The embedded reference server did not come up."""


class RunFileError(QbtsuiteError, ValueError):
    """A run file (``results.json``, ``plan.json``, test records) cannot be read."""


class RequestBudgetExhausted(QbtsuiteError):
    """The run already sent as many requests as its budget allows."""

    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"request budget exhausted: {limit} requests already sent in this run "
            "(raise it with --request-budget or QBTSUITE_REQUEST_BUDGET)"
        )


class TargetNotAnswering(QbtsuiteError):
    """The run stopped sending: ``limit`` exchanges in a row got no answer in time."""

    def __init__(self, *, limit: int, last: str = "") -> None:
        self.limit = limit
        self.last = last
        text = (
            f"target not answering ({limit} exchanges in a row got no answer "
            "within their deadline); the run sends nothing more"
        )
        super().__init__(f"{text}: last: {last}" if last else text)


class Throttled(QbtsuiteError):
    """A key the test did not mean to exhaust was throttled past what the run may wait.

    ``role`` is the key role that was throttled (None: no key, or a literal one).
    """

    def __init__(self, message: str, *, role: str | None) -> None:
        self.role = role
        super().__init__(message)


class NoEvidence(QbtsuiteError):
    """An answer that proves nothing about the requirement a check judges, and is the
    run's doing (its own throttling, its own credit): the test is an error."""


class MissingKey(QbtsuiteError):
    """A test needs an optional key (``second``, ``zero_balance``, ``low_limit``…)
    that the run was not given."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.variable = f"QBTSUITE_{role.upper()}_KEY"
        if role == "main":
            self.variable = "QUBITTRON_API_KEY"
        super().__init__(f"no {role} key configured (set {self.variable})")


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


class NoCompleteAnswer(CheckFailure):
    """The target did not complete its answer within the exchange's deadline (or
    sent nothing for a whole read timeout, or closed without answering)."""

    def __init__(
        self,
        *,
        received: str,
        expected: str,
        no_answer: bool,
        title: str = "No complete answer in time",
    ) -> None:
        self.no_answer = no_answer  # not even a status line arrived
        super().__init__(title=title, received=received, expected=expected)


class AnswerTooLarge(CheckFailure):
    """A body or a header block of the answer is larger than the run reads."""

    def __init__(self, *, what: str, received: str, expected: str) -> None:
        self.what = what
        super().__init__(
            title=f"Answer too large: {what}", received=received, expected=expected
        )


class BrokenAnswer(CheckFailure, ValueError):
    """An answer that cannot be read as what it claims: cut short, not HTTP/1.1,
    not UTF-8, not JSON (also a ``ValueError``, what a JSON decoder raises)."""
