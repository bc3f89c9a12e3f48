"""The conformance suite's pytest plugin (``conformance/conftest.py`` loads it).

It owns the run: options (``--qbt-*``), the target (the embedded reference server when
no base URL is given, started once on the controller and handed to pytest-xdist
workers), selection by profile/area/requirement, the fixtures conformance tests use
(``target_config``, ``api``, ``record``), per-requirement outcomes of every test, one
JSON-lines file of records per process and their merge into ``results.json``.

Conformance tests are the tests marked ``requirement(...)``; other tests collected in
the same session are left alone (no records, no selection unless one is asked).

Every process of the run (the controller and each pytest-xdist worker) handles SIGTERM
and SIGINT (:mod:`qbtsuite.process.shutdown`): the test under way is cut short and leaves no
record, the controller tells the workers, and ``results.json`` is written with the
verdict ``interrupted``.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qbtsuite import redact
from qbtsuite.capabilities import CAPABILITIES
from qbtsuite.errors import CheckFailure, ConfigError, MissingKey, TargetUnreachable
from qbtsuite.exitcodes import ExitCode
from qbtsuite.harness import xdist_groups
from qbtsuite.harness.classify import Classified, Phase, classify
from qbtsuite.harness.options import add_pytest_options
from qbtsuite.harness.recording import RecordedFailures, RequirementRecorder
from qbtsuite.harness.selection import (
    MARKERS,
    TestInfo,
    capability_skip_reason,
    claimed_capability,
    gated_requirements,
    info_for,
    requirement_ids,
    spend_plan,
    undeclared_capabilities,
    unknown_capability_marks,
)
from qbtsuite.harness.selection import select as select_items
from qbtsuite.harness.signals import skip_for_missing_key
from qbtsuite.harness.state import RunState, controller_state, worker_state
from qbtsuite.harness.wiretap import REPLAY, session_transport
from qbtsuite.process import shutdown
from qbtsuite.reporting.allure import write_allure_extras
from qbtsuite.results.model import Interruption, RequirementCheck, TestRecord
from qbtsuite.results.outcomes import Outcome, combine
from qbtsuite.results.store import append_record
from qbtsuite.target.breaker import Breaker, SharedBreaker, breaker_file
from qbtsuite.target.budget import RequestBudget, SharedBudget
from qbtsuite.target.client import SuiteClient, build_http_client
from qbtsuite.target.config import TargetConfig
from qbtsuite.target.taping import RecordingTransport
from qbtsuite.target.throttle import SharedWaitAllowance, ThrottlePolicy, throttle_for
from qbtsuite.target.wirelog import set_current_test

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
    _handle_signals(config)
    if not config.pluginmanager.is_registered(xdist_groups):
        config.pluginmanager.register(xdist_groups, "qbtsuite-xdist-groups")
    try:
        if hasattr(config, "workerinput"):
            state = worker_state(config)
        else:
            state = controller_state(config)
    except ConfigError as exc:  # one line, exit 2, as `qbtsuite run` gives it
        pytest.exit(f"error: {exc}", returncode=ExitCode.USAGE)
    except TargetUnreachable as exc:
        pytest.exit(str(exc), returncode=ExitCode.UNREACHABLE)
    config.stash[_STATE] = state


def _handle_signals(config: pytest.Config) -> None:
    """SIGTERM/SIGINT unwind this process's session (a no-op scope inside
    ``qbtsuite run``, which handles them already). A worker ignores a second signal:
    the controller stops it."""
    worker = hasattr(config, "workerinput")
    if worker:
        config.add_cleanup(_leave_if_interrupted)  # the very last cleanup
    scope = contextlib.ExitStack()
    scope.enter_context(shutdown.handling_signals(kill_on_second=not worker))
    config.add_cleanup(scope.close)
    config.pluginmanager.register(_InterruptWatch(config), "qbtsuite-interrupts")


def _leave_if_interrupted() -> None:
    """An interrupted worker has sent its last report and written its records: it
    exits at once instead of tearing the interpreter down (a second or two, while the
    controller waits for it)."""
    stopped = shutdown.received()
    if stopped is not None:
        shutdown.exit_now(stopped.exit_code)


def _interruption(exc: BaseException) -> Interruption | None:
    """What ended the session, if it was an interrupt rather than a test result."""
    stopped = shutdown.received()
    if stopped is not None:
        return Interruption(stopped.signal_name)
    # Ctrl-C where no handler was installed, or pytest-xdist's word that a worker got
    # one ("gwN received keyboard-interrupt"); its other stops (-x, collection
    # errors) are no interrupt.
    if type(exc) is KeyboardInterrupt or "keyboard-interrupt" in str(exc):
        return Interruption(None)
    return None


class _InterruptWatch:
    """Notes an interrupted session in the run state (the hook gets no config); on
    the controller, tells the workers and marks the JUnit file."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> None:
        state = self.config.stash.get(_STATE, None)
        if state is not None and isinstance(excinfo.value, KeyboardInterrupt):
            state.interrupted = _interruption(excinfo.value)
            # pytest's log shows where it stopped; rendering every frame with its
            # arguments takes seconds of the 5 s a stop may take.
            excinfo.traceback = excinfo.traceback[-1:]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """First of all: pytest-xdist waits up to 10 s for busy workers; a signal
        ends their test at once. JUnit is written before the results are merged."""
        config = self.config
        state = config.stash.get(_STATE, None)
        if state is None or state.interrupted is None or hasattr(config, "workerinput"):
            return
        if config.pluginmanager.has_plugin("dsession"):
            shutdown.signal_group_children(signal.SIGTERM)
        _mark_junit(config, state.interrupted)


def _mark_junit(config: pytest.Config, interrupted: Interruption) -> None:
    """Suite properties say that the JUnit file holds an interrupted run (through
    pytest's own JUnit writer, which has no public handle; without it, no mark)."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:
        return
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        xml.add_global_property("qbtsuite_verdict", "interrupted")
        xml.add_global_property("qbtsuite_interrupted_by", interrupted.signal or "?")


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
    """A test naming an unknown requirement id or capability is a collection error
    of its module."""
    report = yield
    state = collector.config.stash.get(_STATE, None)
    if state is None or report.outcome != "passed":
        return report
    problems, hints = [], []
    for node in report.result or []:
        if not isinstance(node, pytest.Item):
            continue
        if state.catalogue:
            unknown = [r for r in requirement_ids(node) if r not in state.catalogue]
            problems += [
                f"{node.nodeid}: unknown requirement id {r!r}" for r in unknown
            ]
            if unknown:
                where = state.catalogue_path or "the requirements catalogue"
                hints.append(f"(every id must be listed in {where})")
        names = unknown_capability_marks(node)
        problems += [f"{node.nodeid}: unknown capability {n!r}" for n in names]
        if names:
            hints.append(f"(known capabilities: {', '.join(CAPABILITIES)})")
    if problems:
        report.outcome = "failed"
        report.longrepr = "\n".join([*problems, *dict.fromkeys(hints)])
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
        known_areas={r.area for r in state.catalogue.values()},
        known_ids=state.catalogue,
        skip_areas=config.getoption("qbt_skip_area"),
        skip_requirements=config.getoption("qbt_skip_requirement"),
    )
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    for item in items:
        if item in infos:
            _prepare(item, infos[item], state)
    # Tests spending a key of their own (the rate-limit scenario waits more than a
    # window) go first: under xdist their group's worker starts on them while the
    # other workers take everything else, instead of the run waiting for them at
    # its end. The sort is stable and the same in every process.
    items.sort(key=lambda item: not (item in infos and infos[item].spends))


def pytest_collection_finish(session: pytest.Session) -> None:
    """The dry-run plan, of the tests left after every selection (-k and -m too)."""
    state = session.config.stash.get(_STATE, None)
    if state is None or not state.dry_run or hasattr(session.config, "workerinput"):
        return
    items = session.items
    infos = {item: item.stash[_INFO] for item in items if _INFO in item.stash}
    state.plan = spend_plan(items, infos, state.profile, state.selection)
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
    # The suites tree (Allure 2 "Suites", Allure 3's default) by area → requirement,
    # not by file: parentSuite and suite given here replace allure-pytest's own. A
    # test has one suite, its first requirement; every one is a story.
    item.add_marker(pytest.mark.allure_label(info.area, label_type="parentSuite"))
    if info.requirements:
        item.add_marker(
            pytest.mark.allure_label(info.requirements[0], label_type="suite")
        )
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
    set_current_test(recorder.nodeid)
    try:
        result = yield
    except KeyboardInterrupt:  # cut short: it checked nothing, it is not_checked
        _forget(item)
        raise
    except BaseException:
        _write_record(item, info, state)
        _forget(item)
        raise
    _write_record(item, info, state)
    _forget(item)
    return result


def _forget(item: pytest.Item) -> None:
    """Items live as long as the session: their exceptions' tracebacks would keep
    every frame's answers (bodies of up to the size cap) until the end."""
    if _ITEM in item.stash:
        del item.stash[_ITEM]


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
    state = _state(item.config)
    try:
        try:
            result = yield
        except MissingKey as exc:
            skip_for_missing_key(exc)
        except CheckFailure as exc:
            # A violation of SHOULD requirements only is a warning: the test passes
            # (for -x, --lf, JUnit and Allure as for the exit code) unless --strict.
            if tracked is None or not tracked.recorder.tolerate(exc, state.strict):
                raise
            result = None
        if tracked is not None:
            messages = tracked.recorder.failure_messages(strict=state.strict)
            if messages:
                raise RecordedFailures(messages)
        return result
    finally:
        if tracked is not None and state.allure:
            _allure_attach(tracked.recorder)


def _allure_attach(recorder: RequirementRecorder) -> None:
    import allure

    for number, text in enumerate(recorder.transcripts, start=1):
        allure.attach(
            text, name=f"exchange {number}", attachment_type=allure.attachment_type.TEXT
        )
    for note in recorder.notes:
        allure.attach(note, name="note", attachment_type=allure.attachment_type.TEXT)
    for warning in recorder.warning_messages():
        allure.attach(
            warning,
            name="warning (SHOULD)",
            attachment_type=allure.attachment_type.TEXT,
        )


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
        if call.when == "call":
            report.user_properties += [
                ("warning", w) for w in tracked.recorder.warning_messages()
            ]
        if call.when == "teardown":  # the test's outcome, for the progress lines
            report.user_properties.append(("outcome", _classified(item).outcome.value))
        if tracked.recorder.unresolved:  # no evidence: an error, whatever pytest says
            report.qbtsuite_no_evidence = True  # type: ignore[attr-defined]
    if isinstance(exc, RecordedFailures):
        report.longrepr = str(exc)  # the messages say it all; the hook is noise
    _scrub_report(report)
    return report


def _classified(item: pytest.Item) -> Classified:
    """The test's outcomes, from its phases so far (once the teardown has ended)."""
    tracked = item.stash[_ITEM]
    state = _state(item.config)
    claimed = claimed_capability(item.stash[_INFO], state.target)
    return classify(tracked.phases, tracked.recorder, claimed)


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
    result = _classified(item)
    if state.records_dir is None:
        return
    if recorder.paced_seconds >= 1 and state.target is not None:
        recorder.note(
            f"paced: waited {recorder.paced_seconds:.0f} s to keep the main key under "
            f"its declared {state.target.main_key_rpm} requests per minute"
        )
    checks = dict(result.requirements)
    gated = gated_requirements(checks, state.catalogue, state.target)
    checks.update(
        {rid: RequirementCheck(Outcome.SKIPPED, (why,)) for rid, why in gated.items()}
    )
    outcome = combine([c.outcome for c in checks.values()]) if gated else result.outcome
    record = TestRecord(
        nodeid=recorder.nodeid,
        area=info.area,
        endpoint=info.endpoint,
        worker=state.worker,
        outcome=outcome,
        reason=result.reason,
        requirements=checks,
        started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tracked.started)),
        duration=round(time.monotonic() - tracked.t0, 4),
        notes=tuple(recorder.notes),
        transcripts=tuple(recorder.transcripts),
        omitted_transcripts=recorder.omitted,
        retries=tuple(recorder.retries),
        throttle=tuple(recorder.throttle),
        paced=round(recorder.paced_seconds, 3),
    )
    with shutdown.deferred():  # never half a line: the merge reads every line
        append_record(state.records_dir, record)


# ─── end of the run ──────────────────────────────────────────────────────────


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The resolution's notices (endpoints without a model) above the run."""
    state = config.stash.get(_STATE, None)
    return [f"qbtsuite notice: {n}" for n in state.notices] if state else []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Controller: merge every process's records into ``results.json`` (pytest-xdist
    has stopped its workers by now: every record is complete)."""
    state = session.config.stash.get(_STATE, None)
    if state is not None and not hasattr(session.config, "workerinput"):
        with shutdown.deferred():
            state.finish(session.config)
        allure_dir = getattr(session.config.option, "allure_report_dir", None)
        if allure_dir and state.results is not None:
            write_allure_extras(Path(allure_dir), state.results)


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
    """One connection pool for this process; the request budget, the breaker and the
    throttle allowance are shared by every process of the run."""
    state = _state(pytestconfig)
    budget: RequestBudget
    breaker: Breaker
    allowance = None
    limit = target_config.no_answer_limit
    if state.records_dir is not None and state.results_dir is not None:
        budget = SharedBudget(
            target_config.request_budget, state.records_dir / "budget"
        )
        breaker = SharedBreaker(limit, breaker_file(state.results_dir))
        allowance = SharedWaitAllowance(
            target_config.max_throttle_wait, state.records_dir / "throttle-wait"
        )
    else:
        budget = RequestBudget(target_config.request_budget)
        breaker = Breaker(limit)
    replay = pytestconfig.stash.get(REPLAY, None)
    tapes: list[RecordingTransport] = []

    def recorded(inner: httpx.BaseTransport) -> httpx.BaseTransport:
        transport = session_transport(
            target_config, inner, state.results_dir, state.worker, replay
        )
        if isinstance(transport, RecordingTransport):
            tapes.append(transport)
        return transport

    http = build_http_client(target_config, wrap=recorded)
    throttle = throttle_for(target_config, allowance)
    client = SuiteClient(
        target_config, http=http, budget=budget, breaker=breaker, throttle=throttle,
        recording=tapes[0] if tapes else None,
    )  # fmt: skip
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
