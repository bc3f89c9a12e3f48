"""The conformance suite's pytest plugin (``conformance/conftest.py`` loads it).

It owns the run: options (``--qbt-*``), the target (the embedded reference server when
no base URL is given, started once on the controller and handed to pytest-xdist
workers), selection by profile/area/requirement, the fixtures conformance tests use
(``target_config``, ``api``, ``record``), per-requirement outcomes of every test, one
JSON-lines file of records per process and their merge into ``results.json``.

Conformance tests are the tests marked ``requirement(...)``; other tests collected in
the same session are left alone (no records, no selection unless one is asked).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from qbtsuite import redact
from qbtsuite.errors import CheckFailure, ConfigError, MissingKey, TargetUnreachable
from qbtsuite.exitcodes import ExitCode
from qbtsuite.harness import xdist_groups
from qbtsuite.harness.classify import Phase, classify
from qbtsuite.harness.options import add_pytest_options
from qbtsuite.harness.recording import RecordedFailures, RequirementRecorder
from qbtsuite.harness.selection import (
    MARKERS,
    TestInfo,
    capability_skip_reason,
    claimed_capability,
    info_for,
    requirement_ids,
    spend_plan,
    undeclared_capabilities,
)
from qbtsuite.harness.selection import select as select_items
from qbtsuite.harness.signals import skip_for_missing_key
from qbtsuite.harness.state import RunState, controller_state, worker_state
from qbtsuite.results.records import append_record
from qbtsuite.target.budget import RequestBudget, SharedBudget
from qbtsuite.target.client import SuiteClient
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.throttle import SharedWaitAllowance, ThrottlePolicy, throttle_for

__all__ = ["api", "record", "target_config"]

_STATE = pytest.StashKey[RunState]()
_INFO = pytest.StashKey[TestInfo]()
_ITEM = pytest.StashKey["_ItemState"]()


class _ItemState:
    """What the plugin tracks while one test runs."""

    def __init__(self, recorder: RequirementRecorder) -> None:
        self.recorder = recorder
        self.phases: dict[str, Phase] = {}
        self.started = time.time()
        self.t0 = time.monotonic()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if not config.pluginmanager.is_registered(xdist_groups):
        config.pluginmanager.register(xdist_groups, "qbtsuite-xdist-groups")
    try:
        if hasattr(config, "workerinput"):
            state = worker_state(config)
        else:
            state = controller_state(config)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    except TargetUnreachable as exc:
        pytest.exit(str(exc), returncode=ExitCode.UNREACHABLE)
    config.stash[_STATE] = state


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand the resolved target and run facts to a pytest-xdist worker."""
    node.workerinput["qbtsuite"] = node.config.stash[_STATE].to_wire()


def _state(config: pytest.Config) -> RunState:
    return config.stash[_STATE]


# ─── collection ──────────────────────────────────────────────────────────────


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, Any, Any]:
    """A test naming an unknown requirement id is a collection error of its module."""
    report = yield
    state = collector.config.stash.get(_STATE, None)
    if state is None or not state.catalogue or report.outcome != "passed":
        return report
    problems = []
    for node in report.result or []:
        if isinstance(node, pytest.Item):
            unknown = [r for r in requirement_ids(node) if r not in state.catalogue]
            problems += [
                f"{node.nodeid}: unknown requirement id {r!r}" for r in unknown
            ]
    if problems:
        where = state.catalogue_path or "the requirements catalogue"
        report.outcome = "failed"
        report.longrepr = (
            "\n".join(problems) + f"\n(every id must be listed in {where})"
        )
        report.result = []
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = _state(config)
    infos = {
        item: info_for(item, state.catalogue)
        for item in items
        if item.get_closest_marker("requirement") is not None
    }
    selected, deselected = select_items(
        items,
        infos,
        profile=state.profile,
        areas=config.getoption("qbt_area"),
        requirements=config.getoption("qbt_requirement"),
        known_areas={str(r.get("area")) for r in state.catalogue.values()},
        known_ids=state.catalogue,
    )
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    for item in items:
        if item in infos:
            _prepare(item, infos[item], state)
    if state.dry_run and not hasattr(config, "workerinput"):
        state.plan = spend_plan(items, infos)
        state.write_plan()


def _prepare(item: pytest.Item, info: TestInfo, state: RunState) -> None:
    item.stash[_INFO] = info
    item.user_properties.append(("area", info.area))
    item.user_properties.append(("requirements", " ".join(info.requirements)))
    config = item.config
    if info.spends and config.pluginmanager.hasplugin("xdist"):
        item.add_marker(pytest.mark.xdist_group(f"spends-{'-'.join(info.spends)}"))
    missing = undeclared_capabilities(info, state.target)
    if missing:
        item.add_marker(pytest.mark.skip(reason=capability_skip_reason(missing)))
    if state.allure:
        _allure_labels(item, info, state)


def _allure_labels(item: pytest.Item, info: TestInfo, state: RunState) -> None:
    levels = [state.level(r) for r in info.requirements]
    severity = "critical" if "MUST" in levels or not levels else "normal"
    item.add_marker(pytest.mark.allure_label(info.area, label_type="epic"))
    if info.endpoint:
        item.add_marker(pytest.mark.allure_label(info.endpoint, label_type="feature"))
    for rid in info.requirements:
        item.add_marker(pytest.mark.allure_label(rid, label_type="story"))
    item.add_marker(pytest.mark.allure_label(severity, label_type="severity"))


# ─── running one test ────────────────────────────────────────────────────────


def _clean_nodeid(item: pytest.Item) -> str:
    """The node id without pytest-xdist's ``@group`` suffix (stable across -n)."""
    nodeid = item.nodeid
    if item.get_closest_marker("xdist_group") is not None and "@" in nodeid:
        nodeid = nodeid.rsplit("@", 1)[0]
    return nodeid


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, Any, Any]:
    info = item.stash.get(_INFO, None)
    state = item.config.stash.get(_STATE, None)
    if info is None or state is None:
        return (yield)
    recorder = RequirementRecorder(
        _clean_nodeid(item), list(info.requirements), state.level, state.is_known
    )
    item.stash[_ITEM] = _ItemState(recorder)
    try:
        return (yield)
    finally:
        _write_record(item, info, state)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, Any, Any]:
    """A fixture that needs a key the run lacks skips the test, naming the variable."""
    try:
        return (yield)
    except MissingKey as exc:
        skip_for_missing_key(exc)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """After the body: recorded check failures fail the test, all listed.

    A body that needs a key the run lacks is skipped, naming the variable to set.
    """
    tracked = item.stash.get(_ITEM, None)
    try:
        try:
            result = yield
        except MissingKey as exc:
            skip_for_missing_key(exc)
        if tracked is not None:
            messages = tracked.recorder.failure_messages()
            if messages:
                raise RecordedFailures(messages)
        return result
    finally:
        if tracked is not None and _state(item.config).allure:
            _allure_attach(tracked.recorder)


def _allure_attach(recorder: RequirementRecorder) -> None:
    import allure

    for number, text in enumerate(recorder.transcripts, start=1):
        allure.attach(
            text, name=f"exchange {number}", attachment_type=allure.attachment_type.TEXT
        )
    for note in recorder.notes:
        allure.attach(note, name="note", attachment_type=allure.attachment_type.TEXT)


def _phase_text(report: pytest.TestReport, exc: BaseException | None) -> str:
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return redact.scrub(reason.removeprefix("Skipped: "))
    if isinstance(exc, CheckFailure):
        return redact.scrub(exc.message)
    if isinstance(exc, RecordedFailures):
        return redact.scrub(str(exc))
    if exc is not None:
        return redact.scrub(f"{type(exc).__name__}: {exc}".strip())
    return ""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    exc = call.excinfo.value if call.excinfo is not None else None
    tracked = item.stash.get(_ITEM, None)
    if tracked is not None:
        text = _phase_text(report, exc)
        tracked.phases[call.when] = Phase(call.when, report.outcome, exc, text)
        if tracked.recorder.unresolved:  # no evidence: an error, whatever pytest says
            report.qbtsuite_no_evidence = True  # type: ignore[attr-defined]
    if isinstance(exc, RecordedFailures):
        report.longrepr = str(exc)  # the messages say it all; the hook is noise
    _scrub_report(report)
    return report


def _scrub_report(report: pytest.TestReport) -> None:
    """Keep keys out of everything pytest prints or writes (terminal, JUnit)."""
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        clean = redact.scrub(text)
        if clean != text:
            report.longrepr = clean
    report.sections = [(title, redact.scrub(body)) for title, body in report.sections]


def _write_record(item: pytest.Item, info: TestInfo, state: RunState) -> None:
    tracked = item.stash[_ITEM]
    recorder = tracked.recorder
    claimed = claimed_capability(info, state.target)
    result = classify(tracked.phases, recorder, claimed)
    if state.records_dir is None:
        return
    if recorder.paced_seconds >= 1 and state.target is not None:
        recorder.note(
            f"paced: waited {recorder.paced_seconds:.0f} s to keep the main key under "
            f"its declared {state.target.main_key_rpm} requests per minute"
        )
    record = {
        "nodeid": recorder.nodeid,
        "area": info.area,
        "endpoint": info.endpoint,
        "worker": state.worker,
        "outcome": result.outcome.value,
        "reason": result.reason,
        "requirements": {
            rid: {"outcome": r.outcome.value, "messages": r.messages}
            for rid, r in result.requirements.items()
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tracked.started)),
        "duration": round(time.monotonic() - tracked.t0, 4),
        "notes": recorder.notes,
        "transcripts": recorder.transcripts,
        "omitted_transcripts": recorder.omitted,
        "retries": recorder.retries,
        "throttle": recorder.throttle,
        "paced": round(recorder.paced_seconds, 3),
    }
    append_record(state.records_dir / f"{state.worker}.jsonl", record)


# ─── end of the run ──────────────────────────────────────────────────────────


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The resolution's notices (endpoints without a model) above the run."""
    state = config.stash.get(_STATE, None)
    return [f"qbtsuite notice: {n}" for n in state.notices] if state else []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is not None and not hasattr(session.config, "workerinput"):
        state.finish(session.config)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or hasattr(config, "workerinput"):
        return
    for line in state.summary_lines():
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None and not hasattr(config, "workerinput"):
        state.scrub_outputs(config)


# ─── fixtures ────────────────────────────────────────────────────────────────


@pytest.fixture(scope="session")
def target_config(pytestconfig: pytest.Config) -> TargetConfig:
    """The target of this run (base URL, keys as secrets, models, limits)."""
    target = _state(pytestconfig).target
    if target is None:
        raise RuntimeError("no target in a dry run or collect-only run")
    return target


@pytest.fixture(scope="session")
def qbt_session_client(
    pytestconfig: pytest.Config, target_config: TargetConfig
) -> Iterator[SuiteClient]:
    """One connection pool, one request budget and one throttle allowance for this
    process (the budget and the allowance shared with the run's other processes)."""
    state = _state(pytestconfig)
    budget: RequestBudget
    allowance = None
    if state.records_dir is not None:
        budget = SharedBudget(
            target_config.request_budget, state.records_dir / "budget"
        )
        allowance = SharedWaitAllowance(
            target_config.max_throttle_wait, state.records_dir / "throttle-wait"
        )
    else:
        budget = RequestBudget(target_config.request_budget)
    throttle = throttle_for(target_config, allowance)
    client = SuiteClient(target_config, budget=budget, throttle=throttle)
    yield client
    client.close()


@pytest.fixture
def record(request: pytest.FixtureRequest) -> RequirementRecorder:
    """This test's recorder: ``with record.check("ID"): ...``, ``note``, ``attach``."""
    tracked = request.node.stash.get(_ITEM, None)
    if tracked is None:
        state = _state(request.config)
        nodeid = request.node.nodeid
        return RequirementRecorder(nodeid, [], state.level, state.is_known)
    recorder: RequirementRecorder = tracked.recorder
    return recorder


@pytest.fixture
def api(
    request: pytest.FixtureRequest,
    qbt_session_client: SuiteClient,
    record: RequirementRecorder,
) -> SuiteClient:
    """The client for the main key; every exchange is attached to this test's record.

    Throttle answers of keys the test does not spend (marker ``spends``) are waited
    out or make the test an error; the spent keys' answers reach the test as they are.
    """
    info = request.node.stash.get(_INFO, None)
    spends = frozenset(info.spends) if info is not None else frozenset()
    return qbt_session_client.bind(
        on_exchange=record.attach,
        on_retry=record.retried,
        on_throttle=record.throttled,
        on_pace=record.paced,
        policy=ThrottlePolicy(spends),
    )
