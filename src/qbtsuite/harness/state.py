"""The run-wide state of the pytest plugin, built once per process.

The controller (or the only process, without pytest-xdist) resolves the target —
starting the embedded reference server if no base URL is given anywhere — and owns
the results folder. Workers get the same state from ``workerinput``, so each test
talks to the server whose keys it was given, and only the controller merges results.
"""

from __future__ import annotations

import hashlib
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, cast

import pytest

from qbtsuite import __version__, redact
from qbtsuite.certify.product import identity_from
from qbtsuite.errors import ConfigError, ServerStartError
from qbtsuite.exitcodes import ExitCode
from qbtsuite.harness.handoff import HANDED_OVER
from qbtsuite.harness.options import (
    IDENTITY_OPTIONS,
    config_file,
    pytest_reader,
    settings_values,
)
from qbtsuite.harness.selection import partial_refusal
from qbtsuite.harness.wiretap import replaying
from qbtsuite.reporting.throttle import throttle_lines
from qbtsuite.results.model import (
    Digests,
    Identity,
    Interruption,
    ModelListing,
    RequirementEntry,
    RunFacts,
    RunResults,
    Selection,
    TargetSummary,
)
from qbtsuite.results.plan import Plan
from qbtsuite.results.records import CERTIFY, merge_records
from qbtsuite.results.store import (
    RECORDS_FOLDER,
    RESULTS_FILE,
    read_records,
    write_plan,
    write_results,
)
from qbtsuite.results.throttle import throttle_totals
from qbtsuite.target.config import TargetConfig, load_settings
from qbtsuite.target.discovery import fetch_listing
from qbtsuite.target.resolve import EmbeddedSpec, resolve

__all__ = ["RunState", "WorkerWire", "controller_state", "worker_state"]

_TIME = "%Y-%m-%dT%H:%M:%SZ"


class WorkerWire(TypedDict):
    """What the controller hands a pytest-xdist worker (``workerinput``): plain data."""

    catalogue_path: str | None
    target: Mapping[str, object] | None  # TargetConfig.to_wire(): keys included
    profile: str
    strict: bool
    dry_run: bool
    results_dir: str | None
    started: float
    allure: bool


@dataclass
class RunState:
    """What every hook of one process needs to know about the run."""

    catalogue: Mapping[str, RequirementEntry]
    catalogue_path: str | None
    catalogue_digest: str | None
    target: TargetConfig | None
    profile: str
    strict: bool
    dry_run: bool
    results_dir: Path | None
    worker: str
    started: float
    allure: bool
    selection: Selection = field(default_factory=Selection)
    run_id: str | None = None
    identity: Identity | None = None
    models_listing: ModelListing | None = None
    plan: Plan | None = None
    results: RunResults | None = None
    interrupted: Interruption | None = None  # set when SIGTERM/SIGINT cut it short
    notices: tuple[str, ...] = ()  # from the target's resolution (plain pytest)

    @property
    def records_dir(self) -> Path | None:
        if self.results_dir is None:
            return None
        return self.results_dir / RECORDS_FOLDER

    def level(self, requirement: str) -> str:
        entry = self.catalogue.get(requirement)
        return entry.level if entry else "MUST"

    def is_known(self, requirement: str) -> bool:
        return not self.catalogue or requirement in self.catalogue

    def to_wire(self) -> WorkerWire:
        """Plain data for a worker (including the keys: the channel is local)."""
        return {
            "catalogue_path": self.catalogue_path,
            "target": self.target.to_wire() if self.target else None,
            "profile": self.profile,
            "strict": self.strict,
            "dry_run": self.dry_run,
            "results_dir": str(self.results_dir) if self.results_dir else None,
            "started": self.started,
            "allure": self.allure,
        }

    def write_plan(self) -> None:
        if self.results_dir is not None and self.plan is not None:
            write_plan(self.results_dir, self.plan)

    def finish(self, config: pytest.Config) -> None:
        """Merge every process's records into ``results.json`` (controller only)."""
        if self.dry_run or self.records_dir is None or self.results_dir is None:
            return
        records = read_records(self.records_dir) if self.records_dir.is_dir() else []
        finished = time.time()
        summary = TargetSummary.of(self.target) if self.target else None
        facts = RunFacts(
            suite_version=__version__,
            profile=self.profile,
            started=time.strftime(_TIME, time.gmtime(self.started)),
            finished=time.strftime(_TIME, time.gmtime(finished)),
            duration=round(finished - self.started, 3),
            target=summary,
            digests=Digests(self.catalogue_digest, _schema_digest()),
            selection=self.selection,
            workers=tuple(sorted({r.worker for r in records})),
            run_id=self.run_id,
            identity=self.identity,
            models_listing=self.models_listing,
            throttle=throttle_totals(records, summary),
        )
        self.results = merge_records(
            records,
            self.catalogue,
            facts,
            strict=self.strict,
            interrupted=self.interrupted,
        )
        write_results(self.results_dir, self.results)

    def summary_lines(self) -> list[str]:
        if self.plan is not None:
            t = self.plan.totals
            return [
                f"qbtsuite dry run: {t.tests} tests would send {t.spend.requests:.0f} "
                f"requests, {t.spend.tokens:.0f} tokens, {t.spend.images:.0f} images, "
                f"{t.spend.audio_seconds:.0f} s of audio"
            ]
        if self.results is None or self.results_dir is None:
            return []
        totals = ", ".join(f"{n} {o}" for o, n in self.results.totals.items() if n)
        return [
            f"qbtsuite: {self.results.verdict} ({totals or 'nothing checked'})",
            *(f"qbtsuite {line}" for line in throttle_lines(self.results)),
            f"qbtsuite results: {self.results_dir / RESULTS_FILE}",
        ]

    def scrub_outputs(self, config: pytest.Config) -> None:
        """Redact keys from JUnit XML and Allure files once pytest has written them."""
        paths: list[Path] = []
        xml = getattr(config.option, "xmlpath", None)
        if xml:
            paths.append(Path(xml))
        allure_dir = getattr(config.option, "allure_report_dir", None)
        if allure_dir and Path(allure_dir).is_dir():
            paths += [p for p in Path(allure_dir).iterdir() if p.is_file()]
        for path in paths:
            _scrub_file(path)


def _scrub_file(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    clean = redact.scrub(text)
    if clean != text:
        path.write_text(clean, encoding="utf-8")


def _schema_digest() -> str | None:
    try:
        from qbtsuite.schemas import schema_digest

        return schema_digest()
    except Exception:  # the digest is informative; its absence is not fatal
        return None


def _catalogue(
    path: str | None,
) -> tuple[dict[str, RequirementEntry], str | None, str]:
    from qbtsuite.requirements import load_catalogue

    catalogue = load_catalogue(Path(path) if path else None)
    entries = {rid: RequirementEntry.of(r) for rid, r in catalogue.requirements.items()}
    return entries, catalogue.digest, str(catalogue.path)


def _resolve_target(
    config: pytest.Config, offline: bool
) -> tuple[TargetConfig | None, tuple[str, ...]]:
    """The target handed over by ``qbtsuite run`` (which shows its notices itself),
    or resolved from the options, with the resolution's notices."""
    if HANDED_OVER in config.stash:
        return config.stash[HANDED_OVER], ()
    read = pytest_reader(config)
    settings = load_settings(settings_values(read), config_file=config_file(read))
    if offline:
        target = None if settings.needs_embedded else settings.target(require_key=False)
        return target, ()
    spec = EmbeddedSpec(faults=tuple(config.getoption("qbt_fault") or ()))
    try:
        resolved = resolve(settings, spec, check_reachable=False)
    except ServerStartError as exc:
        pytest.exit(
            f"cannot start the embedded reference server: {exc}",
            returncode=ExitCode.INCOMPLETE,
        )
    config.add_cleanup(resolved.close)
    return resolved.target, resolved.notices


def _fresh_results_dir(path: Path) -> None:
    records = path / RECORDS_FOLDER
    if records.is_dir():
        shutil.rmtree(records)
    (path / RESULTS_FILE).unlink(missing_ok=True)
    records.mkdir(parents=True, exist_ok=True)


def _identity(config: pytest.Config) -> Identity:
    """The certified product, from ``--qbt-product`` and the identity flags."""
    read = pytest_reader(config)
    product = read("product")
    flags = {name: read(option) for name, option in IDENTITY_OPTIONS.items()}
    return identity_from(Path(product) if product else None, flags)


def _models_listing(target: TargetConfig | None) -> ModelListing | None:
    """``GET /models`` as this run sees it: its digest goes into the certificate."""
    if target is None:
        return None
    seen = fetch_listing(target)
    digest = hashlib.sha256(seen.body).hexdigest() if seen.status is not None else None
    return ModelListing(seen.status, digest, seen.ids)


def controller_state(config: pytest.Config) -> RunState:
    """Resolve the target and the catalogue; prepare the results folder.

    The certify profile needs the product's identity and the whole suite: a
    selection that leaves tests out is refused unless ``--allow-partial``
    (ConfigError, before the target is resolved).
    """
    dry_run = bool(config.getoption("qbt_dry_run"))
    if dry_run:
        config.option.collectonly = True
    offline = dry_run or bool(config.option.collectonly)
    profile = config.getoption("qbt_profile")
    selection = Selection(
        areas=tuple(config.getoption("qbt_area") or ()),
        requirements=tuple(config.getoption("qbt_requirement") or ()),
        keyword=config.option.keyword or None,
        markers=config.option.markexpr or None,
        skip_areas=tuple(config.getoption("qbt_skip_area") or ()),
        skip_requirements=tuple(config.getoption("qbt_skip_requirement") or ()),
        pytest_args=tuple(config.getoption("qbt_pytest_arg") or ()),
        faults=tuple(config.getoption("qbt_fault") or ()),
    )
    identity = None
    if profile == CERTIFY:
        departures = selection.departures()
        if departures and not config.getoption("qbt_allow_partial"):
            raise ConfigError(partial_refusal(departures))
        identity = _identity(config)
    entries, digest, path = _catalogue(config.getoption("qbt_catalogue"))
    results = config.getoption("qbt_results_dir")
    results_dir = Path(results).resolve() if results else None
    if results_dir is not None and not offline:
        _fresh_results_dir(results_dir)
    target, notices = _resolve_target(config, offline)
    return RunState(
        catalogue=entries,
        catalogue_path=path,
        catalogue_digest=digest,
        target=target,
        profile=profile,
        strict=bool(config.getoption("qbt_strict")),
        dry_run=dry_run,
        results_dir=results_dir,
        worker="local",
        started=time.time(),
        allure=bool(getattr(config.option, "allure_report_dir", None)),
        selection=selection,
        run_id=uuid.uuid4().hex,
        identity=identity,
        # a replay sends nothing outside the tests: no listing of its own
        models_listing=None
        if offline or replaying(config)
        else _models_listing(target),
        notices=notices,
    )


def worker_state(config: pytest.Config) -> RunState:
    """The controller's state, as handed over in ``workerinput``."""
    workerinput: Mapping[str, object] = config.workerinput  # type: ignore[attr-defined]
    wire = cast(WorkerWire, workerinput["qbtsuite"])
    entries, digest, path = _catalogue(wire["catalogue_path"])
    target = wire["target"]
    return RunState(
        catalogue=entries,
        catalogue_path=path,
        catalogue_digest=digest,
        target=TargetConfig.from_wire(target) if target else None,
        profile=wire["profile"],
        strict=wire["strict"],
        dry_run=wire["dry_run"],
        results_dir=Path(wire["results_dir"]) if wire["results_dir"] else None,
        worker=str(workerinput.get("workerid", "worker")),
        started=wire["started"],
        allure=wire["allure"],
    )
