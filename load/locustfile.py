"""qbtsuite's Locust entry point: users, the profile shape and the sample pipeline.

Run through ``qbtsuite load PROFILE`` (which writes the plan, starts the processes and
turns the samples into a report). By hand, the plan comes from ``--qbt-plan`` or the
``QBTSUITE_LOAD_PLAN`` environment variable (JSON, as ``qbtsuite load`` writes it to
``plan.json``) and the keys from ``QBTSUITE_LOAD_KEYS`` (``{"main": "qbt_..."}``):

    QBTSUITE_LOAD_PLAN="$(cat reports/…/plan.json)" QBTSUITE_LOAD_KEYS=… \\
        locust -f load/locustfile.py --headless ChatStreamUser
"""

from __future__ import annotations

# isort: off
import locust  # noqa: F401  first: it monkey-patches the standard library for gevent

# isort: on

import time
from collections.abc import Callable
from typing import Any

from locust import events
from locust import log as locust_log
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from qbtlocust.collector import Collector
from qbtlocust.context import PLAN_ENV, RunContext, read_keys
from qbtlocust.ratelimit import RateLimitUser
from qbtlocust.shape import ProfileShape
from qbtlocust.users import (
    ChatStreamUser,
    ChatUser,
    CompletionStreamUser,
    CompletionUser,
    EmbeddingsUser,
    ImagesUser,
    MixedUser,
    TranscriptionUser,
    bind,
)
from qbtsuite.loadtest.plan import Plan

__all__ = [
    "ChatStreamUser",
    "ChatUser",
    "CompletionStreamUser",
    "CompletionUser",
    "EmbeddingsUser",
    "ImagesUser",
    "MixedUser",
    "ProfileShape",
    "RateLimitUser",
    "TranscriptionUser",
]


_START = "qbt_start"  # master → workers: the shared t0, sent before the spawn jobs


class _State:
    plan: Plan | None = None
    collector: Collector | None = None
    t0: float | None = None  # worker: the master's test start (epoch seconds)


def _read_plan(environment: Environment) -> Plan:
    text = getattr(environment.parsed_options, "qbt_plan", "") or ""
    if not text:
        raise RuntimeError(f"no load plan: pass --qbt-plan or set {PLAN_ENV}")
    return Plan.from_json(text)


def _options(parser: Any, **_: Any) -> None:
    parser.add_argument(
        "--qbt-plan",
        env_var=PLAN_ENV,
        default="",
        help="qbtsuite load plan as JSON (written by 'qbtsuite load')",
        include_in_web_ui=False,
    )


def _init(environment: Environment, **_: Any) -> None:
    collector = Collector(environment)
    collector.register()
    _State.collector = collector
    if isinstance(environment.runner, WorkerRunner):
        environment.runner.register_message(_START, _on_start)
    if not isinstance(environment.runner, WorkerRunner):
        _State.plan = _read_plan(environment)
    ProfileShape.plan_source = staticmethod(lambda: _State.plan)
    ProfileShape.idle_source = staticmethod(collector.all_idle)


def _on_start(environment: Environment, msg: Any, **_: Any) -> None:
    _State.t0 = float((msg.data or {}).get("t0", time.time()))


def _test_start(environment: Environment, **_: Any) -> None:
    plan = _State.plan = _read_plan(environment)
    collector = _State.collector
    assert collector is not None
    runner = environment.runner
    distributed = isinstance(runner, MasterRunner | WorkerRunner)
    count = int(getattr(environment.parsed_options, "expect_workers", 1) or 1)
    count = count if distributed else 1
    t0 = time.time()
    if not isinstance(runner, WorkerRunner):
        collector.open(plan.samples_path, count, t0)
    if isinstance(runner, MasterRunner):
        # One clock for the timeline: workers get it before their spawn jobs.
        runner.send_message(_START, {"t0": t0})
        return  # the master sends no requests; it writes what workers send
    if isinstance(runner, WorkerRunner):
        proc, t0 = runner.worker_index, _State.t0 or t0
    else:
        proc = 0
    context = RunContext(plan, read_keys(), proc, count, t0)
    bind(context, collector)
    collector.start(context)


def _test_stop(environment: Environment, **_: Any) -> None:
    if _State.collector is not None:
        _State.collector.stop()


def _quitting(environment: Environment, **_: Any) -> None:
    if _State.collector is not None:
        _State.collector.close()
    runner = environment.runner
    failed = bool(runner is not None and runner.exceptions)
    # Failed requests are figures, not a Locust error; our own exceptions are.
    environment.process_exit_code = (
        1 if failed or locust_log.unhandled_greenlet_exception else 0
    )


def _listen(hook: Any, handler: Callable[..., None]) -> None:
    hook.add_listener(handler)


_listen(events.init_command_line_parser, _options)
_listen(events.init, _init)
_listen(events.test_start, _test_start)
_listen(events.test_stop, _test_stop)
_listen(events.quitting, _quitting)
