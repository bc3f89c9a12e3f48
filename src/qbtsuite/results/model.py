"""The run's records as typed values, from where the run makes them to the file edge.

- :class:`RequirementEntry`: a catalogue requirement as the harness sees it;
- :class:`TestRecord`: what one test found (its per-requirement checks, retries,
  notes, transcripts), one JSON line of ``records/<worker>.jsonl``;
- :class:`RunResults`: the merged ``results.json`` (per-requirement results, test
  references, totals, flakes, selection, digests, a redacted target summary, the
  product's identity and the target's model listing as the run saw it).

The types that are written to a file have one ``to_json`` and one ``from_json``, used
by :mod:`qbtsuite.results.store` only. The layout is ``qbtsuite-results/1``,
documented by ``schemas/results.schema.json``; ``from_json`` fills the fields an
older file lacks with the defaults the readers always assumed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from qbtsuite import redact
from qbtsuite.errors import RunFileError
from qbtsuite.results._json import JSONObject, JSONValue, Reader
from qbtsuite.results.outcomes import Outcome, Verdict

if TYPE_CHECKING:
    from qbtsuite.requirements import Requirement
    from qbtsuite.target.config import TargetConfig

__all__ = [
    "FORMAT",
    "IDENTITY_FIELDS",
    "Digests",
    "Flake",
    "Identity",
    "Interruption",
    "ModelListing",
    "RequirementCheck",
    "RequirementEntry",
    "RequirementResult",
    "Retry",
    "RunFacts",
    "RunResults",
    "Selection",
    "TargetSummary",
    "TestRecord",
    "TestRef",
    "ThrottleAnswer",
    "ThrottleTotals",
]

FORMAT = "qbtsuite-results/1"


def _outcome_counts(counts: Mapping[Outcome, int]) -> JSONObject:
    return {o.value: counts.get(o, 0) for o in Outcome}


def _texts(values: Iterable[str]) -> list[JSONValue]:
    return list(values)


# ─── the catalogue, as the harness sees it ───────────────────────────────────


@dataclass(frozen=True, slots=True)
class RequirementEntry:
    """One catalogue requirement: what tests, merges and reports need of it."""

    id: str
    level: str  # MUST | SHOULD
    area: str
    endpoint: str
    origin: str
    statement: str
    source: str
    optional: bool = False
    capabilities: tuple[str, ...] = ()  # what an optional requirement needs

    @classmethod
    def of(cls, requirement: Requirement) -> RequirementEntry:
        return cls(
            id=requirement.id,
            level=requirement.level,
            area=requirement.area,
            endpoint=requirement.endpoint,
            origin=requirement.origin,
            statement=requirement.statement,
            source=requirement.source,
            optional=requirement.optional,
            capabilities=requirement.capabilities,
        )

    @classmethod
    def unknown(cls, rid: str, area: str = "") -> RequirementEntry:
        """An id the run has no catalogue entry for (a run without a catalogue)."""
        return cls(rid, "MUST", area, "", "", "", "")


# ─── one test ────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Retry:
    """One retried request (a flake): reported, never hidden."""

    method: str
    url: str  # redacted
    attempt: int
    reason: str  # redacted
    wait: float  # seconds waited before the retry

    def to_json(self) -> JSONObject:
        return {
            "attempt": self.attempt,
            "method": self.method,
            "reason": self.reason,
            "url": self.url,
            "wait": self.wait,
        }

    @classmethod
    def from_json(cls, data: Reader) -> Retry:
        return cls(
            method=data.text("method"),
            url=data.text("url"),
            attempt=data.integer("attempt"),
            reason=data.text("reason"),
            wait=data.number("wait", 0.0),
        )


@dataclass(frozen=True, slots=True)
class ThrottleAnswer:
    """One throttle answer (429, 402, a 5xx with Retry-After) on a key the test did
    not mean to exhaust: waited out and sent again (``resolved``), or no evidence."""

    role: str | None  # the key role; None: no key, or a literal one
    method: str
    path: str
    status: int
    code: str | None  # the error envelope's code, if any
    retry_after: float | None  # seconds, as the answer said
    waited: float  # seconds waited before sending again
    resolved: bool
    reason: str

    def to_json(self) -> JSONObject:
        return {
            "code": self.code,
            "method": self.method,
            "path": self.path,
            "reason": self.reason,
            "resolved": self.resolved,
            "retry_after": self.retry_after,
            "role": self.role,
            "status": self.status,
            "waited": self.waited,
        }

    @classmethod
    def from_json(cls, data: Reader) -> ThrottleAnswer:
        return cls(
            role=data.optional_text("role"),
            method=data.text("method", ""),
            path=data.text("path", ""),
            status=data.integer("status"),
            code=data.optional_text("code"),
            retry_after=data.optional_number("retry_after"),
            waited=data.number("waited", 0.0),
            resolved=data.flag("resolved"),
            reason=data.text("reason", ""),
        )


@dataclass(frozen=True, slots=True)
class RequirementCheck:
    """One requirement as one test found it."""

    outcome: Outcome
    messages: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        return {"messages": _texts(self.messages), "outcome": self.outcome.value}

    @classmethod
    def from_json(cls, data: Reader) -> RequirementCheck:
        return cls(data.member("outcome", Outcome), data.texts("messages", ()))


@dataclass(frozen=True, slots=True)
class TestRecord:
    """What one test found: one line of ``records/<worker>.jsonl``."""

    __test__ = False  # not a pytest test class

    nodeid: str
    area: str
    endpoint: str
    worker: str
    outcome: Outcome  # the test's own: the worst of its requirements
    reason: str  # the first line of why it did not pass, redacted
    requirements: Mapping[str, RequirementCheck]
    started: str  # UTC, ISO 8601
    duration: float  # seconds
    notes: tuple[str, ...] = ()
    transcripts: tuple[str, ...] = ()  # redacted request/response transcripts
    omitted_transcripts: int = 0  # exchanges beyond the ones kept
    retries: tuple[Retry, ...] = ()
    throttle: tuple[ThrottleAnswer, ...] = ()
    paced: float = 0.0  # seconds its main-key requests were spaced (main_key_rpm)

    def to_json(self) -> JSONObject:
        # Keys in sorted order: the layout records and results.json always had.
        return {
            "area": self.area,
            "duration": self.duration,
            "endpoint": self.endpoint,
            "nodeid": self.nodeid,
            "notes": _texts(self.notes),
            "omitted_transcripts": self.omitted_transcripts,
            "outcome": self.outcome.value,
            "paced": self.paced,
            "reason": self.reason,
            "requirements": {
                rid: check.to_json() for rid, check in self.requirements.items()
            },
            "retries": [r.to_json() for r in self.retries],
            "started": self.started,
            "throttle": [a.to_json() for a in self.throttle],
            "transcripts": _texts(self.transcripts),
            "worker": self.worker,
        }

    @classmethod
    def from_json(cls, data: Reader) -> TestRecord:
        return cls(
            nodeid=data.text("nodeid"),
            area=data.text("area", ""),
            endpoint=data.text("endpoint", ""),
            worker=data.text("worker", ""),
            outcome=data.member("outcome", Outcome),
            reason=data.text("reason", ""),
            requirements={
                rid: RequirementCheck.from_json(check)
                for rid, check in data.child("requirements", {}).entries()
            },
            started=data.text("started", ""),
            duration=data.number("duration", 0.0),
            notes=data.texts("notes", ()),
            transcripts=data.texts("transcripts", ()),
            omitted_transcripts=data.integer("omitted_transcripts", 0),
            retries=tuple(Retry.from_json(r) for r in data.children("retries", [])),
            throttle=tuple(
                ThrottleAnswer.from_json(a) for a in data.children("throttle", [])
            ),
            paced=data.number("paced", 0.0),
        )


# ─── the merged results ──────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class TestRef:
    """A test that checked a requirement, and what it found."""

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: Outcome

    def to_json(self) -> JSONObject:
        return {"nodeid": self.nodeid, "outcome": self.outcome.value}

    @classmethod
    def from_json(cls, data: Reader) -> TestRef:
        return cls(data.text("nodeid"), data.member("outcome", Outcome))


@dataclass(frozen=True, slots=True)
class RequirementResult:
    """One requirement of the run: its combined outcome and the tests behind it."""

    id: str
    outcome: Outcome
    level: str
    area: str
    endpoint: str
    origin: str
    statement: str
    source: str
    tests: tuple[TestRef, ...] = ()
    messages: tuple[str, ...] = ()
    duration: float = 0.0  # seconds, summed over its tests

    def to_json(self) -> JSONObject:
        return {
            "id": self.id,
            "outcome": self.outcome.value,
            "level": self.level,
            "area": self.area,
            "endpoint": self.endpoint,
            "origin": self.origin,
            "statement": self.statement,
            "source": self.source,
            "tests": [t.to_json() for t in self.tests],
            "messages": _texts(self.messages),
            "duration": self.duration,
        }

    @classmethod
    def from_json(cls, data: Reader) -> RequirementResult:
        return cls(
            id=data.text("id"),
            outcome=data.member("outcome", Outcome),
            level=data.text("level", "MUST"),
            area=data.text("area", ""),
            endpoint=data.text("endpoint", ""),
            origin=data.text("origin", ""),
            statement=data.text("statement", ""),
            source=data.text("source", ""),
            tests=tuple(TestRef.from_json(t) for t in data.children("tests", [])),
            messages=data.texts("messages", ()),
            duration=data.number("duration", 0.0),
        )


@dataclass(frozen=True, slots=True)
class Flake:
    """A retry, with the test that made it."""

    nodeid: str
    retry: Retry

    def to_json(self) -> JSONObject:
        return {"nodeid": self.nodeid, **self.retry.to_json()}

    @classmethod
    def from_json(cls, data: Reader) -> Flake:
        return cls(data.text("nodeid"), Retry.from_json(data))


@dataclass(frozen=True, slots=True)
class Selection:
    """How the run chose its tests, and what it changed, besides the profile.

    Every field's default is "nothing left out": a field with another value is a
    departure from the whole suite (:meth:`departures`), which the certify profile
    refuses unless partial results are allowed. A field added later is covered by
    that rule without further code.
    """

    areas: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    skip_areas: tuple[str, ...] = ()  # --skip-area
    skip_requirements: tuple[str, ...] = ()  # --skip-requirement
    keyword: str | None = None  # pytest -k
    markers: str | None = None  # pytest -m
    faults: tuple[str, ...] = ()  # faults switched on in the embedded server
    pytest_args: tuple[str, ...] = ()  # pytest's own options (after "--")

    def departures(self) -> tuple[str, ...]:
        """Each way this selection leaves tests out, as the option that asked it
        (``--area auth``); empty for the whole suite."""
        found: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default or value in ((), None, "", 0):
                continue
            flag = _SELECTION_FLAGS.get(f.name, f.name)
            if isinstance(value, str):  # a pytest expression, quoted as typed
                found.append(f"{flag} {value!r}")
            else:
                found.append(f"{flag} {' '.join(str(v) for v in value)}")
        return tuple(found)

    @property
    def narrowed(self) -> bool:
        """Whether anything besides the profile chose the tests."""
        return bool(self.departures())

    def describe(self) -> str:
        """One line, e.g. ``--area auth --skip-requirement AUTH-003 -k stream``."""
        return " ".join(self.departures()) or "everything in the profile"

    def to_json(self) -> JSONObject:
        return {
            "areas": _texts(self.areas),
            "requirements": _texts(self.requirements),
            "keyword": self.keyword,
            "markers": self.markers,
            "skip_areas": _texts(self.skip_areas),
            "skip_requirements": _texts(self.skip_requirements),
            "pytest_args": _texts(self.pytest_args),
            "faults": _texts(self.faults),
        }

    @classmethod
    def from_json(cls, data: Reader) -> Selection:
        return cls(
            areas=data.texts("areas", ()),
            requirements=data.texts("requirements", ()),
            keyword=data.optional_text("keyword"),
            markers=data.optional_text("markers"),
            skip_areas=data.texts("skip_areas", ()),
            skip_requirements=data.texts("skip_requirements", ()),
            pytest_args=data.texts("pytest_args", ()),
            faults=data.texts("faults", ()),
        )


# The options that fill each Selection field, for messages.
_SELECTION_FLAGS = {
    "areas": "--area",
    "requirements": "--requirement",
    "keyword": "-k",
    "markers": "-m",
    "faults": "--fault",
    "skip_areas": "--skip-area",
    "skip_requirements": "--skip-requirement",
    "pytest_args": "--",
}


IDENTITY_FIELDS = ("vendor", "product", "version", "url", "contact")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who certifies which product (the product file, ``product.toml``)."""

    vendor: str
    product: str
    version: str
    url: str
    contact: str

    def to_json(self) -> JSONObject:
        return {name: getattr(self, name) for name in IDENTITY_FIELDS}

    @classmethod
    def from_json(cls, data: Reader) -> Identity:
        return cls(**{name: data.text(name) for name in IDENTITY_FIELDS})

    def label(self) -> str:
        """``Acme AI Gateway 4.2.1 (Acme Networks)``."""
        return f"{self.product} {self.version} ({self.vendor})"


@dataclass(frozen=True, slots=True)
class ModelListing:
    """``GET /models`` with the main key as the run saw it: status, the sha256 of
    the body's bytes, and the model ids it listed."""

    status: int | None  # None: no answer
    sha256: str | None  # of the body; None without an answer
    ids: tuple[str, ...] = ()

    def to_json(self) -> JSONObject:
        return {"status": self.status, "sha256": self.sha256, "ids": _texts(self.ids)}

    @classmethod
    def from_json(cls, data: Reader) -> ModelListing:
        return cls(
            status=data.optional_integer("status"),
            sha256=data.optional_text("sha256"),
            ids=data.texts("ids", ()),
        )


@dataclass(frozen=True, slots=True)
class Digests:
    """sha256 fingerprints of what the verdicts rest on."""

    catalogue: str | None = None
    schemas: str | None = None

    def to_json(self) -> JSONObject:
        return {"catalogue": self.catalogue, "schemas": self.schemas}

    @classmethod
    def from_json(cls, data: Reader) -> Digests:
        return cls(data.optional_text("catalogue"), data.optional_text("schemas"))


@dataclass(frozen=True, slots=True)
class TargetSummary:
    """The target of a run as the results describe it: settings and key *roles*.

    It holds no key, so no writer can leak one; the JSON names each role with the
    redaction marker, as the file always did.
    """

    base_url: str
    http_url: str = ""
    key_roles: tuple[str, ...] = ()
    models: Mapping[str, str | None] = field(default_factory=dict)
    upload_cap: int = 25 * 1024 * 1024
    rate_limit_rpm: int | None = None
    rate_limit_window: float = 60.0
    ca_bundle: str | None = None
    insecure: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    request_budget: int = 1000
    retries: int = 0
    capabilities: tuple[str, ...] | None = None  # None: not declared
    embedded: bool = False
    embeddings_dimensions: int | None = None
    fetch_urls: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)  # secret values redacted
    faults: tuple[str, ...] = ()  # faults injected into the embedded server
    deadline: float = 30.0
    stream_deadline: float = 120.0
    max_body: int = 67108864
    max_headers: int = 65536
    no_answer_limit: int = 3
    main_key_rpm: int | None = None
    max_throttle_wait: float = 120.0

    @classmethod
    def of(cls, config: TargetConfig) -> TargetSummary:
        from qbtsuite.target.headers import redacted_headers

        return cls(
            base_url=config.base_url,
            http_url=config.http_url,
            key_roles=tuple(sorted(config.keys)),
            models=dict(config.models),
            upload_cap=config.upload_cap,
            rate_limit_rpm=config.rate_limit_rpm,
            rate_limit_window=config.rate_limit_window,
            ca_bundle=config.ca_bundle,
            insecure=config.insecure,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            request_budget=config.request_budget,
            retries=config.retries,
            capabilities=config.capabilities,
            embedded=config.embedded,
            embeddings_dimensions=config.embeddings_dimensions,
            fetch_urls=config.fetch_urls,
            headers=redacted_headers(config.headers),
            faults=config.faults,
            deadline=config.deadline,
            stream_deadline=config.stream_deadline,
            max_body=config.max_body,
            max_headers=config.max_headers,
            no_answer_limit=config.no_answer_limit,
            main_key_rpm=config.main_key_rpm,
            max_throttle_wait=config.max_throttle_wait,
        )

    def to_json(self) -> JSONObject:
        capabilities = self.capabilities
        return {
            "base_url": self.base_url,
            "http_url": self.http_url,
            "keys": {role: redact.REDACTED for role in self.key_roles},
            "models": {endpoint: model for endpoint, model in self.models.items()},
            "upload_cap": self.upload_cap,
            "rate_limit_rpm": self.rate_limit_rpm,
            "rate_limit_window": self.rate_limit_window,
            "ca_bundle": self.ca_bundle,
            "insecure": self.insecure,
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "request_budget": self.request_budget,
            "retries": self.retries,
            "capabilities": None if capabilities is None else _texts(capabilities),
            "embedded": self.embedded,
            "embeddings_dimensions": self.embeddings_dimensions,
            "fetch_urls": self.fetch_urls,
            "headers": {name: value for name, value in self.headers.items()},
            "faults": _texts(self.faults),
            "deadline": self.deadline,
            "stream_deadline": self.stream_deadline,
            "max_body": self.max_body,
            "max_headers": self.max_headers,
            "no_answer_limit": self.no_answer_limit,
            "main_key_rpm": self.main_key_rpm,
            "max_throttle_wait": self.max_throttle_wait,
        }

    @classmethod
    def from_json(cls, data: Reader) -> TargetSummary:
        default = cls("")
        return cls(
            base_url=data.text("base_url"),
            http_url=data.text("http_url", ""),
            key_roles=tuple(data.child("keys", {}).keys()),
            models=data.child("models", {}).text_values(),
            upload_cap=data.integer("upload_cap", default.upload_cap),
            rate_limit_rpm=data.optional_integer("rate_limit_rpm"),
            rate_limit_window=data.number(
                "rate_limit_window", default.rate_limit_window
            ),
            ca_bundle=data.optional_text("ca_bundle"),
            insecure=data.flag("insecure", False),
            connect_timeout=data.number("connect_timeout", default.connect_timeout),
            read_timeout=data.number("read_timeout", default.read_timeout),
            request_budget=data.integer("request_budget", default.request_budget),
            retries=data.integer("retries", 0),
            capabilities=data.optional_texts("capabilities"),
            embedded=data.flag("embedded", False),
            embeddings_dimensions=data.optional_integer("embeddings_dimensions"),
            fetch_urls=data.flag("fetch_urls", True),
            headers={
                name: value or ""
                for name, value in data.child("headers", {}).text_values().items()
            },
            faults=data.texts("faults", ()),
            deadline=data.number("deadline", 30.0),
            stream_deadline=data.number("stream_deadline", 120.0),
            max_body=data.integer("max_body", 67108864),
            max_headers=data.integer("max_headers", 65536),
            no_answer_limit=data.integer("no_answer_limit", 3),
            main_key_rpm=data.optional_integer("main_key_rpm"),
            max_throttle_wait=data.number("max_throttle_wait", 120.0),
        )


@dataclass(frozen=True, slots=True)
class ThrottleTotals:
    """The run's throttling, every process together: what was waited, what was not,
    and the settings that bounded it."""

    waited: float = 0.0  # seconds spent waiting out Retry-After
    answers: int = 0  # throttle answers waited out (each request sent again)
    unresolved: int = 0  # throttle answers that could not be waited out
    tests_without_evidence: tuple[str, ...] = ()  # node ids they made errors
    roles: tuple[str, ...] = ()  # key roles with an unresolved throttle ("": no key)
    statuses: tuple[int, ...] = ()  # their statuses (429, 402, 503 …)
    paced: float = 0.0  # seconds spent spacing the main key's requests
    max_throttle_wait: float | None = None
    main_key_rpm: int | None = None

    def to_json(self) -> JSONObject:
        return {
            "waited": self.waited,
            "answers": self.answers,
            "unresolved": self.unresolved,
            "tests_without_evidence": _texts(self.tests_without_evidence),
            "roles": _texts(self.roles),
            "statuses": list(self.statuses),
            "paced": self.paced,
            "max_throttle_wait": self.max_throttle_wait,
            "main_key_rpm": self.main_key_rpm,
        }

    @classmethod
    def from_json(cls, data: Reader) -> ThrottleTotals:
        return cls(
            waited=data.number("waited", 0.0),
            answers=data.integer("answers", 0),
            unresolved=data.integer("unresolved", 0),
            tests_without_evidence=data.texts("tests_without_evidence", ()),
            roles=data.texts("roles", ()),
            statuses=data.integers("statuses", ()),
            paced=data.number("paced", 0.0),
            max_throttle_wait=data.optional_number("max_throttle_wait"),
            main_key_rpm=data.optional_integer("main_key_rpm"),
        )


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the run was: version, profile, times, target, digests, selection."""

    suite_version: str
    profile: str
    started: str  # UTC, ISO 8601
    finished: str
    duration: float  # seconds
    target: TargetSummary | None
    digests: Digests = Digests()
    selection: Selection = Selection()
    workers: tuple[str, ...] = ()
    run_id: str | None = None  # random, one per run: binds a certificate to it
    identity: Identity | None = None  # the certified product (certify profile)
    models_listing: ModelListing | None = None
    throttle: ThrottleTotals = ThrottleTotals()

    def to_json(self) -> JSONObject:
        identity, listing = self.identity, self.models_listing
        return {
            "suite_version": self.suite_version,
            "profile": self.profile,
            "started": self.started,
            "finished": self.finished,
            "duration": self.duration,
            "target": None if self.target is None else self.target.to_json(),
            "digests": self.digests.to_json(),
            "selection": self.selection.to_json(),
            "workers": _texts(self.workers),
            "run_id": self.run_id,
            "identity": None if identity is None else identity.to_json(),
            "models_listing": None if listing is None else listing.to_json(),
            "throttle": self.throttle.to_json(),
        }

    @classmethod
    def from_json(cls, data: Reader) -> RunFacts:
        target = data.optional_child("target")
        identity = data.optional_child("identity")
        listing = data.optional_child("models_listing")
        return cls(
            suite_version=data.text("suite_version", ""),
            profile=data.text("profile", ""),
            started=data.text("started", ""),
            finished=data.text("finished", ""),
            duration=data.number("duration", 0.0),
            target=None if target is None else TargetSummary.from_json(target),
            digests=Digests.from_json(data.child("digests", {})),
            selection=Selection.from_json(data.child("selection", {})),
            workers=data.texts("workers", ()),
            run_id=data.optional_text("run_id"),
            identity=None if identity is None else Identity.from_json(identity),
            models_listing=None if listing is None else ModelListing.from_json(listing),
            throttle=ThrottleTotals.from_json(data.child("throttle", {})),
        )


@dataclass(frozen=True, slots=True)
class Interruption:
    """The run was stopped before its tests were done (SIGTERM, SIGINT)."""

    signal: str | None = None  # "SIGTERM", "SIGINT"; None when not known

    def to_json(self) -> JSONObject:
        return {"signal": self.signal}

    @classmethod
    def from_json(cls, data: Reader) -> Interruption:
        return cls(signal=data.optional_text("signal"))


@dataclass(frozen=True, slots=True)
class RunResults:
    """``results.json``: the one source every report is rendered from."""

    run: RunFacts
    strict: bool
    totals: Mapping[Outcome, int]  # requirements per outcome
    test_totals: Mapping[Outcome, int]  # tests per outcome
    verdict: Verdict
    requirements: Mapping[str, RequirementResult]  # by id, sorted
    not_checked: tuple[str, ...]  # catalogue ids no selected test checked
    tests: Mapping[str, TestRecord]  # by node id, sorted
    flakes: tuple[Flake, ...] = ()
    interrupted: Interruption | None = None  # written only for an interrupted run

    def to_json(self) -> JSONObject:
        stopped: JSONObject = (
            {}
            if self.interrupted is None
            else {"interrupted": self.interrupted.to_json()}
        )
        return {
            "format": FORMAT,
            **self.run.to_json(),
            "strict": self.strict,
            "totals": _outcome_counts(self.totals),
            "test_totals": _outcome_counts(self.test_totals),
            "verdict": self.verdict.value,
            **stopped,
            "requirements": {rid: r.to_json() for rid, r in self.requirements.items()},
            "not_checked": _texts(self.not_checked),
            "tests": {nodeid: t.to_json() for nodeid, t in self.tests.items()},
            "flakes": [f.to_json() for f in self.flakes],
        }

    @classmethod
    def from_json(cls, data: Reader) -> RunResults:
        found = data.text("format", "") if data.has("format") else None
        if found != FORMAT:
            raise RunFileError(
                f"{data.where} is not a qbtsuite results file ({FORMAT}; "
                f"its format is {found!r})"
            )
        stopped = data.optional_child("interrupted")
        return cls(
            run=RunFacts.from_json(data),
            strict=data.flag("strict", False),
            totals=data.child("totals").counts(Outcome),
            test_totals=data.child("test_totals", {}).counts(Outcome),
            verdict=data.member("verdict", Verdict),
            requirements={
                rid: RequirementResult.from_json(r)
                for rid, r in data.child("requirements").entries()
            },
            not_checked=data.texts("not_checked", ()),
            tests={
                nodeid: TestRecord.from_json(t)
                for nodeid, t in data.child("tests", {}).entries()
            },
            flakes=tuple(Flake.from_json(f) for f in data.children("flakes", [])),
            interrupted=None if stopped is None else Interruption.from_json(stopped),
        )
