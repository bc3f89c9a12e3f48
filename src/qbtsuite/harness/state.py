"""The run-wide state of the pytest plugin, built once per process.

The controller (or the only process, without pytest-xdist) resolves the target —
starting the embedded reference server if no base URL is given anywhere — and owns
the results folder. Workers get the same state from ``workerinput``, so each test
talks to the server whose keys it was given, and only the controller merges results.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from qbtsuite import __version__, redact
from qbtsuite.errors import ServerStartError
from qbtsuite.exitcodes import ExitCode
from qbtsuite.harness.handoff import HANDED_OVER
from qbtsuite.harness.options import config_file, pytest_reader, settings_values
from qbtsuite.reporting.throttle import throttle_lines
from qbtsuite.results.records import merge_records, read_records, write_results
from qbtsuite.results.throttle import throttle_totals
from qbtsuite.target.config import TargetConfig, load_settings
from qbtsuite.target.resolve import EmbeddedSpec, resolve

__all__ = ["RunState", "controller_state", "worker_state"]

_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class RunState:
    """What every hook of one process needs to know about the run."""

    catalogue: dict[str, dict[str, Any]]
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
    selection: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] | None = None
    results: dict[str, Any] | None = None
    notices: tuple[str, ...] = ()  # from the target's resolution (plain pytest)

    @property
    def records_dir(self) -> Path | None:
        return None if self.results_dir is None else self.results_dir / "records"

    def level(self, requirement: str) -> str:
        return str(self.catalogue.get(requirement, {}).get("level", "MUST"))

    def is_known(self, requirement: str) -> bool:
        return not self.catalogue or requirement in self.catalogue

    def to_wire(self) -> dict[str, Any]:
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
            self.results_dir.mkdir(parents=True, exist_ok=True)
            text = json.dumps(self.plan, indent=2)
            (self.results_dir / "plan.json").write_text(text + "\n", encoding="utf-8")

    def finish(self, config: pytest.Config) -> None:
        """Merge every process's records into ``results.json`` (controller only)."""
        if self.dry_run or self.records_dir is None or self.results_dir is None:
            return
        records = read_records(self.records_dir) if self.records_dir.is_dir() else []
        finished = time.time()
        target = self.target.redacted() if self.target else None
        meta = {
            "suite_version": __version__,
            "profile": self.profile,
            "started": time.strftime(_TIME, time.gmtime(self.started)),
            "finished": time.strftime(_TIME, time.gmtime(finished)),
            "duration": round(finished - self.started, 3),
            "target": target,
            "throttle": throttle_totals(records, target),
            "digests": {
                "catalogue": self.catalogue_digest,
                "schemas": _schema_digest(),
            },
            "selection": self.selection,
            "workers": sorted({str(r.get("worker")) for r in records}),
        }
        self.results = merge_records(records, self.catalogue, meta, strict=self.strict)
        write_results(self.results_dir / "results.json", self.results)

    def summary_lines(self) -> list[str]:
        if self.plan is not None:
            t = self.plan["totals"]
            return [
                f"qbtsuite dry run: {t['tests']} tests would send {t['requests']:.0f} "
                f"requests, {t['tokens']:.0f} tokens, {t['images']:.0f} images, "
                f"{t['audio_seconds']:.0f} s of audio"
            ]
        if self.results is None or self.results_dir is None:
            return []
        totals = ", ".join(f"{n} {k}" for k, n in self.results["totals"].items() if n)
        return [
            f"qbtsuite: {self.results['verdict']} ({totals or 'nothing checked'})",
            *(f"qbtsuite {line}" for line in throttle_lines(self.results)),
            f"qbtsuite results: {self.results_dir / 'results.json'}",
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


def _catalogue(path: str | None) -> tuple[dict[str, dict[str, Any]], str | None, str]:
    from qbtsuite.requirements import load_catalogue

    catalogue = load_catalogue(Path(path) if path else None)
    entries = {
        rid: {
            "level": r.level,
            "area": r.area,
            "endpoint": r.endpoint,
            "origin": r.origin,
            "statement": r.statement,
            "source": r.source,
            "optional": r.optional,
        }
        for rid, r in catalogue.requirements.items()
    }
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
    records = path / "records"
    if records.is_dir():
        shutil.rmtree(records)
    (path / "results.json").unlink(missing_ok=True)
    records.mkdir(parents=True, exist_ok=True)


def controller_state(config: pytest.Config) -> RunState:
    """Resolve the target and the catalogue; prepare the results folder."""
    dry_run = bool(config.getoption("qbt_dry_run"))
    if dry_run:
        config.option.collectonly = True
    offline = dry_run or bool(config.option.collectonly)
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
        profile=config.getoption("qbt_profile"),
        strict=bool(config.getoption("qbt_strict")),
        dry_run=dry_run,
        results_dir=results_dir,
        worker="local",
        started=time.time(),
        allure=bool(getattr(config.option, "allure_report_dir", None)),
        selection={
            "areas": config.getoption("qbt_area") or [],
            "requirements": config.getoption("qbt_requirement") or [],
            "keyword": config.option.keyword or None,
            "markers": config.option.markexpr or None,
        },
        notices=notices,
    )


def worker_state(config: pytest.Config) -> RunState:
    """The controller's state, as handed over in ``workerinput``."""
    workerinput: Mapping[str, Any] = config.workerinput  # type: ignore[attr-defined]
    wire = workerinput["qbtsuite"]
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
